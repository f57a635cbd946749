from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import polars as pl
import pytest

from driftrec.data.schema import TIMESTAMP
from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.interests import (
    DetectionConfig,
    MultinomialCost,
    ProfileConfig,
    best_split_gain,
    build_profiles,
    detect_migrations,
    find_migrations,
    matrix_array,
    migration_matrix,
    score_migrations,
)
from driftrec.interests.migration import _refined_row, feedback_at_purchase

from .conftest import START, daily_log, items_frame


def test_switch_at_day_50_is_found_and_stable_user_is_not(
    switch_and_stable: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    events, items = switch_and_stable
    for method in ("binseg", "pelt"):
        found = find_migrations(events, items, detection_config=DetectionConfig(method=method))
        assert found["user_id"].to_list() == ["u_switch"], method
        row = found.row(0, named=True)
        assert abs(row["ts"] - (START + dt.timedelta(days=50))) <= dt.timedelta(days=1)
        assert (row["from_category"], row["to_category"]) == ("Toys > Puzzles", "Garden > Plants")
        assert row["kind"] == "abrupt"
        assert 0.5 < row["magnitude"] <= 1.0
        assert (row["n_before"], row["n_after"]) == (50, 50)


def test_top_level_detection_names_top_categories(
    switch_and_stable: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    events, items = switch_and_stable
    found = find_migrations(events, items, ProfileConfig(level=0, window="1d"))
    assert found.select("from_category", "to_category").row(0) == ("Toys", "Garden")


def test_slow_handover_is_gradual() -> None:
    days = [(1.0 - d / 40, 0.0, d / 40, 0.0) for d in range(40)]
    ramp = [(1.0, 0.0, 0.0, 0.0)] * 20 + days + [(0.0, 0.0, 1.0, 0.0)] * 20
    events = daily_log("u_ramp", ramp, seed=3, per_day=6)
    found = find_migrations(events, items_frame(), detection_config=DetectionConfig(max_overlap=1.0))
    assert found.height >= 1
    assert found["kind"].to_list()[0] == "gradual"
    assert found["to_category"].to_list()[0] == "Garden > Plants"


def test_prefilter_does_not_change_binseg() -> None:
    shop = generate(SyntheticShopConfig(n_users=300, seed=5))
    ev, items = shop.dataset.events, shop.dataset.items
    fast = find_migrations(ev, items, detection_config=DetectionConfig(prefilter=True), chunk_users=100)
    slow = find_migrations(ev, items, detection_config=DetectionConfig(prefilter=False))
    assert fast.equals(slow)
    assert fast.height > 0


def test_synthetic_shop_regression() -> None:
    """Dense histories (200 events per user): most planted abrupt migrations are found."""
    shop = generate(SyntheticShopConfig(n_users=400, seed=11, events_per_user_mean=200.0))
    found = find_migrations(shop.dataset.events, shop.dataset.items)
    scores = score_migrations(found, shop.truth)
    assert scores.f1 > 0.6, scores


def test_decayed_profiles_are_refused(switch_and_stable: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    events, items = switch_and_stable
    profiles = build_profiles(events, items, ProfileConfig(window="1d", decay_half_life_days=3.0))
    with pytest.raises(ValueError, match="decay_half_life_days=None"):
        detect_migrations(profiles)


def test_multinomial_cost_by_hand() -> None:
    # rows (2, 0) and (0, 2): whole segment n = (2, 2): 4 ln 4 - 2 (2 ln 2) = 4 ln 2
    # each half alone: 2 ln 2 - 2 ln 2 = 0
    cost = MultinomialCost().fit(np.array([[2.0, 0.0], [0.0, 2.0]]))
    assert cost.error(0, 2) == pytest.approx(4 * math.log(2))
    assert cost.error(0, 1) == pytest.approx(0.0)
    unit = np.array([[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])
    gain = best_split_gain(unit, unit.sum(axis=2) > 0, min_size=1)
    assert gain[0] == pytest.approx(2 * math.log(2))  # 2 ln 2 - 0 - 0
    assert best_split_gain(unit, unit.sum(axis=2) > 0, min_size=2)[0] == -np.inf


def test_migration_matrix_overall_and_per_segment() -> None:
    ts = pl.datetime(2024, 1, 1, time_zone="UTC")
    migrations = pl.DataFrame(
        {
            "user_id": ["a", "b", "c", "d"],
            "from_category": ["X", "X", "X", "Y"],
            "to_category": ["Y", "Y", "Z", "X"],
            "magnitude": [0.5, 0.7, 0.4, 0.6],
        }
    ).with_columns(ts=ts)
    segments = pl.DataFrame({"user_id": ["a", "b", "c"], "segment": [1, 2, 2]})
    flows = migration_matrix(migrations, segments)
    overall = flows.filter(segment="all")
    assert overall.select("from_category", "to_category", "flow", "share").rows() == [
        ("X", "Y", 2.0, 2 / 3),
        ("X", "Z", 1.0, 1 / 3),
        ("Y", "X", 1.0, 1.0),
    ]
    assert flows.filter(segment="2").select("to_category", "share").rows() == [("Y", 0.5), ("Z", 0.5)]
    dense, labels = matrix_array(flows)
    assert labels == ["X", "Y", "Z"]
    np.testing.assert_allclose(dense, [[0, 2, 1], [1, 0, 0], [0, 0, 0]])
    by_magnitude = migration_matrix(migrations, value="magnitude")
    assert by_magnitude.filter(from_category="X", to_category="Y")["flow"].item() == pytest.approx(1.2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "dynp"}, "method must be one of ('binseg', 'pelt'), got 'dynp'"),
        ({"penalty": 0}, "penalty must be a number in (0, 1e+06], got 0"),
        ({"penalty_scale": "sqrt"}, "penalty_scale must be one of ('log_n', 'constant'), got 'sqrt'"),
        ({"min_size": 0}, "min_size must be an integer in [1, 1000], got 0"),
        ({"mass_exponent": 2}, "mass_exponent must be a number in [0, 1], got 2"),
        ({"min_share": 1.5}, "min_share must be a number in [0, 1], got 1.5"),
        ({"max_overlap": -0.1}, "max_overlap must be a number in [0, 1], got -0.1"),
        ({"gradual_min_days": math.nan}, "gradual_min_days must be a number in [0, 3650], got nan"),
        ({"prefilter": 1}, "prefilter must be a bool, got 1"),
        ({"refine_timing": "yes"}, "refine_timing must be a bool, got 'yes'"),
        ({"feedback_at_purchase": 0}, "feedback_at_purchase must be a bool, got 0"),
        ({"burst_max_days": -1}, "burst_max_days must be a number in [0, 3650], got -1"),
        ({"max_targets": 0}, "max_targets must be an integer >= 1, got 0"),
    ],
)
def test_detection_config_rejects(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        DetectionConfig(**kwargs)


def _log(user: str, days: list[tuple[int, int, int]], event: str = "view") -> pl.DataFrame:
    """``(day, leaf index, views)`` rows as a log: views at noon, a minute apart."""
    rows = [
        (user, f"i{leaf}", START + dt.timedelta(days=day, hours=12, minutes=k), event)
        for day, leaf, n in days
        for k in range(n)
    ]
    frame = pl.DataFrame(rows, schema=["user_id", "item_id", "ts", "event"], orient="row")
    return frame.with_columns(pl.col("ts").cast(TIMESTAMP))


def test_timing_is_refined_to_the_gap_between_old_and_new_category() -> None:
    # Puzzles (0) days 0-9, then only the standing Fiction (3) interest on days 12, 15, 18, Plants (2)
    # from day 20: the move happened between the end of day 9 and the start of day 20, so mid-gap is
    # day 15 00:00, wherever the segmentation put its boundary among the Fiction-only days
    days = [(d, 0, 4) for d in range(10)] + [(d, 3, 2) for d in (12, 15, 18)]
    days += [(d, 2, 4) for d in range(20, 30)] + [(d, 3, 1) for d in (*range(10), *range(20, 30))]
    events = _log("u", days)
    found = find_migrations(events, items_frame())
    assert found.select("from_category", "to_category").rows() == [("Toys > Puzzles", "Garden > Plants")]
    assert found["ts"].item() == START + dt.timedelta(days=15)
    assert (found["n_before"].item(), found["n_after"].item()) == (10, 10)
    plain = find_migrations(events, items_frame(), detection_config=DetectionConfig(refine_timing=False))
    assert plain["ts"].item() != START + dt.timedelta(days=15)  # the boundary fell elsewhere


def test_refined_split_brackets_the_move() -> None:
    # columns: from, to, standing; the rows between the last from (1) and first to (4) hold neither
    rows = np.array([[3, 0, 1], [2, 0, 0], [0, 0, 2], [0, 0, 1], [0, 2, 1], [0, 3, 0]], dtype=float)
    assert _refined_row(rows, frm=0, to=1) == (1, 4)


def test_new_category_is_judged_at_its_own_split() -> None:
    # Puzzles (0) early, then Fiction (3); Plants (2) first shows on day 14, in a Fiction day, then
    # takes over. The segmentation's boundary lands after the Fiction days, where Plants already held
    # more than max_overlap; judged at the split that brackets the move, Plants is new.
    days = [(0, 0, 24), (6, 3, 9), (6, 0, 1), (14, 3, 7), (14, 2, 2), (20, 3, 1), (20, 2, 1)]
    days += [(27, 2, 6), (32, 2, 2), (44, 2, 6), (52, 2, 9), (55, 2, 1), (55, 1, 3)]
    events = _log("u", days)
    found = find_migrations(events, items_frame())
    assert found["to_category"].to_list() == ["Garden > Plants"]
    assert START + dt.timedelta(days=7) <= found["ts"].item() <= START + dt.timedelta(days=20)
    plain = find_migrations(events, items_frame(), detection_config=DetectionConfig(refine_timing=False))
    assert plain.height == 0


def test_feedback_is_dated_at_the_purchase() -> None:
    purchase = _log("u", [(1, 0, 1)], "purchase")
    rating = _log("u", [(5, 0, 1)], "rating")  # of the purchased item: moves to day 1
    orphan = _log("u", [(6, 1, 1)], "review")  # no purchase of i1 in the log: keeps its time
    out = feedback_at_purchase(pl.concat([purchase, rating, orphan])).collect().sort("event", "ts")
    assert out.select("event", "item_id", "ts").rows() == [
        ("purchase", "i0", START + dt.timedelta(days=1, hours=12)),
        ("rating", "i0", START + dt.timedelta(days=1, hours=12)),
        ("review", "i1", START + dt.timedelta(days=6, hours=12)),
    ]


def test_a_burst_that_reverts_is_not_a_migration() -> None:
    # Puzzles for ten days, two busy days on Plants, back to Puzzles on day 15
    days = [(d, 0, 4) for d in range(10)] + [(10, 2, 8), (11, 2, 8), (15, 0, 2)]
    events = _log("u", days)
    flagged = find_migrations(events, items_frame())  # without the filter: a move at day 10/11
    assert flagged["to_category"].to_list() == ["Garden > Plants"]
    kept = find_migrations(events, items_frame(), detection_config=DetectionConfig(burst_max_days=3.0))
    assert kept.height == 0
    # a move that stays is kept by the same filter
    stay = _log("v", [(d, 0, 4) for d in range(20)] + [(d, 2, 4) for d in range(20, 40)])
    moved = find_migrations(stay, items_frame(), detection_config=DetectionConfig(burst_max_days=3.0))
    assert moved["to_category"].to_list() == ["Garden > Plants"]


def test_two_new_categories_at_one_change_with_max_targets() -> None:
    days = [(d, 0, 6) for d in range(15)] + [(d, leaf, 3) for d in range(15, 30) for leaf in (1, 2)]
    events = _log("u", days)
    one = find_migrations(events, items_frame())
    two = find_migrations(events, items_frame(), detection_config=DetectionConfig(max_targets=2))
    assert one.height == 1
    assert sorted(two["to_category"].to_list()) == ["Garden > Plants", "Toys > Dolls"]
    assert two["ts"].n_unique() == 1
