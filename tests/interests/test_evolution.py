from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from driftrec.data.schema import TIMESTAMP
from driftrec.interests import ProfileConfig, build_profiles
from driftrec.interests.evolution import (
    STAGES,
    EvolutionConfig,
    find_bursts,
    popularity_curves,
    popularity_stages,
    smoothed_shares,
    stage_array,
    trajectory_summary,
)

from .conftest import START, daily_log, items_frame

DAILY = ProfileConfig(window="1d")


def _names(codes: np.ndarray) -> list[str]:
    return [STAGES[int(k)] for k in codes]


def test_stages_of_a_hand_trajectory() -> None:
    rise_and_fall = [0.0, 0.2, 0.5, 1.0, 0.9, 0.5, 0.2, 0.0]
    flat = [0.5] * 8
    traj = np.array([rise_and_fall, flat]).T  # (W, C)
    codes = stage_array(traj, EvolutionConfig(present_share=0.05, peak_fraction=0.8, steady_range=0.5))
    assert _names(codes[:, 0]) == ["absent", "rise", "rise", "peak", "peak", "fade", "fade", "absent"]
    assert _names(codes[:, 1]) == ["steady"] * 8


def test_smoothing_fills_silent_days_and_averages() -> None:
    log = pl.concat(
        [
            daily_log("u", [(1.0, 0.0, 0.0, 0.0)], seed=0),
            daily_log("u", [(0.0, 0.0, 1.0, 0.0)], seed=0).with_columns(pl.col("ts") + dt.timedelta(days=3)),
        ]
    )
    profiles = build_profiles(log, items_frame(), DAILY)
    traj = smoothed_shares(profiles, EvolutionConfig(smooth=2))
    puzzles = profiles.categories.index("Toys > Puzzles")
    plants = profiles.categories.index("Garden > Plants")
    # days 0..3: Puzzles observed on day 0 and carried through the silent days 1-2; Plants on day 3
    np.testing.assert_allclose(traj[0, :, puzzles], [1.0, 1.0, 1.0, 0.5])
    np.testing.assert_allclose(traj[0, :, plants], [0.0, 0.0, 0.0, 0.5])


def test_switch_user_rises_peaks_and_fades(switch_and_stable: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    events, items = switch_and_stable
    summary = trajectory_summary(build_profiles(events, items, DAILY), EvolutionConfig(smooth=7))
    rows = {(r["user_id"], r["category"]): r for r in summary.iter_rows(named=True)}
    day50 = START + dt.timedelta(days=50)
    puzzles, plants = rows[("u_switch", "Toys > Puzzles")], rows[("u_switch", "Garden > Plants")]
    assert abs((puzzles["fade_ts"] - day50).days) <= 3
    assert puzzles["stage_now"] == "absent"
    assert abs((plants["rise_ts"] - day50).days) <= 2
    assert plants["stage_now"] in ("peak", "steady")
    assert plants["fade_ts"] is None
    assert ("u_stable", "Garden > Plants") not in rows
    assert rows[("u_stable", "Toys > Puzzles")]["stage_now"] in ("peak", "steady")


def test_burst_is_found_and_a_switch_is_not() -> None:
    base, burst = (1.0, 0.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0)
    burster = daily_log("u_burst", [base] * 10 + [burst] + [base] * 19, seed=3, per_day=10)
    switcher = daily_log("u_switch", [base] * 15 + [burst] * 15, seed=4, per_day=10)
    steady = daily_log("u_mixed", [(0.5, 0.5, 0.0, 0.0)] * 30, seed=5, per_day=12)
    profiles = build_profiles(pl.concat([burster, switcher, steady]), items_frame(), DAILY)
    bursts = find_bursts(profiles)
    assert bursts["user_id"].to_list() == ["u_burst"]
    row = bursts.row(0, named=True)
    assert row["category"] == "Garden > Plants"
    assert row["ts"] == START + dt.timedelta(days=10)
    assert row["n_windows"] == 1
    assert row["jump"] == pytest.approx(1.0)


def test_two_window_burst_is_one_burst() -> None:
    base, burst = (1.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0)
    log = daily_log("u", [base] * 8 + [burst] * 2 + [base] * 8, seed=6, per_day=8)
    bursts = find_bursts(build_profiles(log, items_frame(), DAILY))
    assert bursts.height == 1
    assert bursts["n_windows"].to_list() == [2]
    assert bursts["end_ts"].to_list() == [START + dt.timedelta(days=9)]


def test_popularity_curves_by_hand() -> None:
    events = pl.DataFrame(
        {
            "user_id": ["a", "a", "b", "b"],
            "item_id": ["i0", "i2", "i0", "i0"],
            "ts": [START, START, START + dt.timedelta(hours=1), START + dt.timedelta(days=1)],
            "event": ["view", "purchase", "click", "view"],
        }
    ).with_columns(pl.col("ts").cast(TIMESTAMP))
    curves = popularity_curves(events, items_frame(), DAILY)
    day0 = {r["category"]: r for r in curves.filter(window=0).iter_rows(named=True)}
    # day 0: Puzzles view(1) + click(2) from two users, Plants purchase(6) from one
    assert day0["Toys > Puzzles"]["weight"] == 3.0
    assert day0["Toys > Puzzles"]["n_users"] == 2
    assert day0["Garden > Plants"]["share"] == pytest.approx(6 / 9)
    assert curves.filter(window=1)["share"].to_list() == [1.0]
    stages = popularity_stages(curves, EvolutionConfig(smooth=1, present_share=0.0))
    assert set(stages["stage"].to_list()) <= set(STAGES)
    assert stages.height == 2 * 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"smooth": 0}, "smooth"),
        ({"smooth": 1.5}, "smooth"),
        ({"present_share": 2.0}, "present_share"),
        ({"burst_jump": 0.0}, "burst_jump"),
        ({"burst_max_windows": True}, "burst_max_windows"),
    ],
)
def test_evolution_config_rejects(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EvolutionConfig(**kwargs)  # type: ignore[arg-type]


def test_late_joiner_is_steady_not_rising() -> None:
    early = daily_log("u_early", [(1.0, 0.0, 0.0, 0.0)] * 30, seed=7, per_day=6)
    late = daily_log("u_late", [(0.0, 0.0, 0.0, 1.0)] * 10, seed=8, per_day=6).with_columns(
        pl.col("ts") + dt.timedelta(days=20)
    )
    summary = trajectory_summary(build_profiles(pl.concat([early, late]), items_frame(), DAILY))
    row = summary.filter(user_id="u_late").row(0, named=True)
    assert row["category"] == "Books > Fiction"
    assert row["rise_ts"] == START + dt.timedelta(days=20)
    assert row["stage_now"] == "steady"
    assert row["windows_present"] == 10
