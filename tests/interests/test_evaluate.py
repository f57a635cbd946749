from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from driftrec.data.schema import TIMESTAMP
from driftrec.interests import evidence_around, match_migrations, score_migrations

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def day(d: float) -> dt.datetime:
    return T0 + dt.timedelta(days=d)


def truth_frame() -> pl.DataFrame:
    rows = [
        ("u1", day(10), day(10), "A", "X", "abrupt"),
        ("u1", day(30), day(30), "X", "Y", "abrupt"),
        ("u2", day(5), day(15), "A", "Z", "gradual"),
        ("u3", day(20), day(22), "A", "B", "burst"),
    ]
    frame = pl.DataFrame(
        rows, schema=["user_id", "ts", "end_ts", "from_category", "to_category", "kind"], orient="row"
    )
    return frame.with_columns(pl.col("ts", "end_ts").cast(TIMESTAMP))


def detections(rows: list[tuple[str, dt.datetime, str]]) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows, schema={"user_id": pl.String, "ts": TIMESTAMP, "to_category": pl.String}, orient="row"
    )
    return frame.with_columns(pl.col("ts").cast(TIMESTAMP))


def test_scores_by_hand() -> None:
    found = detections(
        [
            ("u1", day(11), "X"),  # matches u1's first migration, 24 h late
            ("u1", day(40), "Y"),  # right category, 10 days late: outside 7 days
            ("u1", day(30), "W"),  # right time, wrong category
            ("u2", day(12), "Z"),  # inside the gradual ramp: neutral
            ("u3", day(20), "B"),  # a burst is not a migration: false alarm
        ]
    )
    scores = score_migrations(found, truth_frame(), dt.timedelta(days=7))
    # 1 hit; 5 detections, 1 neutral: precision 1/4; 2 abrupt truths: recall 1/2
    # F1 = 2 (1/4)(1/2) / (1/4 + 1/2) = 1/3
    assert (scores.n_matched, scores.n_neutral, scores.n_truth) == (1, 1, 2)
    assert scores.precision == pytest.approx(0.25)
    assert scores.recall == pytest.approx(0.5)
    assert scores.f1 == pytest.approx(1 / 3)
    assert scores.median_timing_error_hours == pytest.approx(24.0)
    strict = score_migrations(found, truth_frame(), neutral_kinds=())
    assert strict.precision == pytest.approx(0.2)
    wide = score_migrations(found, truth_frame(), dt.timedelta(days=10))
    assert (wide.n_matched, wide.median_timing_error_hours) == (2, pytest.approx(0.5 * (24 + 240)))


def test_matching_is_one_to_one_closest_first() -> None:
    found = detections([("u1", day(12), "X"), ("u1", day(10.5), "X")])
    pairs = match_migrations(found, truth_frame())
    assert pairs.rows() == [(1, 0, 12.0)]
    scores = score_migrations(found, truth_frame())
    assert (scores.precision, scores.recall) == (0.5, 0.5)


def test_interval_truth_and_level() -> None:
    found = detections([("u2", day(16), "Z"), ("u9", day(1), "Q")])
    pairs = match_migrations(found, truth_frame().filter(kind="gradual"))
    assert pairs.rows() == [(0, 0, 24.0)]  # a day after the ramp ended
    leafy = truth_frame().with_columns(pl.col("to_category") + " > leaf")
    assert match_migrations(found, leafy.filter(kind="gradual"), level=0).height == 1


def test_nothing_found() -> None:
    scores = score_migrations(detections([]), truth_frame())
    assert (scores.precision, scores.recall, scores.f1) == (0.0, 0.0, 0.0)
    assert math.isnan(scores.median_timing_error_hours)


def test_evidence_around_counts_active_days() -> None:
    events = pl.DataFrame({"user_id": ["u1"] * 4, "ts": [day(1), day(1.5), day(12), day(31)]}).with_columns(
        pl.col("ts").cast(TIMESTAMP)
    )
    out = evidence_around(truth_frame().filter(user_id="u1"), events)
    assert out.select("n_before", "n_after").rows() == [(1, 2), (2, 1)]
