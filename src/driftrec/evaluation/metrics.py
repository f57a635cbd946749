"""Ranking and binary-prediction metrics as pure functions over arrays.

Ranking metrics take a ``hits`` matrix (B, K): ``hits[b, j]`` is True when the j-th recommended
item of user b is one of b's targets, plus each user's number of targets. They return one value
per user so callers can average, bootstrap or slice by segment.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

__all__ = [
    "auc",
    "catalogue_coverage",
    "f1_at_k",
    "group_auc",
    "hit_matrix",
    "hr_at_k",
    "log_loss",
    "mrr_at_k",
    "ndcg_at_k",
    "novelty_at_k",
    "precision_at_k",
    "recall_at_k",
]

FloatArray = NDArray[np.float64]


def hit_matrix(
    recommended: NDArray[np.int64], target_offsets: NDArray[np.int64], target_items: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """(B, K) bool: is recommended[b, j] among user b's targets (CSR ``offsets``/``items``)."""
    n_rows = recommended.shape[0]
    width = int(max(recommended.max(initial=0), target_items.max(initial=0))) + 1
    target_rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(target_offsets))
    target_keys = target_rows * width + target_items
    rec_keys = np.arange(n_rows, dtype=np.int64)[:, None] * width + recommended
    return np.isin(rec_keys, target_keys)


def hr_at_k(hits: NDArray[np.bool_], k: int) -> FloatArray:
    """1 if any target is in the top k (= Recall@k when each user has one target)."""
    return np.asarray(hits[:, :k].any(axis=1), dtype=np.float64)


def recall_at_k(hits: NDArray[np.bool_], n_targets: NDArray[np.int64], k: int) -> FloatArray:
    return np.asarray(hits[:, :k].sum(axis=1) / np.maximum(n_targets, 1), dtype=np.float64)


def precision_at_k(hits: NDArray[np.bool_], k: int) -> FloatArray:
    return np.asarray(hits[:, :k].sum(axis=1) / float(k), dtype=np.float64)


def f1_at_k(hits: NDArray[np.bool_], n_targets: NDArray[np.int64], k: int) -> FloatArray:
    p = precision_at_k(hits, k)
    r = recall_at_k(hits, n_targets, k)
    denom = p + r
    return np.divide(2 * p * r, denom, out=np.zeros_like(denom), where=denom > 0)


def ndcg_at_k(hits: NDArray[np.bool_], n_targets: NDArray[np.int64], k: int) -> FloatArray:
    """Binary-relevance NDCG: DCG of the hits over the DCG of a perfect list of min(n_targets, k) hits."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))
    dcg: FloatArray = np.asarray((hits[:, :k] * discounts[: hits[:, :k].shape[1]]).sum(axis=1), np.float64)
    ideal_cum = np.concatenate([[0.0], np.cumsum(discounts)])
    idcg = ideal_cum[np.minimum(n_targets, k)]
    out: FloatArray = np.zeros_like(dcg)
    np.divide(dcg, idcg, out=out, where=idcg > 0)
    return out


def mrr_at_k(hits: NDArray[np.bool_], k: int) -> FloatArray:
    """Reciprocal rank of the first hit within the top k, 0 if none."""
    top = hits[:, :k]
    first = top.argmax(axis=1)
    found = top.any(axis=1)
    return np.asarray(np.where(found, 1.0 / (first + 1.0), 0.0), dtype=np.float64)


def catalogue_coverage(recommended: NDArray[np.int64], n_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    return float(np.unique(recommended[recommended > 0]).size) / float(n_items)


def novelty_at_k(recommended: NDArray[np.int64], item_users: NDArray[np.int64], n_users: int) -> FloatArray:
    """Mean self-information -log2(p(i)) of the recommended items, p(i) = share of users who had item i.

    Items no training user had get the count of one user (finite, maximal novelty). Empty slots
    (id 0, in lists shorter than k) are not items and are left out of the mean; a row without items is 0.
    """
    rec = np.asarray(recommended)
    valid = rec > 0
    info = -np.log2(np.maximum(item_users[rec], 1) / float(max(n_users, 1)))
    count = valid.sum(axis=1)
    out: FloatArray = np.zeros(rec.shape[0], dtype=np.float64)
    np.divide((info * valid).sum(axis=1), count, out=out, where=count > 0)
    return out


def auc(labels: NDArray[np.integer] | NDArray[np.bool_], scores: NDArray[np.floating]) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) statistic; tied scores count one half."""
    y = np.asarray(labels).astype(bool)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both positive and negative labels")
    ranks = rankdata(np.asarray(scores, dtype=np.float64))
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def group_auc(
    groups: NDArray[np.integer], labels: NDArray[np.integer] | NDArray[np.bool_], scores: NDArray[np.floating]
) -> float:
    """gAUC: per-group AUC averaged with weights = group size; groups with one class are skipped."""
    g = np.asarray(groups)
    order = np.argsort(g, kind="stable")
    g, y, s = g[order], np.asarray(labels)[order], np.asarray(scores)[order]
    bounds = np.flatnonzero(np.diff(g)) + 1
    total, weight = 0.0, 0
    for lo, hi in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [g.size]]), strict=True):
        yy = y[lo:hi].astype(bool)
        if yy.all() or not yy.any():
            continue
        total += auc(yy, s[lo:hi]) * (hi - lo)
        weight += hi - lo
    if weight == 0:
        raise ValueError("gAUC needs at least one group with both classes")
    return total / weight


def log_loss(
    labels: NDArray[np.integer] | NDArray[np.bool_], probs: NDArray[np.floating], eps: float = 1e-7
) -> float:
    """Mean binary cross-entropy with probabilities clipped to [eps, 1-eps]."""
    y = np.asarray(labels, dtype=np.float64)
    p = np.clip(np.asarray(probs, dtype=np.float64), eps, 1.0 - eps)
    return float(-(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)).mean())
