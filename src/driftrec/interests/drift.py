"""How far a user's interest moves between consecutive windows, as Jensen-Shannon divergence.

JSD is symmetric, bounded (0 to 1 in bits) and defined when one window holds categories the other does
not, which KL divergence is not; that makes it a drift score comparable across users. It is computed
here on whole arrays at once (users x windows), and agrees with
``scipy.spatial.distance.jensenshannon(p, q, base) ** 2`` (scipy returns the distance, its square root).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from driftrec.interests.profiles import Profiles


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x * log(y)`` with ``0 * log(anything) = 0``, elementwise."""
    safe = np.where(x > 0, y, 1.0)
    out: np.ndarray = np.where(x > 0, x * np.log(safe), 0.0)
    return out


def js_divergence(p: np.ndarray, q: np.ndarray, *, base: float = 2.0, axis: int = -1) -> np.ndarray:
    """Jensen-Shannon divergence between distributions along ``axis`` (inputs are normalised first).

    Returns NaN where either side is all zero: no interest observed means no comparison. With
    ``base=2`` the value lies in [0, 1].
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if np.any(p < 0) or np.any(q < 0):
        raise ValueError("js_divergence needs non-negative weights")
    sp = p.sum(axis=axis, keepdims=True)
    sq = q.sum(axis=axis, keepdims=True)
    p = np.divide(p, sp, out=np.zeros_like(p), where=sp > 0)
    q = np.divide(q, sq, out=np.zeros_like(q), where=sq > 0)
    m = 0.5 * (p + q)
    kl_pm = (_xlogy(p, p) - _xlogy(p, m)).sum(axis=axis)
    kl_qm = (_xlogy(q, q) - _xlogy(q, m)).sum(axis=axis)
    out: np.ndarray = np.maximum(0.5 * (kl_pm + kl_qm), 0.0) / np.log(base)
    empty = (np.squeeze(sp, axis=axis) <= 0) | (np.squeeze(sq, axis=axis) <= 0)
    out = np.where(empty, np.nan, out)
    return out


def consecutive_drift(profiles: Profiles, *, skip_empty: bool = True) -> np.ndarray:
    """(U, W) JSD between each window and the previous one; NaN where there is nothing to compare.

    With ``skip_empty`` an active window is compared with the user's last *active* window, so a user
    who shops once a month still gets a score; otherwise with the window just before (NaN if empty).
    Profiles built with decay are compared window to window as they are.
    """
    values = profiles.values
    n_users, n_windows, _ = profiles.shape
    out = np.full((n_users, n_windows), np.nan)
    if n_windows < 2:
        return out
    present = values.sum(axis=2) > 0
    if skip_empty:
        index = np.where(present, np.arange(n_windows)[None, :], -1)
        last = np.maximum.accumulate(index, axis=1)
        previous = np.concatenate([np.full((n_users, 1), -1), last[:, :-1]], axis=1)
        rows, cols = np.nonzero(present & (previous >= 0))
        out[rows, cols] = js_divergence(values[rows, cols], values[rows, previous[rows, cols]])
    else:
        out[:, 1:] = js_divergence(values[:, 1:], values[:, :-1])
    return out


def drift_frame(profiles: Profiles, *, skip_empty: bool = True) -> pl.DataFrame:
    """Long frame ``user_id, window_start, jsd`` of every defined consecutive-window drift score."""
    scores = consecutive_drift(profiles, skip_empty=skip_empty)
    rows, cols = np.nonzero(np.isfinite(scores))
    return pl.DataFrame(
        {
            "user_id": profiles.user_ids.gather(rows),
            "window_start": profiles.window_starts.gather(cols),
            "jsd": scores[rows, cols],
        }
    )


def drift_summary(profiles: Profiles, *, skip_empty: bool = True) -> pl.DataFrame:
    """Per user: ``max_jsd``, ``mean_jsd``, ``max_window_start`` (when the largest move happened) and
    ``n_scores`` (how many window pairs were compared). Users with nothing to compare get nulls."""
    scores = consecutive_drift(profiles, skip_empty=skip_empty)
    defined = np.isfinite(scores)
    n_scores = defined.sum(axis=1)
    filled = np.where(defined, scores, -1.0)
    arg = filled.argmax(axis=1)
    top = filled.max(axis=1)
    mean = np.where(defined, scores, 0.0).sum(axis=1) / np.maximum(n_scores, 1)
    has = n_scores > 0
    frame = pl.DataFrame(
        {
            "user_id": profiles.user_ids,
            "max_jsd": np.where(has, top, np.nan),
            "mean_jsd": np.where(has, mean, np.nan),
            "max_window_start": profiles.window_starts.gather(arg),
            "n_scores": n_scores.astype(np.int64),
        }
    )
    return frame.with_columns(
        pl.col("max_jsd").fill_nan(None),
        pl.col("mean_jsd").fill_nan(None),
        pl.when(pl.col("n_scores") > 0).then(pl.col("max_window_start")).alias("max_window_start"),
    )
