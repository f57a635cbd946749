"""Category demand, MASE/sMAPE against hand computation, forecasts and leak-free rolling-origin backtests."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from driftrec.interests.trends import (
    Backtest,
    ForecastConfig,
    backtest,
    backtest_cutoffs,
    category_demand,
    forecast,
    mase,
    smape,
)

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _events(rows: list[tuple[str, str, dt.datetime, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "ts": [r[2] for r in rows],
            "event": [r[3] for r in rows],
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )


ITEMS = pl.DataFrame({"item_id": ["a", "b", "c"], "category": ["Food > Fruit", "Food > Bread", "Toys"]})


def _series(values: dict[str, list[float]], freq: str = "1d") -> pl.DataFrame:
    n = len(next(iter(values.values())))
    days = pl.datetime_range(T0, T0 + dt.timedelta(days=n - 1), interval=freq, eager=True, time_zone="UTC")
    return pl.concat(
        pl.DataFrame({"category": [c] * n, "ds": days, "y": [float(v) for v in ys]})
        for c, ys in values.items()
    )


# --------------------------------------------------------------------------------------------- metrics
def test_smape_matches_hand_computation() -> None:
    # terms 2|a-f|/(|a|+|f|): 2/3, 0, 0 (0/0 counts as exact) -> mean 2/9 -> 22.2%
    assert smape([1, 2, 0], [2, 2, 0]) == pytest.approx(100 * 2 / 9)
    assert smape([5, 5], [5, 5]) == 0.0
    assert smape([0, 0], [1, 3]) == pytest.approx(200.0)


def test_mase_matches_hand_computation() -> None:
    # lag-1 in-sample scale of [1, 3, 2, 4] = (2 + 1 + 2) / 3; MAE of the forecast = 1
    assert mase([5, 5], [4, 6], [1, 3, 2, 4], season=1) == pytest.approx(3 / 5)
    # season 2: scale = mean(|2-1|, |4-3|) = 1; MAE = 2
    assert mase([5, 5], [3, 7], [1, 3, 2, 4], season=2) == pytest.approx(2.0)


@pytest.mark.parametrize("season", [1, 3, 7])
def test_seasonal_naive_has_mase_one_on_its_own_training_scale(season: int) -> None:
    y = np.random.default_rng(season).gamma(2.0, 5.0, size=60)
    assert mase(y[season:], y[:-season], y, season) == pytest.approx(1.0)


def test_mase_is_nan_on_a_constant_training_series_and_checks_inputs() -> None:
    assert math.isnan(mase([1.0], [2.0], [3, 3, 3, 3], season=1))
    with pytest.raises(ValueError, match="season must be"):
        mase([1.0], [1.0], [1, 2, 3], season=0)
    with pytest.raises(ValueError, match="one shape"):
        smape([1.0, 2.0], [1.0])


# ---------------------------------------------------------------------------------------------- demand
def test_category_demand_fills_zeros_cuts_levels_and_weights() -> None:
    day = dt.timedelta(days=1)
    events = _events(
        [
            ("u", "a", T0, "view"),
            ("u", "b", T0 + dt.timedelta(hours=3), "purchase"),
            ("v", "c", T0 + 2 * day, "view"),
            ("v", "a", T0 + 2 * day + dt.timedelta(hours=23, minutes=59), "cart"),
        ]
    )
    top = category_demand(events, ITEMS, level=0, freq="1d", min_coverage=0.0)
    assert top.columns == ["category", "ds", "y"]
    food = top.filter(pl.col("category") == "Food").get_column("y").to_list()
    assert food == [2.0, 0.0, 1.0]  # the empty middle day is a zero, not a gap
    assert top.filter(pl.col("category") == "Toys").get_column("y").to_list() == [0.0, 0.0, 1.0]
    leaf = category_demand(
        events, ITEMS, level=1, freq="1d", weights={"purchase": 6.0, "cart": 4.0}, min_coverage=0.0
    )
    # views carry no weight; Food > Bread bought on day 0 (6), Food > Fruit carted on day 2 (4)
    by_cat = {
        c: s.get_column("y").to_list() for (c,), s in leaf.partition_by("category", as_dict=True).items()
    }
    assert by_cat == {"Food > Bread": [6.0, 0.0, 0.0], "Food > Fruit": [0.0, 0.0, 4.0]}
    assert category_demand(events, ITEMS, freq="1d", top=1, min_coverage=0.0)[
        "category"
    ].unique().to_list() == ["Food"]


def test_category_demand_drops_half_observed_edge_periods_and_honours_the_window() -> None:
    events = _events(
        [("u", "a", T0 + dt.timedelta(days=d, hours=h), "view") for d in range(3) for h in (12, 18)]
        + [("u", "a", T0 - dt.timedelta(days=300), "view")]  # a stray timestamp far before the log
    )
    demand = category_demand(events, ITEMS, freq="1d", start=T0)
    # data runs from day 0 at 12:00 (half a day seen) to day 2 at 18:00 (three quarters): only day 1 stays
    assert demand.get_column("ds").to_list() == [T0 + dt.timedelta(days=1)]
    with pytest.raises(ValueError, match="freq must be one of"):
        category_demand(events, ITEMS, freq="2d")


# --------------------------------------------------------------------------------------------- backtest
def test_backtest_cutoffs_end_with_the_series_and_refuse_short_ones() -> None:
    periods = [T0 + dt.timedelta(days=i) for i in range(20)]
    assert backtest_cutoffs(periods, horizon=3, n_windows=3) == [11, 14, 17]
    assert backtest_cutoffs(periods, horizon=3, n_windows=2, step=1) == [16, 17]
    with pytest.raises(ValueError, match="too few"):
        backtest_cutoffs(periods, horizon=5, n_windows=4)


def test_backtest_never_lets_a_model_see_its_test_periods() -> None:
    # future periods hold huge spikes: a model that saw them would forecast them
    y = [float(i % 5) for i in range(24)]
    spiky = [v + (1000.0 if i >= 14 else 0.0) for i, v in enumerate(y)]
    demand = _series({"x": spiky, "z": y})
    cfg = ForecastConfig(freq="1d", models=("SeasonalNaive", "Naive"), season_length=5, levels=())
    result = backtest(demand, horizon=3, config=cfg, n_windows=3, step=3, progress=False)
    assert isinstance(result, Backtest)
    assert [c.day for c in result.cutoffs] == [16, 19, 22]  # cut-off indices 15, 18, 21 from Jan 1
    naive = result.forecasts.filter(pl.col("model") == "Naive").sort("category", "cutoff", "ds")
    for (cat, cutoff), part in naive.partition_by(["category", "cutoff"], as_dict=True).items():
        series = spiky if cat == "x" else y
        last_seen = series[(cutoff - T0).days - 1]
        assert part.get_column("mean").to_list() == [last_seen] * 3
    # the periodic series "z" is forecast exactly by its seasonal naive model
    exact = result.scores.filter((pl.col("category") == "z") & (pl.col("model") == "SeasonalNaive"))
    assert exact.get_column("sMAPE").to_list() == [0.0, 0.0, 0.0]
    summary = result.summary
    assert summary.filter(pl.col("model") == "SeasonalNaive")["MASE_vs_baseline"][0] == pytest.approx(1.0)
    assert set(result.metrics("Naive")) == {"MASE", "sMAPE"}


def test_forecast_rows_intervals_and_clipping() -> None:
    demand = _series({"a": [0, 1, 0, 1, 0, 1, 0, 1, 0, 1], "b": [5.0] * 10})
    cfg = ForecastConfig(freq="1d", models=("SeasonalNaive",), season_length=2, levels=(80,))
    out = forecast(demand, 4, cfg)
    assert out.columns == ["category", "ds", "model", "mean", "lo_80", "hi_80"]
    assert out.height == 2 * 4
    a = out.filter(pl.col("category") == "a")
    assert a.get_column("mean").to_list() == [0.0, 1.0, 0.0, 1.0]
    assert a.get_column("ds").min() == T0 + dt.timedelta(days=10)
    assert (out["lo_80"] <= out["mean"]).all() and (out["mean"] <= out["hi_80"]).all()
    assert (out["lo_80"] >= 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"freq": "5d"}, "freq must be one of"),
        ({"models": ("Prophet",)}, "models must be"),
        ({"models": ("AutoETS", "AutoETS")}, "must not repeat"),
        ({"levels": (100,)}, "levels must be"),
        ({"season_length": 0}, "season_length must be"),
        ({"combine": True, "models": ("SeasonalNaive", "AutoETS")}, "combine needs"),
    ],
)
def test_forecast_config_rejects_bad_fields(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ForecastConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.slow
def test_statistical_models_beat_seasonal_naive_on_a_noisy_seasonal_trend() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(120)
    y = 50 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 3, t.size)
    demand = _series({"s": list(np.clip(y, 0, None))})
    cfg = ForecastConfig(freq="1d", combine=True)
    result = backtest(demand, horizon=7, config=cfg, n_windows=3, progress=False)
    summary = {r["model"]: r for r in result.summary.iter_rows(named=True)}
    assert summary["AutoETS"]["MASE"] < summary["SeasonalNaive"]["MASE"]
    assert summary["Combination"]["MASE_vs_baseline"] < 1.0
    fc = forecast(demand, 7, cfg)
    intervals = fc.filter(pl.col("model") != "Combination")
    assert (intervals["lo_95"] <= intervals["lo_80"]).all() and (
        intervals["hi_80"] <= intervals["hi_95"]
    ).all()
