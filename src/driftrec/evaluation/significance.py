"""Is model B better than model A on the same users? Paired tests over per-user metric values.

Differences between sequence models on a few thousand test users are often within noise; a paired
interval says whether a gain in a mean is real. Both functions take ``diff = metric_B - metric_A``
per user (same users, same order).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["paired_bootstrap_ci", "sign_flip_p_value"]


def paired_bootstrap_ci(
    diff: NDArray[np.floating], n: int = 1000, seed: int = 0, alpha: float = 0.05
) -> list[float]:
    """(1 - alpha) bootstrap interval of the mean per-user difference (users resampled with replacement)."""
    if diff.size == 0:
        return [0.0, 0.0]
    rng = np.random.default_rng(seed)
    means = np.empty(n)
    for start in range(0, n, 100):  # chunks keep memory at 100 x users
        rows = min(100, n - start)
        means[start : start + rows] = diff[rng.integers(0, diff.size, (rows, diff.size))].mean(axis=1)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return [round(float(low), 5), round(float(high), 5)]


def sign_flip_p_value(diff: NDArray[np.floating], n: int = 10000, seed: int = 0) -> float:
    """Two-sided permutation p-value of "mean difference = 0": under the null each user's difference is
    as likely negated, so random sign flips give the null distribution of the mean."""
    nonzero = diff[diff != 0]
    if nonzero.size == 0:
        return 1.0
    observed = abs(float(nonzero.mean()))
    rng = np.random.default_rng(seed)
    extreme = 0
    for start in range(0, n, 100):
        rows = min(100, n - start)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(rows, nonzero.size))
        extreme += int((np.abs((signs * nonzero).mean(axis=1)) >= observed - 1e-15).sum())
    return (extreme + 1) / (n + 1)
