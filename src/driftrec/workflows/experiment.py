"""Fit a registered model on a prepared split and evaluate it under full ranking, as one record."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

from driftrec.evaluation.ranking import RankingConfig, RankingResult, evaluate_ranking
from driftrec.evaluation.results import result_record
from driftrec.models.base import Recommender
from driftrec.workflows.modeling import build_model, fit_model
from driftrec.workflows.prepare import Prepared

__all__ = ["Outcome", "evaluate_model", "fit_and_evaluate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    model: Recommender
    result: RankingResult
    record: dict[str, Any]
    fit_s: float
    eval_s: float


def evaluate_model(
    model: Recommender,
    prepared: Prepared,
    part: Literal["valid", "test"] = "test",
    ranking: RankingConfig | None = None,
    progress: bool | None = None,
) -> RankingResult:
    eval_set = prepared.split.test if part == "test" else prepared.split.valid
    return evaluate_ranking(
        model.score, eval_set, prepared.log.n_items, ranking, train=prepared.split.train, progress=progress
    )


def fit_and_evaluate(
    prepared: Prepared,
    model_name: str,
    params: dict[str, Any] | None = None,
    ranking: RankingConfig | None = None,
    part: Literal["valid", "test"] = "test",
    benchmark: str = "baselines",
    progress: bool | None = None,
) -> Outcome:
    """Fit on ``split.train``, evaluate on ``part``; the record follows DESIGN.md §3."""
    params = params or {}
    model = build_model(model_name, params, prepared)
    start = time.perf_counter()
    fit_model(model, prepared)
    fit_s = time.perf_counter() - start
    result = evaluate_model(model, prepared, part, ranking, progress)
    eval_s = time.perf_counter() - start - fit_s
    log.info(
        "%s: fit %.1fs, evaluate %.1fs, NDCG@10 %.4f",
        model_name,
        fit_s,
        eval_s,
        result.metrics.get("NDCG@10", 0),
    )
    protocol = {**prepared.split.protocol, **result.protocol, **prepared.spec.to_dict(), "part": part}
    record = result_record(
        benchmark=benchmark,
        dataset=prepared.dataset.name,
        model=model_name,
        protocol=protocol,
        config=params,
        metrics=result.metrics,
        wall_s=fit_s + eval_s,
        fit_s=round(fit_s, 3),
        eval_s=round(eval_s, 3),
    )
    return Outcome(model, result, record, fit_s, eval_s)
