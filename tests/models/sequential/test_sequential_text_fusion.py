"""Item text: cold items are scored from their text, and new items join without retraining."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models import load_model
from driftrec.models.sequential import SequentialConfig, SequentialRecommender
from driftrec.workflows.prepare import Prepared

Tiny = Callable[..., SequentialConfig]
COLD = np.array([5, 6, 7, 8], dtype=np.int64)


@pytest.fixture(scope="module")
def cold_setup(shop: Prepared, shop_text: np.ndarray) -> tuple[InteractionLog, np.ndarray]:
    """The shop's training log without items 5..8; item 6 has item 5's text, 7 and 8 their own."""
    train = shop.split.train
    log = train.mask(~np.isin(train.item, COLD))
    text = shop_text.copy()
    text[6] = text[5]
    return log, text


@pytest.mark.parametrize(("fusion", "op"), [("text", "gate"), ("id+text", "gate"), ("id+text", "sum")])
def test_items_never_seen_in_training_are_scored_from_their_text(
    cold_setup: tuple[InteractionLog, np.ndarray], tiny: Tiny, fusion: str, op: str
) -> None:
    log, text = cold_setup
    model = SequentialRecommender(tiny(fusion=fusion, fusion_op=op, epochs=2), item_text=text).fit(log)
    hist = log.histories().take(np.arange(20))
    scores = model.score(hist)
    assert np.isfinite(scores[:, COLD]).all()
    np.testing.assert_allclose(scores[:, 6], scores[:, 5], rtol=1e-5)  # same text, same score
    assert not np.allclose(scores[:, 7], scores[:, 5])  # other text, other score
    # a cold item's vector is its text projection alone, never a mix with an untrained id row
    network = model.network
    with torch.no_grad():
        table = network.item_table()
        assert network.items.project is not None
        projected = network.items.project(torch.from_numpy(text[COLD]))
    torch.testing.assert_close(table[torch.from_numpy(COLD)], projected)


def test_add_items_makes_a_new_item_recommendable_without_retraining(
    shop: Prepared, shop_text: np.ndarray, tiny: Tiny, tmp_path: Path
) -> None:
    model = SequentialRecommender(tiny(fusion="id+text", epochs=2), item_text=shop_text).fit(shop.split.train)
    before = {k: v.clone() for k, v in model.network.state_dict().items() if k != "items.ids.weight"}
    hist = shop.split.test.histories.take(np.arange(10))
    top = model.recommend(hist, k=1)[:, 0]
    n_items = shop.log.n_items
    # new item n+1 has the text of user 0's top item; new item n+2 a text far from everything
    new_text = np.stack([shop_text[top[0]], 50 * np.ones(shop_text.shape[1], np.float32)])
    new_ids = model.add_items(new_text)
    assert new_ids.tolist() == [n_items + 1, n_items + 2] and model.n_items == n_items + 2
    scores = model.score(hist)
    assert scores.shape == (10, n_items + 3) and np.isfinite(scores[:, 1:]).all()
    recs = model.recommend(hist.take(np.array([0])), k=2)[0].tolist()
    assert n_items + 1 in recs  # as good as the item whose text it shares (their id parts differ)
    # trained weights untouched, histories may now contain the new item, and it survives save/load
    for key, value in before.items():
        if value.shape == model.network.state_dict()[key].shape:
            torch.testing.assert_close(model.network.state_dict()[key], value)
    with_new = Histories.from_lists([[1, 2, n_items + 1]])
    assert np.isfinite(model.score(with_new)[:, 1:]).all()
    model.save(tmp_path)
    np.testing.assert_array_equal(load_model(tmp_path).score(hist), scores)


def test_add_items_in_text_mode_gives_the_twin_exactly_its_score(
    shop: Prepared, shop_text: np.ndarray, tiny: Tiny
) -> None:
    model = SequentialRecommender(tiny(fusion="text", epochs=1), item_text=shop_text).fit(shop.split.train)
    hist = shop.split.test.histories.take(np.arange(5))
    (new,) = model.add_items(shop_text[[42]])
    scores = model.score(hist)
    np.testing.assert_allclose(scores[:, new], scores[:, 42], rtol=1e-6)


def test_text_errors(shop: Prepared, shop_text: np.ndarray, tiny: Tiny) -> None:
    with pytest.raises(ValueError, match="fusion 'text' needs item_text"):
        SequentialRecommender(tiny(fusion="text"))
    with pytest.raises(
        ValueError, match=r"item_text has 5 rows; the log's catalogue needs n_items \+ 1 = 301"
    ):
        SequentialRecommender(tiny(fusion="text"), item_text=shop_text[:5]).fit(shop.split.train)
    with pytest.raises(ValueError, match="must be finite"):
        SequentialRecommender(tiny(fusion="text"), item_text=np.full((3, 2), np.nan))
    plain = SequentialRecommender(tiny(epochs=1)).fit(shop.split.train)
    with pytest.raises(ValueError, match="add_items needs a model with fusion 'text' or 'id\\+text'"):
        plain.add_items(shop_text[:2])
    model = SequentialRecommender(tiny(fusion="text", epochs=1), item_text=shop_text).fit(shop.split.train)
    with pytest.raises(ValueError, match=r"new text vectors must have shape \(n_new, 16\)"):
        model.add_items(np.zeros((2, 3), np.float32))


def test_mlp_projection_trains(shop: Prepared, shop_text: np.ndarray, tiny: Tiny) -> None:
    config = tiny(fusion="text", text_projection="mlp", epochs=2)
    model = SequentialRecommender(config, item_text=shop_text).fit(shop.split.train)
    assert model.history is not None and model.history.losses[-1] < model.history.losses[0]


def test_id_dropout_switches_a_share_of_items_to_text_only_while_training(
    cold_setup: tuple[InteractionLog, np.ndarray], tiny: Tiny
) -> None:
    log, text = cold_setup
    model = SequentialRecommender(tiny(fusion="id+text", id_dropout=0.5, epochs=2), item_text=text).fit(log)
    assert model.history is not None and model.history.losses[-1] < model.history.losses[0]
    items = model.network.items
    assert items.project is not None
    with torch.no_grad():
        text_only = items.project(items.get_buffer("text"))
        items.eval()
        fused = items.table()
        torch.testing.assert_close(items.table(), fused)  # no randomness at inference
        items.train()
        torch.manual_seed(0)
        dropped = items.table()
        items.eval()
    warm = items.get_buffer("has_id").clone()
    warm[0] = False
    as_text = torch.isclose(dropped, text_only).all(dim=1) & ~torch.isclose(fused, text_only).all(dim=1)
    share = float(as_text[warm].float().mean())
    assert 0.35 < share < 0.65  # about half of the trained items lose their id part in a training step
    torch.testing.assert_close(dropped[torch.from_numpy(COLD)], text_only[torch.from_numpy(COLD)])


def test_id_dropout_is_validated() -> None:
    with pytest.raises(ValueError, match=r"id_dropout must be a number in \[0, 1\)"):
        SequentialConfig(fusion="id+text", id_dropout=1.0)
    with pytest.raises(ValueError, match="id_dropout needs fusion 'id\\+text'"):
        SequentialConfig(fusion="id", id_dropout=0.2)
