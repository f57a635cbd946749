"""Scoring detected migrations against planted ones (the synthetic shop's truth).

A detection matches a planted change of the same user when its ``to_category`` is the planted one and
its time lies within ``tolerance`` of the planted interval ``[ts, end_ts]`` (a point for abrupt changes,
a ramp for gradual ones). Matching is one-to-one, closest pairs first, so a detector cannot score twice
on one change. Precision counts every unmatched detection as a false alarm except those that match a
planted change of a *neutral* kind: a gradual shift that was not the target of the evaluation is still a
real change, and calling it a false alarm would punish the detector for being right.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftrec.interests.profiles import category_at_level

_US_PER_HOUR = 3_600_000_000


@dataclass(frozen=True)
class MigrationScores:
    """Precision, recall, F1 and the median timing error (hours) of the matched pairs."""

    precision: float
    recall: float
    f1: float
    median_timing_error_hours: float  # NaN when nothing matched
    n_detected: int
    n_truth: int
    n_matched: int
    n_neutral: int  # detections that matched a neutral planted change (left out of precision)

    def as_dict(self) -> dict[str, float]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "median_timing_error_hours": self.median_timing_error_hours,
            "n_detected": float(self.n_detected),
            "n_truth": float(self.n_truth),
            "n_matched": float(self.n_matched),
            "n_neutral": float(self.n_neutral),
        }


def _truth_at_level(truth: pl.DataFrame, level: int | None) -> pl.DataFrame:
    if level is None:
        return truth
    return truth.with_columns(
        category_at_level("to_category", level).alias("to_category"),
        category_at_level("from_category", level).alias("from_category"),
    )


def match_migrations(
    detected: pl.DataFrame,
    truth: pl.DataFrame,
    tolerance: dt.timedelta = dt.timedelta(days=7),
    *,
    level: int | None = None,
) -> pl.DataFrame:
    """One-to-one pairs ``det, truth, error_hours`` (row indices into the inputs), closest first.

    ``truth`` needs ``user_id, ts, to_category`` and optionally ``end_ts`` (defaults to ``ts``);
    ``level`` cuts its categories to the depth the detections were made at.
    """
    if tolerance < dt.timedelta(0):
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    tol_us = int(tolerance / dt.timedelta(microseconds=1))
    planted = _truth_at_level(truth, level)
    if "end_ts" not in planted.columns:
        planted = planted.with_columns(end_ts=pl.col("ts"))
    keys = [pl.col("user_id").cast(pl.String), pl.col("to_category").cast(pl.String)]
    left = detected.select(*keys, pl.col("ts").dt.epoch("us").alias("d_us")).with_row_index("det")
    right = planted.select(
        *keys,
        pl.col("ts").dt.epoch("us").alias("t0"),
        pl.col("end_ts").dt.epoch("us").alias("t1"),
    ).with_row_index("truth")
    pairs = (
        left.join(right, on=["user_id", "to_category"], how="inner")
        .with_columns(
            error=pl.max_horizontal(pl.col("t0") - pl.col("d_us"), pl.col("d_us") - pl.col("t1"), pl.lit(0))
        )
        .filter(pl.col("error") <= tol_us)
        .sort("error", "det", "truth")
    )
    used_det: set[int] = set()
    used_truth: set[int] = set()
    rows: list[tuple[int, int, float]] = []
    for d, t, err in pairs.select("det", "truth", "error").iter_rows():
        if d in used_det or t in used_truth:
            continue
        used_det.add(d)
        used_truth.add(t)
        rows.append((d, t, err / _US_PER_HOUR))
    return pl.DataFrame(
        rows, schema={"det": pl.UInt32, "truth": pl.UInt32, "error_hours": pl.Float64}, orient="row"
    )


def score_migrations(
    detected: pl.DataFrame,
    truth: pl.DataFrame,
    tolerance: dt.timedelta = dt.timedelta(days=7),
    *,
    kinds: Sequence[str] = ("abrupt",),
    neutral_kinds: Sequence[str] = ("gradual",),
    level: int | None = None,
) -> MigrationScores:
    """Precision, recall and F1 of ``detected`` against the planted changes of ``kinds``.

    Detections matching a planted change of ``neutral_kinds`` (and no target) count neither way. Pass
    ``neutral_kinds=()`` for the strict precision. Without a ``kind`` column all truth rows are targets.
    """
    if "kind" in truth.columns:
        target = truth.filter(pl.col("kind").is_in(list(kinds)))
        neutral = truth.filter(pl.col("kind").is_in(list(neutral_kinds)))
    else:
        target, neutral = truth, truth.clear()
    pairs = match_migrations(detected, target, tolerance, level=level)
    matched = set(pairs["det"].to_list())
    rest = detected.with_row_index("_row").filter(~pl.col("_row").is_in(list(matched)))
    n_neutral = 0
    if neutral.height and rest.height:
        n_neutral = match_migrations(rest.drop("_row"), neutral, tolerance, level=level).height
    tp = pairs.height
    judged = detected.height - n_neutral
    precision = tp / judged if judged > 0 else 0.0
    recall = tp / target.height if target.height > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    errors = pairs["error_hours"].to_numpy()
    return MigrationScores(
        precision=precision,
        recall=recall,
        f1=f1,
        median_timing_error_hours=float(np.median(errors)) if errors.size else math.nan,
        n_detected=detected.height,
        n_truth=target.height,
        n_matched=tp,
        n_neutral=n_neutral,
    )


def evidence_around(
    truth: pl.DataFrame, events: pl.DataFrame, window: dt.timedelta = dt.timedelta(days=1)
) -> pl.DataFrame:
    """``truth`` plus ``n_before``/``n_after``: the user's active windows before ``ts`` and after ``end_ts``.

    A change with no activity on one side cannot be seen in any log; this lets a report say how much of
    the missed recall is the data's, not the detector's. Windows lie on the ``window`` grid from the
    epoch; the windows holding ``ts`` and ``end_ts`` themselves count on neither side.
    """
    width = int(window / dt.timedelta(microseconds=1))
    if width <= 0:
        raise ValueError(f"window must be positive, got {window}")
    if "end_ts" not in truth.columns:
        truth = truth.with_columns(end_ts=pl.col("ts"))
    slots = events.select("user_id", (pl.col("ts").dt.epoch("us") // width).alias("slot")).unique()
    keyed = truth.with_row_index("_t")
    counts = (
        keyed.select(
            "_t",
            "user_id",
            pl.col("ts").dt.epoch("us").alias("t0"),
            pl.col("end_ts").dt.epoch("us").alias("t1"),
        )
        .join(slots, on="user_id", how="inner")
        .group_by("_t")
        .agg(
            n_before=(pl.col("slot") < pl.col("t0") // width).sum().cast(pl.Int64),
            n_after=(pl.col("slot") > pl.col("t1") // width).sum().cast(pl.Int64),
        )
    )
    return (
        keyed.join(counts, on="_t", how="left")
        .with_columns(pl.col("n_before").fill_null(0), pl.col("n_after").fill_null(0))
        .sort("_t")
        .drop("_t")
    )
