"""Time-interval, category and behaviour embeddings switch on, train, and change what the model says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models import load_model
from driftrec.models.sequential import SequentialConfig, SequentialRecommender
from driftrec.workflows.prepare import Prepared

Tiny = Callable[..., SequentialConfig]


@pytest.fixture(scope="module")
def with_events(shop: Prepared) -> InteractionLog:
    """The shop's training log with random behaviour types (first-interaction logs hold only views)."""
    train = shop.split.train
    events = np.random.default_rng(0).integers(0, 5, len(train)).astype(np.int8)
    return replace(train, event=events)


def histories(log: InteractionLog, n: int = 20) -> Histories:
    return log.histories().take(np.arange(n))


@pytest.mark.parametrize("objective", ["causal", "masked"])
def test_time_intervals_change_scores_with_the_gaps(shop: Prepared, tiny: Tiny, objective: str) -> None:
    log = shop.split.train
    model = SequentialRecommender(tiny(objective=objective, time_intervals=True, epochs=2)).fit(log)
    hist = histories(log)
    assert hist.ts is not None
    stretched = Histories(hist.user, hist.offsets, hist.items, hist.ts * 1000, hist.event)
    assert not np.allclose(model.score(hist), model.score(stretched))
    no_time = Histories(hist.user, hist.offsets, hist.items)
    assert np.isfinite(model.score(no_time)[:, 1:]).all()


def test_behaviours_change_scores_with_the_event_types(with_events: InteractionLog, tiny: Tiny) -> None:
    model = SequentialRecommender(tiny(behaviours=True, epochs=2)).fit(with_events)
    hist = histories(with_events)
    assert hist.event is not None
    as_purchases = Histories(hist.user, hist.offsets, hist.items, hist.ts, np.full_like(hist.event, 4))
    assert not np.allclose(model.score(hist), model.score(as_purchases))


def test_categories_change_scores(shop: Prepared, shop_categories: np.ndarray, tiny: Tiny) -> None:
    log = shop.split.train
    model = SequentialRecommender(tiny(categories=True, epochs=2), item_category=shop_categories).fit(log)
    hist = histories(log)
    before = model.score(hist)
    category = model.network.features.category
    assert category is not None and category.num_embeddings == shop_categories.max() + 1
    with torch.no_grad():
        category.weight.zero_()
    assert not np.allclose(model.score(hist), before)


def test_all_features_together_train_and_round_trip(
    with_events: InteractionLog,
    shop_categories: np.ndarray,
    shop_text: np.ndarray,
    tiny: Tiny,
    tmp_path: Path,
) -> None:
    config = tiny(
        objective="masked", time_intervals=True, behaviours=True, categories=True, fusion="id+text", epochs=2
    )
    model = SequentialRecommender(config, item_text=shop_text, item_category=shop_categories).fit(with_events)
    assert model.history is not None and model.history.losses[-1] < model.history.losses[0]
    new = model.add_items(shop_text[[3, 4]], categories=shop_categories[[3, 4]])
    hist = Histories.from_lists([[1, 2, int(new[0])], [int(new[1])]])
    assert np.isfinite(model.score(hist)[:, 1:]).all()
    model.save(tmp_path)
    np.testing.assert_array_equal(load_model(tmp_path).score(hist), model.score(hist))


def test_category_feature_needs_the_array(tiny: Tiny) -> None:
    with pytest.raises(ValueError, match="categories=True needs item_category"):
        SequentialRecommender(tiny(categories=True))


def test_category_array_must_match_the_catalogue(shop: Prepared, tiny: Tiny) -> None:
    model = SequentialRecommender(tiny(categories=True), item_category=np.zeros(4, np.int64))
    with pytest.raises(
        ValueError, match=r"item_category has 4 entries; the log's catalogue needs n_items \+ 1"
    ):
        model.fit(shop.split.train)
