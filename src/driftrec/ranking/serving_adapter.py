"""The ranker behind serving's re-ranking hook: ``/recommend`` ranks its candidate pool by click probability.

``driftrec.serving`` calls ``reranker.rerank(user_state, candidates, scores)`` with the *bundle's* dense item
ids; a ranker has its own dense ids (built on the log it was trained on). ``RankerReranker`` translates
through the external ids, scores the candidates from the user's live history at request time, and
returns them by descending click probability (candidates the ranker never saw keep their retrieval
order, after the known ones). Use::

    from driftrec.models.ctr import load_ranker
    settings = ServingSettings(..., reranker=RankerReranker(load_ranker(bundle_dir / "ranker"), bundle.items))

It depends on nothing in ``driftrec.serving`` (the user state is read by attribute), so layers stay ordered.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.idmap import IdMap
from driftrec.data.interactions import Histories
from driftrec.data.schema import EVENT_CODE
from driftrec.models.ctr.ranker import CTRRanker

__all__ = ["LiveState", "RankerReranker"]


class LiveState(Protocol):
    """What the adapter reads of serving's ``UserState`` (dense ids of the bundle's catalogue)."""

    @property
    def items(self) -> NDArray[np.int64]: ...

    @property
    def ts(self) -> NDArray[np.int64]: ...

    @property
    def event(self) -> NDArray[np.int8]: ...


class RankerReranker:
    """Serving's ``Reranker`` backed by a ``CTRRanker``; ``item_ids`` = the serving model's item id map."""

    def __init__(self, ranker: CTRRanker, item_ids: IdMap) -> None:
        if ranker.item_ids is None:
            raise ValueError(
                "the ranker has no item id map (train it with ctr_experiment or `driftrec rank`)"
            )
        self.ranker = ranker
        ranker_ids = ranker.item_ids
        # bundle dense id -> ranker dense id (0 = unknown to the ranker), one lookup table
        table = np.zeros(len(item_ids) + 1, dtype=np.int64)
        table[1:] = ranker_ids.encode(pl.Series(item_ids.ids, dtype=pl.String))
        self._to_ranker = table

    def _translate(self, dense: NDArray[np.int64]) -> NDArray[np.int64]:
        dense = np.asarray(dense, dtype=np.int64)
        inside = (dense >= 0) & (dense < self._to_ranker.shape[0])
        return np.where(inside, self._to_ranker[np.where(inside, dense, 0)], 0)

    def rerank(
        self, user_state: LiveState, candidates: NDArray[np.int64], scores: NDArray[np.float32]
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        items = self._translate(user_state.items)
        known = items > 0
        ts = np.asarray(user_state.ts, dtype=np.int64)[known]
        event = np.asarray(user_state.event, dtype=np.int8)[known]
        latest = int(ts.max(initial=0))
        now = max(latest, int(self.ranker.log.ts.max(initial=0)) if self.ranker.log is not None else 0) + 1
        ts = np.where(ts >= 0, ts, now - 1)
        event = np.where(event >= 0, event, EVENT_CODE["view"]).astype(np.int8)
        hist = Histories(
            np.zeros(1, dtype=np.int64),
            np.array([0, int(known.sum())], dtype=np.int64),
            items[known],
            ts,
            event,
        )
        cand = self._translate(np.asarray(candidates, dtype=np.int64))
        probs = self.ranker.score(hist, cand[None, :], at=now)[0]
        probs = np.where(
            cand > 0, probs, -1.0
        )  # unknown to the ranker: after the known, retrieval order kept
        order = np.argsort(-probs, kind="stable")
        return np.asarray(candidates, dtype=np.int64)[order], np.maximum(probs[order], 0.0).astype(np.float32)
