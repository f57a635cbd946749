"""The CTR ranker learns clicks on a tiny synthetic shop, saves/loads exactly, and serves candidates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from driftrec.data.interactions import Histories
from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.evaluation.ctr import ctr_metrics
from driftrec.models.ctr import CTRConfig, CTRRanker, load_ranker
from driftrec.ranking.impressions import CTRTask, ctr_task, split_by_time
from driftrec.training.config import TrainingConfig


@pytest.fixture(scope="module")
def task() -> CTRTask:
    return ctr_task(generate(SyntheticShopConfig(n_users=150, n_items=120, days=30, seed=5)).dataset)


def _config(architecture: str) -> CTRConfig:
    training = TrainingConfig(
        epochs=3, batch_size=256, lr=3e-3, patience=0, monitor="AUC@valid", num_threads=1, seed=1
    )
    return CTRConfig(architecture=architecture, embed_dim=8, max_len=10, hidden=(16,), training=training)  # type: ignore[arg-type]


@pytest.mark.parametrize("architecture", ["mlp", "din", "dien"])
def test_ranker_beats_random_on_the_synthetic_shop(task: CTRTask, architecture: str, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    train, valid, test, _ = split_by_time(task.impressions, 0.1, 0.2)
    ranker = CTRRanker(
        _config(architecture),
        item_category=task.attributes.category,
        item_price_level=task.attributes.price_level,
    ).fit(task.log, train, valid)
    probs = ranker.predict(task.log, test)
    metrics = ctr_metrics(test.get_column("label").to_numpy(), probs, test.get_column("user").to_numpy())
    assert metrics["AUC"] > 0.62, metrics
    assert probs.min() > 0 and probs.max() < 1
    if architecture == "dien":  # persistence: identical predictions after a round trip
        ranker.save(tmp_path / "ranker")
        again = load_ranker(tmp_path / "ranker")
        np.testing.assert_allclose(again.predict(task.log, test), probs, atol=1e-6)
        hist = Histories.from_lists([[1, 2, 3], []])
        scores = again.score(hist, np.array([[4, 5, 6], [1, 2, 0]]))
        assert scores.shape == (2, 3) and scores[1, 2] == 0.0 and np.all(scores[:, :2] > 0)
        ranker.item_ids = task.items
        ranker.save(tmp_path / "ranker")
        ids = task.items.decode(np.array([1, 2, 3, 4, 5, 6]))
        external = load_ranker(tmp_path / "ranker").score_items([ids[:3], []], [ids[3:], [*ids[:2], "nope"]])
        np.testing.assert_allclose(external, scores, atol=1e-6)


def test_config_validation_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"CTRConfig\.architecture"):
        CTRConfig(architecture="transformer")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"CTRConfig\.aux_weight"):
        CTRConfig(aux_weight=-1.0)
