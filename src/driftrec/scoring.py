"""Turning score matrices into ranked lists: masking seen items and deterministic top-k.

Shared by models (``recommend``), the evaluator and serving, so it sits below all of them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from driftrec.data.interactions import Histories

__all__ = ["mask_seen", "top_k"]


def mask_seen(scores: NDArray[np.float32], histories: Histories) -> NDArray[np.float32]:
    """Set the scores of items already in each history to -inf, in place, and return them."""
    scores[histories.row_index(), histories.items] = -np.inf
    return scores


def top_k(scores: NDArray[np.float32], k: int) -> NDArray[np.int64]:
    """(B, k) item ids by descending score, ties broken by lower id: the first k of a full stable sort.

    O(n_items) per row rather than a full sort: the k-th largest score is found by partition, every
    item above it is kept, and tied items at the boundary are taken in id order (so which tied item
    makes the cut never depends on the partition algorithm). NaN scores rank as -inf.
    """
    n_rows, n_cols = scores.shape
    k = min(k, n_cols - 1)
    if k <= 0 or n_rows == 0:
        return np.zeros((n_rows, max(k, 0)), dtype=np.int64)
    if np.isnan(scores).any():
        scores = np.where(np.isnan(scores), -np.inf, scores)
    kth = np.partition(scores, n_cols - k, axis=1)[:, n_cols - k, None]  # (B, 1) k-th largest score
    above = scores > kth
    tied = scores == kth
    need = k - above.sum(axis=1, keepdims=True)
    keep = above | tied
    crowded = np.flatnonzero(tied.sum(axis=1) > need[:, 0])  # rows with more ties than free places
    if crowded.size:
        sub = tied[crowded]
        keep[crowded] = above[crowded] | (sub & (np.cumsum(sub, axis=1) <= need[crowded]))
    part = np.nonzero(keep)[1].reshape(n_rows, k)
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    return np.take_along_axis(part, order, axis=1).astype(np.int64)
