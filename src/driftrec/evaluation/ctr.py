"""CTR metrics for a ranker's predicted click probabilities: AUC, per-user gAUC, LogLoss.

AUC is the rank-sum (Mann-Whitney) statistic with ties counted one half, identical to
``sklearn.metrics.roc_auc_score`` (tested). gAUC averages each user's AUC weighted by the user's
number of impressions, over users with both clicks and non-clicks (DIN's definition); it is computed
in one Polars pass (average ranks within each user), not a loop over users.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.evaluation.metrics import auc, log_loss

__all__ = ["binary_log_loss", "ctr_metrics", "grouped_auc", "roc_auc"]


def roc_auc(labels: NDArray[np.integer] | NDArray[np.bool_], scores: NDArray[np.floating]) -> float:
    """ROC AUC of ``scores`` for binary ``labels`` (ties count one half)."""
    return auc(labels, scores)


def binary_log_loss(
    labels: NDArray[np.integer] | NDArray[np.bool_], probs: NDArray[np.floating], eps: float = 1e-7
) -> float:
    """Mean binary cross-entropy (natural log) of probabilities clipped to [eps, 1 - eps]."""
    return log_loss(labels, probs, eps)


def grouped_auc(
    groups: NDArray[np.integer], labels: NDArray[np.integer] | NDArray[np.bool_], scores: NDArray[np.floating]
) -> tuple[float, int]:
    """gAUC and the number of groups that entered it (groups with a single class are skipped).

    Returns ``(nan, 0)`` when no group has both classes.
    """
    frame = pl.DataFrame(
        {
            "g": np.asarray(groups),
            "y": np.asarray(labels).astype(np.int64),
            "s": np.asarray(scores, dtype=np.float64),
        }
    )
    per_group = (
        frame.with_columns(pl.col("s").rank("average").over("g").alias("r"))
        .group_by("g")
        .agg(
            pl.len().alias("n"),
            pl.col("y").sum().alias("pos"),
            pl.col("r").filter(pl.col("y") == 1).sum().alias("rank_sum"),
        )
        .with_columns((pl.col("n") - pl.col("pos")).alias("neg"))
        .filter((pl.col("pos") > 0) & (pl.col("neg") > 0))
        .with_columns(
            (
                (pl.col("rank_sum") - pl.col("pos") * (pl.col("pos") + 1) / 2)
                / (pl.col("pos") * pl.col("neg"))
            ).alias("auc")
        )
    )
    if per_group.height == 0:
        return float("nan"), 0
    weights = per_group.get_column("n").to_numpy().astype(np.float64)
    values = per_group.get_column("auc").to_numpy()
    return float((values * weights).sum() / weights.sum()), per_group.height


def ctr_metrics(
    labels: NDArray[np.integer] | NDArray[np.bool_],
    probs: NDArray[np.floating],
    groups: NDArray[np.integer] | None = None,
) -> dict[str, float]:
    """``{"AUC", "LogLoss"}`` plus ``"gAUC"`` and ``"gAUC_users"`` when ``groups`` (user ids) are given."""
    out = {"AUC": roc_auc(labels, probs), "LogLoss": binary_log_loss(labels, probs)}
    if groups is not None:
        value, n = grouped_auc(groups, labels, probs)
        out["gAUC"] = value
        out["gAUC_users"] = float(n)
    return out
