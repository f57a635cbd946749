from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import polars as pl
import pytest

from driftrec.data.schema import TIMESTAMP
from driftrec.interests import ProfileConfig, build_profiles, iter_profiles, parse_window, profile_frame

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
ITEMS = pl.DataFrame({"item_id": ["i1", "i2", "i3"], "category": ["A > a", "A > b", "B > c"]})


def hand_events() -> pl.DataFrame:
    rows = [
        ("u1", "i1", T0 + dt.timedelta(hours=10), "view"),  # window 0, weight 1
        ("u1", "i1", T0 + dt.timedelta(hours=11), "purchase"),  # window 0, weight 6
        ("u1", "i2", T0 + dt.timedelta(days=8, hours=10), "click"),  # window 1, weight 2
        ("u1", "i3", T0 + dt.timedelta(days=8, hours=11), "cart"),  # window 1, weight 4
        ("u2", "i3", T0 + dt.timedelta(days=2), "view"),  # window 0, weight 1
    ]
    frame = pl.DataFrame(rows, schema=["user_id", "item_id", "ts", "event"], orient="row")
    return frame.with_columns(pl.col("ts").cast(TIMESTAMP))


def test_window_sums_use_behaviour_weights() -> None:
    frame = profile_frame(hand_events(), ITEMS, ProfileConfig(level=1, window="7d"))
    got = {(r["user_id"], r["window"], r["category"]): r["weight"] for r in frame.iter_rows(named=True)}
    assert got == {
        ("u1", 0, "A > a"): 7.0,
        ("u1", 1, "A > b"): 2.0,
        ("u1", 1, "B > c"): 4.0,
        ("u2", 0, "B > c"): 1.0,
    }
    starts = dict(zip(frame["window"].to_list(), frame["window_start"].to_list(), strict=True))
    assert starts == {0: T0, 1: T0 + dt.timedelta(days=7)}


def test_level_zero_merges_leaves_and_dense_matches_long() -> None:
    profiles = build_profiles(hand_events(), ITEMS, ProfileConfig(level=0, window="7d"))
    assert profiles.categories == ("A", "B")
    assert profiles.user_ids.to_list() == ["u1", "u2"]
    np.testing.assert_allclose(profiles.values[0], [[7.0, 0.0], [2.0, 4.0]])
    np.testing.assert_allclose(profiles.values[1], [[0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(profiles.n_events, [[2, 2], [1, 0]])
    np.testing.assert_allclose(profiles.shares()[0, 1], [1 / 3, 2 / 3])
    assert profiles.to_frame().height == 4


def test_custom_weights_drop_unweighted_events() -> None:
    cfg = ProfileConfig(level=0, window="7d", weights={"view": 1.0, "purchase": 10.0})
    profiles = build_profiles(hand_events(), ITEMS, cfg)
    np.testing.assert_allclose(profiles.values[0], [[11.0, 0.0]])  # the last window held no weighted event


def test_daily_windows_and_explicit_origin() -> None:
    cfg = ProfileConfig(level=0, window="1d", origin=T0 - dt.timedelta(days=1))
    frame = profile_frame(hand_events(), ITEMS, cfg)
    assert sorted(set(frame["window"].to_list())) == [1, 3, 9]


def test_exponential_decay_by_hand() -> None:
    cfg = ProfileConfig(level=0, window="7d", decay_half_life_days=7.0)
    profiles = build_profiles(hand_events(), ITEMS, cfg)
    # window 0 ends at day 7: view aged 6d14h, purchase aged 6d13h
    a0 = 1 * 0.5 ** ((7 - 10 / 24) / 7) + 6 * 0.5 ** ((7 - 11 / 24) / 7)
    # window 1 ends at day 14: A carried over (one half-life) plus the click aged 5d14h; cart aged 5d13h
    a1 = a0 * 0.5 + 2 * 0.5 ** ((6 - 10 / 24) / 7)
    b1 = 4 * 0.5 ** ((6 - 11 / 24) / 7)
    np.testing.assert_allclose(profiles.values[0], [[a0, 0.0], [a1, b1]], rtol=1e-9)
    assert math.isclose(profiles.values[1, 1, 1], 0.5 ** ((7 - 2) / 7) * 0.5)  # u2's view, one window on
    np.testing.assert_array_equal(profiles.n_events[1], [1, 0])


def test_chunks_cover_all_users_with_one_calendar() -> None:
    frame = profile_frame(hand_events(), ITEMS, ProfileConfig(window="7d"))
    blocks = list(iter_profiles(frame, ProfileConfig(window="7d"), chunk_users=1))
    assert [b.user_ids.to_list() for b in blocks] == [["u1"], ["u2"]]
    assert all(b.values.shape == (1, 2, 3) for b in blocks)


def test_lazy_input_gives_the_same_frame() -> None:
    eager = profile_frame(hand_events(), ITEMS)
    lazy = profile_frame(hand_events().lazy(), ITEMS.lazy())
    assert eager.equals(lazy)


def test_parse_window() -> None:
    assert parse_window("7d") == 7 * 86_400_000_000
    assert parse_window("12h") == 12 * 3_600_000_000
    assert parse_window("2w") == 14 * 86_400_000_000
    assert parse_window("1.5d") == 36 * 3_600_000_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": -1}, "level must be an integer in [0, 20], got -1"),
        ({"level": 1.0}, "level must be an integer in [0, 20], got 1.0"),
        (
            {"window": "7 days"},
            "window must look like '7d', '12h' or '2w' (a number and h/d/w), got '7 days'",
        ),
        ({"window": "0d"}, "window must be in (0, 3650] days, got '0d'"),
        ({"decay_half_life_days": 0}, "decay_half_life_days must be None or a number in (0, 3650], got 0"),
        ({"weights": {}}, "weights must be a non-empty mapping of event type to weight, got {}"),
        ({"weights": {"vue": 1.0}}, "weights keys must be event types"),
        ({"weights": {"view": -1.0}}, "weights['view'] must be a finite number >= 0, got -1.0"),
        ({"weights": {"view": 0.0}}, "weights must give at least one event type a weight > 0"),
        ({"origin": dt.datetime(2024, 1, 1)}, "origin must be None or a timezone-aware datetime"),
    ],
)
def test_profile_config_rejects(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ProfileConfig(**kwargs)
