"""Turning score matrices into ranked lists: masking seen items and deterministic top-k.

Shared by models (``recommend``), the evaluator and serving, so it sits below all of them.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from driftrec.data.interactions import Histories

__all__ = ["mask_seen", "top_k"]


def mask_seen(scores: NDArray[np.float32], histories: Histories) -> NDArray[np.float32]:
    """Set the scores of items already in each history to -inf, in place, and return them."""
    scores[histories.row_index(), histories.items] = -np.inf
    return scores


def top_k(scores: NDArray[np.float32], k: int) -> NDArray[np.int64]:
    """(B, k) item ids by descending score, ties broken by lower id: the first k of a full stable sort.

    ``torch.topk`` (O(n_items) per row, multi-threaded) finds each row's k + 1 best; where the k-th
    and (k+1)-th scores differ the top-k set is unique and only its order needs the id tie-break.
    Rows with a tie across the cut go through ``_top_k_exact``, so which tied item makes the cut
    never depends on the selection algorithm. NaN scores rank as -inf.
    """
    n_rows, n_cols = scores.shape
    k = min(k, n_cols - 1)
    if k <= 0 or n_rows == 0:
        return np.zeros((n_rows, max(k, 0)), dtype=np.int64)
    if np.isnan(scores).any():
        scores = np.where(np.isnan(scores), -np.inf, scores)
    table = np.ascontiguousarray(scores)
    if not table.flags.writeable:  # torch.from_numpy wants a writable buffer (it never writes here)
        table = table.copy()
    values_t, ids_t = torch.topk(torch.from_numpy(table), k + 1, dim=1)
    values, ids = values_t.numpy(), ids_t.numpy()
    part, part_scores = ids[:, :k], values[:, :k]
    order = np.lexsort((part, -part_scores), axis=1)
    out = np.take_along_axis(part, order, axis=1).astype(np.int64)
    tied_at_cut = np.flatnonzero(values[:, k - 1] == values[:, k])
    if tied_at_cut.size:
        out[tied_at_cut] = _top_k_exact(scores[tied_at_cut], k)
    return out


def _top_k_exact(scores: NDArray[np.float32], k: int) -> NDArray[np.int64]:
    """top_k by partition: the k-th largest score, every item above it, then tied items in id order."""
    n_rows, n_cols = scores.shape
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
