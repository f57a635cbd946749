"""One call per experiment, shared by the CLI, the benchmarks and the tests.

``ctr_experiment``: fit a ranker on the train part of a temporal split of impressions, report AUC, gAUC
and LogLoss on the test part. ``pipeline_experiment``: retrieval alone vs retrieval + ranking on one
global temporal split, full-ranking NDCG@K over the whole catalogue.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from driftrec.data.dataset import Dataset
from driftrec.data.interactions import encode_events
from driftrec.data.splits import temporal_split, to_microseconds
from driftrec.evaluation.ctr import ctr_metrics
from driftrec.evaluation.ranking import RankingConfig, evaluate_ranking
from driftrec.evaluation.significance import paired_bootstrap_ci
from driftrec.features.item_stats import item_attributes
from driftrec.models.base import Recommender
from driftrec.models.ctr.config import CTRConfig
from driftrec.models.ctr.ranker import CTRRanker
from driftrec.models.registry import create
from driftrec.ranking.impressions import CTRTask, label_rate, split_by_time
from driftrec.ranking.pipeline import RANK_FEATURE, PipelineConfig, TwoStagePipeline, candidate_impressions

__all__ = ["CTRRun", "PipelineRun", "ctr_experiment", "pipeline_experiment"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CTRRun:
    ranker: CTRRanker
    metrics: dict[str, float]
    protocol: dict[str, Any]
    wall_s: float


def ctr_experiment(
    task: CTRTask,
    config: CTRConfig,
    *,
    valid: float = 0.1,
    test: float = 0.2,
    item_text: np.ndarray | None = None,
    max_train: int | None = None,
) -> CTRRun:
    """Temporal split of ``task.impressions``; fit on train (early stop on valid AUC); metrics on test.

    ``max_train`` keeps only the latest that many training impressions (stated in the protocol).
    """
    began = time.perf_counter()
    train, valid_f, test_f, protocol = split_by_time(task.impressions, valid, test)
    if max_train is not None and train.height > max_train:
        train = train.tail(max_train)
        protocol["train_impressions"] = train.height
        protocol["train_subset"] = f"latest {max_train} training impressions"
    ranker = CTRRanker(
        config,
        item_category=task.attributes.category,
        item_price_level=task.attributes.price_level,
        item_text=item_text,
        context_columns=task.context_columns,
        numeric_columns=task.numeric_columns,
    )
    ranker.item_ids = task.items
    ranker.fit(task.log, train, valid_f)
    probs = ranker.predict(task.log, test_f)
    metrics = ctr_metrics(test_f.get_column("label").to_numpy(), probs, test_f.get_column("user").to_numpy())
    protocol = {
        **task.protocol,
        **protocol,
        "features": "point-in-time (events strictly before each impression)",
    }
    return CTRRun(ranker, metrics, protocol, time.perf_counter() - began)


@dataclass(frozen=True)
class PipelineRun:
    retrieval: dict[str, float]
    pipeline: dict[str, float]
    protocol: dict[str, Any]
    wall_s: float
    ranker: CTRRanker
    retriever: Recommender
    extra: dict[str, Any] = field(default_factory=dict)


def pipeline_experiment(
    dataset: Dataset,
    *,
    valid_start: datetime | int,
    test_start: datetime | int,
    retriever: str = "sasrec",
    retriever_params: dict[str, Any] | None = None,
    ranker_config: CTRConfig | None = None,
    n_candidates: int = 50,
    ks: tuple[int, ...] = (5, 10, 20),
    ranker_valid_share: float = 0.2,
    seed: int = 0,
) -> PipelineRun:
    """Retriever fitted on events before ``valid_start``; ranker trained on its candidates at
    ``valid_start`` labelled by the validation period; both judged on the test period from
    ``test_start`` (targets = distinct new items, seen items excluded, full ranking)."""
    began = time.perf_counter()
    events_log, _, items = encode_events(dataset.events)
    attrs = item_attributes(items, dataset.items)
    split = temporal_split(events_log, test_start, valid_start)
    t_valid, t_test = to_microseconds(valid_start), to_microseconds(test_start)
    model = create(retriever, **(retriever_params or {}))
    if "valid" in model.fit.__code__.co_varnames:
        model.fit(split.train, valid=split.valid)  # type: ignore[call-arg]
    else:
        model.fit(split.train)
    cands = candidate_impressions(model, split.valid, n_candidates, t_valid)
    users = cands.get_column("user").unique().sort().to_numpy()
    rng = np.random.default_rng(seed)
    held = rng.random(users.shape[0]) < ranker_valid_share
    held_users = pl.Series(users[held])
    train_c = cands.filter(~pl.col("user").is_in(held_users))
    valid_c = cands.filter(pl.col("user").is_in(held_users))
    ranker = CTRRanker(
        ranker_config or CTRConfig(),
        item_category=attrs.category,
        item_price_level=attrs.price_level,
        numeric_columns=(RANK_FEATURE,),
    )
    ranker.item_ids = items
    ranker.fit(split.train, train_c, valid_c)
    before_test = events_log.mask(events_log.ts < t_test)
    pipe = TwoStagePipeline(model, ranker, before_test, PipelineConfig(n_candidates=n_candidates))
    ranking = RankingConfig(ks=ks, exclude_seen=True, seen_targets="drop")
    n_items = events_log.n_items
    base = evaluate_ranking(model.score, split.test, n_items, ranking, split.train, progress=False)
    staged = evaluate_ranking(pipe.scorer(t_test), split.test, n_items, ranking, split.train, progress=False)
    protocol = {
        **split.protocol,
        **base.protocol,
        "retriever": retriever,
        "n_candidates": n_candidates,
        "ranker_training": "retrieval candidates at valid_start, label = interacted during validation period",
        "ranker_train_impressions": train_c.height,
        "ranker_train_ctr": label_rate(train_c.get_column("label")),
    }
    recall_n = float(cands.get_column("label").sum()) / max(float(split.valid.targets.items.shape[0]), 1.0)
    diff = staged.per_user["NDCG@10"] - base.per_user["NDCG@10"]  # same users, same order
    return PipelineRun(
        base.metrics,
        staged.metrics,
        protocol,
        time.perf_counter() - began,
        ranker,
        model,
        {
            "valid_candidate_recall": recall_n,
            "NDCG@10_gain_ci95": paired_bootstrap_ci(diff, seed=seed),
            "users_better": int((diff > 0).sum()),
            "users_worse": int((diff < 0).sum()),
        },
    )
