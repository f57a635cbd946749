"""The hook through which a policy (e.g. the RL re-ranker of ``driftrec.policy``) reorders candidates.

The service hands the re-ranker the user's live state and the model's candidate pool with scores; the
re-ranker returns the order to show (a subset or permutation of the candidates) and the scores to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["Reranker", "UserState", "apply_reranker"]


@dataclass(frozen=True)
class UserState:
    """A user's live state as the service sees it (dense item ids of the model's catalogue).

    items: (L,) int64, oldest first; ts: (L,) int64 microseconds (-1 where unknown); event: (L,) int8 codes
    into ``driftrec.data.schema.EVENT_TYPES`` (-1 where unknown).
    """

    user_id: str | None
    known: bool
    items: NDArray[np.int64]
    ts: NDArray[np.int64]
    event: NDArray[np.int8]


@runtime_checkable
class Reranker(Protocol):
    def rerank(
        self, user_state: UserState, candidates: NDArray[np.int64], scores: NDArray[np.float32]
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]: ...


def apply_reranker(
    reranker: Reranker, state: UserState, candidates: NDArray[np.int64], scores: NDArray[np.float32]
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Run the hook and check its answer: only candidates, no repeats, one score each."""
    order, new_scores = reranker.rerank(state, candidates.copy(), scores.copy())
    order = np.asarray(order, dtype=np.int64).ravel()
    new_scores = np.asarray(new_scores, dtype=np.float32).ravel()
    if order.shape != new_scores.shape:
        raise ValueError(f"re-ranker returned {order.shape[0]} items but {new_scores.shape[0]} scores")
    if not np.isin(order, candidates).all() or np.unique(order).size != order.size:
        raise ValueError("re-ranker must return a subset of the candidates without repeats")
    return order, new_scores
