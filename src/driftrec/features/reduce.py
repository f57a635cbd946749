"""Shrinking features: PCA/SVD of text vectors and selection of engineered features by importance.

A 384-d text vector per item dwarfs the dozens of behaviour features beside it in a small ranker;
reducing it to a few tens of components keeps most of its variance at a fraction of the parameters.
Selection keeps the features a model actually uses (permutation importance of a gradient-boosted
tree on a held-out slice), which guards against features that only add noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["FeatureImportance", "feature_importance", "reduce_matrix", "select_features"]


def reduce_matrix(
    matrix: NDArray[np.floating],
    dim: int,
    method: Literal["pca", "svd"] = "pca",
    fit_rows: NDArray[np.integer] | None = None,
    seed: int = 0,
) -> NDArray[np.float32]:
    """(n, dim) projection of ``matrix`` fitted on ``fit_rows`` (default: non-zero rows; row 0 stays 0).

    PCA centres the data, truncated SVD does not (right for sparse or already-centred vectors).
    """
    from sklearn.decomposition import PCA, TruncatedSVD

    x = np.asarray(matrix, dtype=np.float32)
    if not 1 <= dim < x.shape[1]:
        raise ValueError(f"dim must be in [1, {x.shape[1] - 1}] for a {x.shape[1]}-d matrix, got {dim}")
    rows = np.flatnonzero(np.abs(x).sum(axis=1) > 0) if fit_rows is None else np.asarray(fit_rows)
    if rows.size <= dim:
        raise ValueError(f"need more than {dim} rows to fit a {dim}-component reduction, got {rows.size}")
    if method == "pca":
        model: PCA | TruncatedSVD = PCA(n_components=dim, random_state=seed)
    elif method == "svd":
        model = TruncatedSVD(n_components=dim, random_state=seed)
    else:
        raise ValueError(f"method must be 'pca' or 'svd', got {method!r}")
    model.fit(x[rows])
    out = np.zeros((x.shape[0], dim), dtype=np.float32)
    nonzero = np.abs(x).sum(axis=1) > 0
    out[nonzero] = model.transform(x[nonzero]).astype(np.float32)
    return out


@dataclass(frozen=True)
class FeatureImportance:
    """Mean drop in ROC AUC on the held-out slice when each feature is shuffled (higher = more used)."""

    names: tuple[str, ...]
    importance: NDArray[np.float64]

    def ranked(self) -> list[tuple[str, float]]:
        order = np.argsort(-self.importance, kind="stable")
        return [(self.names[i], float(self.importance[i])) for i in order]


def feature_importance(
    x: NDArray[np.floating],
    y: NDArray[np.integer],
    names: list[str] | tuple[str, ...],
    *,
    holdout: float = 0.3,
    max_rows: int = 20_000,
    seed: int = 0,
    threads: int = 1,
) -> FeatureImportance:
    """Permutation importance of a small HistGradientBoosting classifier (rows taken in time order:
    the first ``1 - holdout`` share fits, the rest measures; pass rows sorted by time).

    ``threads`` caps OpenMP threads: on a shared machine the default (all cores) thrashes.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from threadpoolctl import threadpool_limits

    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y).astype(np.int64)
    if x.shape[1] != len(names):
        raise ValueError(f"{x.shape[1]} columns but {len(names)} names")
    if x.shape[0] > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(x.shape[0], max_rows, replace=False))
        x, y = x[keep], y[keep]
    cut = int(x.shape[0] * (1.0 - holdout))
    if len(np.unique(y[:cut])) < 2 or len(np.unique(y[cut:])) < 2:
        raise ValueError("both the fitting and the held-out slice need positive and negative labels")
    with threadpool_limits(limits=threads):
        model = HistGradientBoostingClassifier(max_iter=60, learning_rate=0.1, random_state=seed)
        model.fit(x[:cut], y[:cut])
        result = permutation_importance(
            model, x[cut:], y[cut:], scoring="roc_auc", n_repeats=3, random_state=seed
        )
    return FeatureImportance(tuple(names), np.asarray(result.importances_mean, dtype=np.float64))


def select_features(
    importance: FeatureImportance, keep: int | None = None, min_gain: float = 0.0
) -> list[str]:
    """Names of the ``keep`` most important features (all by default) whose importance exceeds
    ``min_gain``, in their original order (so column order stays stable)."""
    ranked = [name for name, gain in importance.ranked() if gain > min_gain]
    chosen = set(ranked if keep is None else ranked[:keep])
    return [name for name in importance.names if name in chosen]
