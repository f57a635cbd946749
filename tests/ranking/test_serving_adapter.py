"""The ranker as serving's re-ranking hook: bundle ids in, candidates ordered by click probability out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pytest
import torch

from driftrec.data.idmap import IdMap
from driftrec.data.interactions import Histories
from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.models.ctr import CTRConfig
from driftrec.ranking.experiment import ctr_experiment
from driftrec.ranking.impressions import ctr_task
from driftrec.ranking.serving_adapter import RankerReranker
from driftrec.training.config import TrainingConfig


@dataclass(frozen=True)
class State:
    items: np.ndarray
    ts: np.ndarray
    event: np.ndarray


def test_reranker_orders_bundle_candidates_by_ranker_probability() -> None:
    torch.set_num_threads(1)
    task = ctr_task(generate(SyntheticShopConfig(n_users=60, n_items=50, days=15, seed=4)).dataset)
    training = TrainingConfig(epochs=1, batch_size=256, patience=0, monitor="AUC@valid", num_threads=1)
    ranker = ctr_experiment(
        task, CTRConfig(architecture="mlp", max_len=5, hidden=(8,), training=training)
    ).ranker
    # a bundle whose dense ids are the ranker's in reverse order, plus one item the ranker never saw
    external = [*task.items.ids.to_list()[::-1], "brand-new"]
    bundle = IdMap.build(pl.Series(external, dtype=pl.String))
    adapter = RankerReranker(ranker, bundle)
    state = State(np.array([1, 2, 3]), np.array([-1, -1, -1]), np.array([-1, -1, -1], dtype=np.int8))
    candidates = np.array([len(external), 4, 5, 6, 7])  # the first is unknown to the ranker
    order, scores = adapter.rerank(state, candidates, np.zeros(5, dtype=np.float32))
    assert sorted(order.tolist()) == sorted(candidates.tolist())
    assert order[-1] == len(external) and scores[-1] == 0.0
    assert np.all(np.diff(scores[:-1]) <= 0)
    ranker_ids = task.items.encode(pl.Series([external[i - 1] for i in order[:-1]], dtype=pl.String))
    hist = ranker.item_ids.encode(pl.Series([external[i - 1] for i in (1, 2, 3)], dtype=pl.String))  # type: ignore[union-attr]
    direct = ranker.score(Histories.from_lists([hist.tolist()]), ranker_ids[None, :])[0]
    np.testing.assert_allclose(direct, scores[:-1], atol=1e-6)
    with pytest.raises(ValueError, match="item id map"):
        ranker.item_ids = None
        RankerReranker(ranker, bundle)
