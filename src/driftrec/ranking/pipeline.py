"""Retrieval -> ranking -> optional policy re-rank, evaluated with the full-ranking protocol.

Stage 1 (retrieval): any ``Recommender`` (the sequential Transformer by default) proposes its top
``n_candidates`` unseen items. Stage 2 (ranking): a ``CTRRanker`` scores each candidate from point-in-time
features at the moment of the request (plus the candidate's retrieval rank, so it can only add to what
retrieval knew). Stage 3 (policy, optional): anything with the ``ReRanker`` protocol reorders the list
(exploration, diversity; built by ``driftrec.policy``).

The ranker of a pipeline is trained on *candidates*, the way it will be used: the retriever fitted
on the training period proposes candidates at the start of the validation period, and a candidate's
label is whether the user interacted with it during that period. Its features come only from events
before that moment, so nothing of the validation period leaks into them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.data.splits import EvalSet
from driftrec.models.base import Recommender
from driftrec.models.ctr.ranker import CTRRanker
from driftrec.scoring import mask_seen, top_k

__all__ = [
    "RANK_FEATURE",
    "PipelineConfig",
    "ReRanker",
    "TwoStagePipeline",
    "candidate_impressions",
    "retrieve",
]

#: Numeric impression column carrying log1p(retrieval rank) into the ranker.
RANK_FEATURE = "retrieval_rank"


@runtime_checkable
class ReRanker(Protocol):
    """A policy stage: reorder each row of ``candidates`` (B, C) given the ranker's ``scores`` (B, C).

    Returns (B, C) item ids (a permutation of each row, or a row with some ids swapped for others).
    """

    def rerank(
        self, histories: Histories, candidates: NDArray[np.int64], scores: NDArray[np.float32]
    ) -> NDArray[np.int64]: ...


@dataclass(frozen=True)
class PipelineConfig:
    """``n_candidates``: retrieval list length handed to the ranker; ``exclude_seen``: drop items already in
    the history before retrieval cuts its list (as the evaluation does)."""

    n_candidates: int = 50
    exclude_seen: bool = True
    batch_size: int = 256

    def __post_init__(self) -> None:
        if not isinstance(self.n_candidates, int) or self.n_candidates < 1:
            raise ValueError(f"n_candidates must be an integer >= 1, got {self.n_candidates!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")


def retrieve(
    retriever: Recommender, histories: Histories, n: int, exclude_seen: bool = True
) -> NDArray[np.int64]:
    """(B, n) top-n item ids of the retriever (0 where the catalogue runs out)."""
    scores = np.array(retriever.score(histories), dtype=np.float32, copy=True)
    scores[:, 0] = -np.inf
    if exclude_seen:
        mask_seen(scores, histories)
    top = top_k(scores, n)
    top[np.take_along_axis(scores, top, axis=1) == -np.inf] = 0
    return top


def candidate_impressions(
    retriever: Recommender,
    eval_set: EvalSet,
    n: int,
    at: int,
    exclude_seen: bool = True,
    batch_size: int = 256,
) -> pl.DataFrame:
    """Impressions ``user, item, ts=at, label, retrieval_rank`` of every user's top-n retrieved items;
    label 1 when the item is among the user's targets in ``eval_set``."""
    parts: list[pl.DataFrame] = []
    for start in range(0, len(eval_set), batch_size):
        rows = np.arange(start, min(start + batch_size, len(eval_set)), dtype=np.int64)
        hist, tgt = eval_set.histories.take(rows), eval_set.targets.take(rows)
        cand = retrieve(retriever, hist, n, exclude_seen)
        width = int(max(cand.max(initial=0), tgt.items.max(initial=0))) + 1
        keys = np.arange(len(rows))[:, None] * width + cand
        label = np.isin(keys, tgt.row_index() * width + tgt.items)
        rank = np.broadcast_to(np.arange(n, dtype=np.float64), cand.shape)
        frame = pl.DataFrame(
            {
                "user": np.repeat(hist.user, n),
                "item": cand.reshape(-1),
                "ts": np.full(cand.size, at, dtype=np.int64),
                "label": label.reshape(-1).astype(np.int8),
                RANK_FEATURE: np.log1p(rank).reshape(-1),
            }
        )
        parts.append(frame.filter(pl.col("item") > 0))
    return pl.concat(parts)


class TwoStagePipeline:
    """``recommend(histories, k, at)`` through retrieval, ranking and the optional policy.

    ``log``: behaviour known at serving/evaluation time (features read events before ``at`` only).
    """

    def __init__(
        self,
        retriever: Recommender,
        ranker: CTRRanker,
        log: InteractionLog,
        config: PipelineConfig | None = None,
        policy: ReRanker | None = None,
    ) -> None:
        self.retriever = retriever
        self.ranker = ranker
        self.log = log
        self.config = config or PipelineConfig()
        self.policy = policy

    def rank(self, histories: Histories, at: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """(B, N) candidates in final order and the ranker's click probabilities in that order."""
        n = self.config.n_candidates
        cand = retrieve(self.retriever, histories, n, self.config.exclude_seen)
        extra = None
        if RANK_FEATURE in self.ranker.numeric_columns:
            extra = {RANK_FEATURE: np.broadcast_to(np.log1p(np.arange(n, dtype=np.float64)), cand.shape)}
        probs = self.ranker.score_candidates(self.log, histories.user, cand, at, extra=extra)
        probs = np.where(cand > 0, probs, -1.0).astype(np.float32)
        order = np.argsort(-probs, axis=1, kind="stable")
        cand = np.take_along_axis(cand, order, axis=1)
        probs = np.take_along_axis(probs, order, axis=1)
        if self.policy is not None:
            reranked = np.asarray(self.policy.rerank(histories, cand, probs), dtype=np.int64)
            if reranked.shape != cand.shape:
                raise ValueError(f"policy returned shape {reranked.shape}, expected {cand.shape}")
            cand = reranked
        return cand, probs

    def recommend(self, histories: Histories, k: int, at: int) -> NDArray[np.int64]:
        return self.rank(histories, at)[0][:, :k]

    def scorer(self, at: int) -> Callable[[Histories], NDArray[np.float32]]:
        """A full-catalogue scorer for ``evaluate_ranking``: the final list's positions become descending
        scores, every other item -inf (so the evaluator's top-K is exactly the pipeline's list)."""

        def score(histories: Histories) -> NDArray[np.float32]:
            cand, _ = self.rank(histories, at)
            out = np.full((len(histories), self.ranker.n_items + 1), -np.inf, dtype=np.float32)
            pos = np.broadcast_to(np.arange(cand.shape[1], 0, -1, dtype=np.float32), cand.shape)
            rows = np.broadcast_to(np.arange(len(histories))[:, None], cand.shape)
            valid = cand > 0
            out[rows[valid], cand[valid]] = pos[valid]
            return out

        return score
