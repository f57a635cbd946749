from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import polars as pl
import pytest

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
    ],
)
def test_detection_config_rejects(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        DetectionConfig(**kwargs)
