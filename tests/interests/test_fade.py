"""Fade timing: Kaplan-Meier against a hand computation, censoring, per-group curves, leak-free cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from driftrec.interests.fade import (
    FadeConfig,
    FadeModel,
    fade_cases,
    kaplan_meier,
    km_conditional_median,
    run_lengths,
)
from driftrec.interests.predict import category_runs

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
ITEMS = pl.DataFrame({"item_id": ["x", "y", "z"], "category": ["X", "Y", "Z"]})


def _events(rows: list[tuple[str, str, dt.datetime]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "ts": [r[2] for r in rows],
            "event": ["view"] * len(rows),
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )


def test_kaplan_meier_matches_a_hand_computation_with_censoring() -> None:
    # at risk 5, 4, 2, 1 at t = 1, 2, 3, 4; the censored 2 leaves without a death
    times, surv = kaplan_meier(np.array([1, 2, 2, 3, 4.0]), np.array([1, 1, 0, 1, 1], dtype=bool))
    assert times.tolist() == [1, 2, 3, 4]
    assert surv == pytest.approx([4 / 5, 3 / 5, 3 / 10, 0.0])
    # S first drops to 0.5 or below at t = 3: 2 more after the first; having lasted 2, S halves from 0.8 at 3
    assert km_conditional_median(times, surv, 1.0) == 2.0
    assert km_conditional_median(times, surv, 2.0) == 1.0
    # ignoring censoring would give a different curve
    _, naive = kaplan_meier(np.array([1, 2, 2, 3, 4.0]), np.ones(5, dtype=bool))
    assert naive[1] == pytest.approx(2 / 5)


def test_fade_model_learns_per_category_run_lengths_and_backs_off_to_global() -> None:
    rows = []
    t = T0
    for u in range(6):  # X runs last 5 events, Y runs 1 event, Z (rare) 3 events
        for cat, n in (("x", 5), ("y", 1), ("x", 5), ("y", 1), ("z", 3), ("x", 5)):
            for _ in range(n):
                rows.append((f"u{u}", cat, t))
                t += HOUR
    runs = category_runs(_events(rows), ITEMS)
    model = FadeModel(FadeConfig(unit="events", group="category", min_runs=10)).fit(runs)
    probe = pl.DataFrame({"category": ["X", "Y", "Z"], "user_id": ["u0"] * 3})
    remaining = model.predict(probe)
    # X: 18 runs, 6 of them censored (each user's last): remaining 4; Y: 0; Z has 6 runs < 10 -> global
    assert remaining[0] == 4.0 and remaining[1] == 0.0
    global_model = FadeModel(FadeConfig(group="global")).fit(runs)
    assert remaining[2] == global_model.predict(probe)[2]
    assert model.predict(probe, elapsed=3.0)[0] == 2.0
    days = FadeModel(FadeConfig(unit="days", group="category", min_runs=10)).fit(runs)
    assert days.predict(probe)[0] == pytest.approx(4 / 24)  # 5 hourly events span 4 hours
    assert run_lengths(runs, "days").max() == pytest.approx(4 / 24)


def test_fade_cases_train_on_the_past_and_test_complete_runs_after_the_cut() -> None:
    rows = [("u", c, T0 + i * HOUR) for i, c in enumerate("xxyyyzx")]
    train, test = fade_cases(_events(rows), ITEMS, T0 + 3 * HOUR)
    assert train.get_column("end").max() == T0 + 2 * HOUR
    assert train.select("category", "n_events").rows() == [("X", 2), ("Y", 1)]  # Y cut at the cut-off
    # runs starting at or after the cut: Z (complete); the last X is censored by the end of the log
    assert test.select("category", "n_events").rows() == [("Z", 1)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unit": "weeks"}, "unit must be"),
        ({"group": "brand"}, "group must be"),
        ({"min_runs": 0}, "min_runs"),
    ],
)
def test_fade_config_rejects_bad_fields(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FadeConfig(**kwargs)  # type: ignore[arg-type]
