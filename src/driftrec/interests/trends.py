"""Category demand trends: per-category demand series, statistical forecasts, rolling-origin backtests.

Demand is the number (or behaviour-weighted sum) of events per category and period, at any depth of the
category tree, on a complete calendar (periods without events are zeros, not gaps, so a model never
mistakes a quiet week for a missing one). Forecasts come from ``statsforecast`` (SeasonalNaive, AutoETS,
AutoARIMA, ...) with prediction intervals; demand cannot be negative, so means and bounds are clipped at
zero. A backtest refits every model at several cut-offs (rolling origin) on data strictly before each
cut-off and scores the next ``horizon`` periods with MASE and sMAPE (pure functions, below).

Shapes (Polars, long): demand ``category, ds, y``; forecasts ``category, ds, model, mean, lo_<L>, hi_<L>``;
backtest scores ``cutoff, category, model, MASE, sMAPE``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

from driftrec.data.schema import EVENT_TYPES, TIMESTAMP
from driftrec.interests.profiles import category_at_level
from driftrec.progress import track

__all__ = [
    "BASELINE_MODEL",
    "COMBINATION",
    "FREQUENCIES",
    "MODELS",
    "Backtest",
    "ForecastConfig",
    "backtest",
    "backtest_cutoffs",
    "category_demand",
    "forecast",
    "long_forecasts",
    "mase",
    "smape",
    "wide_forecasts",
]

logger = logging.getLogger(__name__)

#: Supported periods (Polars durations) and the season length each implies by default.
FREQUENCIES: Final[dict[str, int]] = {"1h": 24, "1d": 7, "1w": 52, "1mo": 12}
#: statsforecast models by name; each takes ``season_length``.
MODELS: Final[tuple[str, ...]] = (
    "SeasonalNaive",
    "Naive",
    "HistoricAverage",
    "AutoETS",
    "AutoARIMA",
    "AutoTheta",
)
#: The model every backtest is compared with.
BASELINE_MODEL: Final = "SeasonalNaive"
#: Name of the equal-weight combination of the non-baseline models (``ForecastConfig.combine``).
COMBINATION: Final = "Combination"
_FREQ_RE: Final = re.compile(r"^1(h|d|w|mo)$")


def _check_freq(freq: str) -> str:
    if not isinstance(freq, str) or _FREQ_RE.match(freq) is None:
        raise ValueError(f"freq must be one of {tuple(FREQUENCIES)}, got {freq!r}")
    return freq


# --------------------------------------------------------------------------------------------- demand
def category_demand(
    events: pl.DataFrame | pl.LazyFrame,
    items: pl.DataFrame | pl.LazyFrame,
    *,
    level: int = 0,
    freq: str = "1d",
    weights: Mapping[str, float] | None = None,
    top: int | None = None,
    min_coverage: float = 0.9,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> pl.DataFrame:
    """Demand per category (cut at ``level`` of the path) and period, zeros filled: ``category, ds, y``.

    ``weights``: behaviour weights (event type -> weight; types left out are ignored); None counts every
    event once. ``top``: keep the ``top`` categories with the largest total demand. ``min_coverage``:
    drop the first and last period when the log covers less than this share of it, since a half-observed
    period looks like a collapse in demand. ``start``/``end``: keep events in ``[start, end)`` only (logs
    often hold a few stray timestamps far outside their real span). ``ds`` is the period start (UTC),
    sorted by category, ds.
    """
    _check_freq(freq)
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 20:
        raise ValueError(f"level must be an integer in [0, 20], got {level!r}")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ValueError(f"top must be None or an integer >= 1, got {top!r}")
    if not 0.0 <= min_coverage <= 1.0:
        raise ValueError(f"min_coverage must be in [0, 1], got {min_coverage!r}")
    if weights is not None:
        bad = [k for k in weights if k not in EVENT_TYPES]
        if bad or not weights:
            raise ValueError(f"weights must map event types {EVENT_TYPES} to numbers, got {dict(weights)!r}")
    ev = events.lazy().select("item_id", "ts", "event")
    if start is not None:
        ev = ev.filter(pl.col("ts") >= _utc(start))
    if end is not None:
        ev = ev.filter(pl.col("ts") < _utc(end))
    if weights is not None:
        kept = {k: float(v) for k, v in weights.items() if v > 0}
        ev = ev.filter(pl.col("event").is_in(list(kept))).with_columns(
            w=pl.col("event").replace_strict(kept, return_dtype=pl.Float64)
        )
    else:
        ev = ev.with_columns(w=pl.lit(1.0))
    cats = items.lazy().select("item_id", category_at_level("category", level).alias("category"))
    joined = (
        ev.join(cats, on="item_id", how="inner")
        .filter(pl.col("category").is_not_null() & (pl.col("category") != ""))
        .collect()
    )
    if joined.height == 0:
        raise ValueError("no event has an item with a category: cannot build demand")
    first, last = joined.get_column("ts").min(), joined.get_column("ts").max()
    assert isinstance(first, dt.datetime) and isinstance(last, dt.datetime)
    counts = (
        joined.with_columns(ds=pl.col("ts").dt.truncate(freq))
        .group_by("category", "ds")
        .agg(y=pl.col("w").sum())
    )
    calendar = _calendar(first, last, freq, min_coverage)
    if calendar.height == 0:
        raise ValueError("the log covers no complete period: choose a shorter freq")
    totals = (
        counts.group_by("category")
        .agg(total=pl.col("y").sum())
        .sort(["total", "category"], descending=[True, False])
    )
    if top is not None:
        totals = totals.head(top)
    grid = totals.select("category").join(calendar, how="cross")
    out = (
        grid.join(counts, on=["category", "ds"], how="left")
        .with_columns(pl.col("y").fill_null(0.0), pl.col("ds").cast(TIMESTAMP))
        .sort("category", "ds")
    )
    return out.select("category", "ds", "y")


def _calendar(first: dt.datetime, last: dt.datetime, freq: str, min_coverage: float) -> pl.DataFrame:
    """Period starts from ``first`` to ``last``, without edge periods covered less than ``min_coverage``."""
    starts = pl.datetime_range(
        pl.lit(first).dt.truncate(freq), pl.lit(last).dt.truncate(freq), interval=freq, eager=True
    ).alias("ds")
    frame = pl.DataFrame({"ds": starts}).with_columns(end=pl.col("ds").dt.offset_by(freq))
    length = (frame.get_column("end") - frame.get_column("ds")).dt.total_microseconds().cast(pl.Float64)
    first_us = _us(first)
    last_us = _us(last)
    start_us = frame.get_column("ds").dt.epoch("us").cast(pl.Float64)
    end_us = frame.get_column("end").dt.epoch("us").cast(pl.Float64)
    covered = (end_us.clip(upper_bound=last_us + 1) - start_us.clip(lower_bound=first_us)) / length
    return frame.filter(covered >= min_coverage).select("ds")


def _utc(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def _us(t: dt.datetime) -> float:
    t = _utc(t)
    return float((t - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1))


# ------------------------------------------------------------------------------------------- metrics
def smape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Symmetric MAPE in percent (0..200, as in the M4 competition); 0/0 periods count as exact."""
    a, f = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if a.shape != f.shape or a.size == 0:
        raise ValueError(f"y_true and y_pred must be non-empty and of one shape, got {a.shape} and {f.shape}")
    den = np.abs(a) + np.abs(f)
    terms = np.divide(2.0 * np.abs(a - f), den, out=np.zeros_like(den), where=den > 0)
    return float(100.0 * terms.mean())


def mase(y_true: ArrayLike, y_pred: ArrayLike, y_train: ArrayLike, season: int = 1) -> float:
    """Mean absolute error scaled by the in-sample MAE of the seasonal naive forecast on ``y_train``.

    MASE < 1: better than repeating last season in sample. Falls back to lag 1 when the training series
    is not longer than ``season``; NaN when the scale is 0 (a constant training series).
    """
    a, f = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    train = np.asarray(y_train, dtype=np.float64)
    if a.shape != f.shape or a.size == 0:
        raise ValueError(f"y_true and y_pred must be non-empty and of one shape, got {a.shape} and {f.shape}")
    if isinstance(season, bool) or not isinstance(season, int) or season < 1:
        raise ValueError(f"season must be an integer >= 1, got {season!r}")
    lag = season if train.size > season else 1
    if train.size <= lag:
        raise ValueError(f"y_train needs more than {lag} values to scale MASE, got {train.size}")
    scale = float(np.mean(np.abs(train[lag:] - train[:-lag])))
    if scale == 0.0:
        return math.nan
    return float(np.mean(np.abs(a - f)) / scale)


# ------------------------------------------------------------------------------------------ forecast
@dataclass(frozen=True)
class ForecastConfig:
    """freq: the demand's period; season_length: periods per season (None = the freq's default: 24 hours,
    7 days, 52 weeks, 12 months); models: statsforecast model names; levels: prediction-interval
    coverages in percent; combine: add the equal-weight mean of the non-baseline models ("Combination",
    no intervals), a forecast combination that is often more accurate than any one of its members.
    """

    freq: str = "1d"
    season_length: int | None = None
    models: tuple[str, ...] = ("SeasonalNaive", "AutoETS", "AutoARIMA")
    levels: tuple[int, ...] = (80, 95)
    combine: bool = False
    n_jobs: int = 1

    def __post_init__(self) -> None:
        _check_freq(self.freq)
        s = self.season_length
        if s is not None and (isinstance(s, bool) or not isinstance(s, int) or s < 1):
            raise ValueError(f"season_length must be None or an integer >= 1, got {s!r}")
        if isinstance(self.models, str) or not self.models or any(m not in MODELS for m in self.models):
            raise ValueError(f"models must be a non-empty tuple of {MODELS}, got {self.models!r}")
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"models must not repeat, got {self.models!r}")
        if any(isinstance(v, bool) or not isinstance(v, int) or not 0 < v < 100 for v in self.levels):
            raise ValueError(f"levels must be integers in (0, 100), got {self.levels!r}")
        if not isinstance(self.combine, bool):
            raise ValueError(f"combine must be a bool, got {self.combine!r}")
        if self.combine and len([m for m in self.models if m != BASELINE_MODEL]) < 2:
            raise ValueError("combine needs at least two models besides the SeasonalNaive baseline")
        if isinstance(self.n_jobs, bool) or not isinstance(self.n_jobs, int) or self.n_jobs == 0:
            raise ValueError(f"n_jobs must be a non-zero integer (-1 = all cores), got {self.n_jobs!r}")

    @property
    def season(self) -> int:
        return self.season_length if self.season_length is not None else FREQUENCIES[self.freq]

    @property
    def model_names(self) -> tuple[str, ...]:
        return (*self.models, COMBINATION) if self.combine else self.models


def _build_models(config: ForecastConfig, n: int) -> list[Any]:
    from statsforecast import models as sf_models  # heavy import (pandas, statsmodels): only when used

    season = config.season if n > 2 * config.season else 1
    out = []
    for name in config.models:
        cls = getattr(sf_models, name)
        if name in ("Naive", "HistoricAverage"):
            out.append(cls())
        elif name == "SeasonalNaive":
            out.append(cls(season_length=season))
        else:
            out.append(cls(season_length=season))
    return out


def forecast(demand: pl.DataFrame, horizon: int, config: ForecastConfig | None = None) -> pl.DataFrame:
    """Forecast ``horizon`` periods past the end of every category's series, with intervals.

    Returns ``category, ds, model, mean, lo_<L>, hi_<L>`` (one row per category, period and model).
    Seasonal models fall back to season 1 on series shorter than two seasons (nothing to learn from).
    """
    cfg = config if config is not None else ForecastConfig()
    return long_forecasts(wide_forecasts(demand, horizon, cfg), cfg.models, cfg)


def wide_forecasts(demand: pl.DataFrame, horizon: int, cfg: ForecastConfig) -> pl.DataFrame:
    """statsforecast's own output: ``unique_id, ds`` (naive UTC), ``Model``, ``Model-lo-80``, ..."""
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1, got {horizon!r}")
    missing = {"category", "ds", "y"} - set(demand.columns)
    if missing:
        raise ValueError(f"demand needs columns category, ds, y; missing {sorted(missing)}")
    lengths = demand.group_by("category").len().get_column("len")
    if demand.height == 0 or int(lengths.min()) < 3:  # type: ignore[arg-type]
        raise ValueError("every category needs at least 3 periods of demand to forecast")
    from statsforecast import StatsForecast

    frame = demand.select(
        pl.col("category").alias("unique_id"),
        pl.col("ds").dt.replace_time_zone(None),
        pl.col("y").cast(pl.Float64),
    ).sort("unique_id", "ds")
    engine = StatsForecast(models=_build_models(cfg, int(lengths.min())), freq=cfg.freq, n_jobs=cfg.n_jobs)  # type: ignore[arg-type]
    wide = engine.forecast(df=frame, h=horizon, level=list(cfg.levels) if cfg.levels else None)
    if not isinstance(wide, pl.DataFrame):
        wide = pl.from_pandas(wide)
    return wide


def long_forecasts(wide: pl.DataFrame, names: Sequence[str], cfg: ForecastConfig) -> pl.DataFrame:
    """statsforecast's wide frame (``Model``, ``Model-lo-80``...) -> one row per model, clipped at 0."""
    parts = []
    for name in names:
        cols = [pl.col(name).alias("mean")]
        for lv in cfg.levels:
            cols += [pl.col(f"{name}-lo-{lv}").alias(f"lo_{lv}"), pl.col(f"{name}-hi-{lv}").alias(f"hi_{lv}")]
        parts.append(wide.select("unique_id", "ds", pl.lit(name).alias("model"), *cols))
    out = pl.concat(parts)
    bounds = [c for c in out.columns if c == "mean" or c.startswith(("lo_", "hi_"))]
    # demand is never negative; round-off dust (1e-12 where the truth is 0) would cost 200% sMAPE
    out = out.with_columns(
        [
            pl.when(pl.col(c) < 1e-9).then(0.0).otherwise(pl.col(c)).cast(pl.Float64).fill_nan(None).alias(c)
            for c in bounds
        ]
    )
    if cfg.combine:
        members = [m for m in cfg.models if m != BASELINE_MODEL]
        combo = (
            out.filter(pl.col("model").is_in(members))
            .group_by("unique_id", "ds")
            .agg(pl.col("mean").mean())
            .with_columns(pl.lit(COMBINATION).alias("model"))
        )
        out = pl.concat([out, combo], how="diagonal_relaxed")
    return (
        out.rename({"unique_id": "category"})
        .with_columns(pl.col("ds").dt.replace_time_zone("UTC").cast(TIMESTAMP))
        .select("category", "ds", "model", *bounds)
        .sort("category", "model", "ds")
    )


# ------------------------------------------------------------------------------------------ backtest
@dataclass(frozen=True)
class Backtest:
    """scores: ``cutoff, category, model, MASE, sMAPE`` per series and window; forecasts: the backtest's
    forecasts joined with the actuals ``y``; summary: per model the mean MASE (finite scores only) and
    sMAPE over all series and windows, with ``MASE_vs_baseline`` = MASE / SeasonalNaive's MASE.
    """

    scores: pl.DataFrame
    forecasts: pl.DataFrame
    cutoffs: tuple[dt.datetime, ...]
    horizon: int
    config: ForecastConfig = field(default_factory=ForecastConfig)

    @property
    def summary(self) -> pl.DataFrame:
        agg = (
            self.scores.group_by("model")
            .agg(
                pl.col("MASE").filter(pl.col("MASE").is_finite()).mean().alias("MASE"),
                pl.col("MASE").filter(pl.col("MASE").is_finite()).median().alias("MASE_median"),
                pl.col("sMAPE").mean().alias("sMAPE"),
                pl.len().alias("n_scores"),
            )
            .sort("MASE")
        )
        base = agg.filter(pl.col("model") == BASELINE_MODEL).get_column("MASE")
        ratio = pl.col("MASE") / float(base[0]) if base.len() and base[0] else pl.lit(None, pl.Float64)
        return agg.with_columns(ratio.alias("MASE_vs_baseline"))

    def metrics(self, model: str) -> dict[str, float]:
        """``{"MASE": ..., "sMAPE": ...}`` of one model (for result files)."""
        row = self.summary.filter(pl.col("model") == model)
        if row.height == 0:
            raise KeyError(f"model {model!r} is not in this backtest: {self.config.model_names}")
        return {"MASE": float(row["MASE"][0]), "sMAPE": float(row["sMAPE"][0])}


def backtest_cutoffs(
    periods: Sequence[dt.datetime], horizon: int, n_windows: int, step: int | None = None
) -> list[int]:
    """Indices of the cut-off periods: window w trains on ``periods[:c]`` and tests ``periods[c:c+horizon]``.

    The last window ends with the series; windows start ``step`` (default ``horizon``) periods apart.
    """
    n = len(periods)
    step = horizon if step is None else step
    for name, value in (("horizon", horizon), ("n_windows", n_windows), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    cuts = [n - horizon - (n_windows - 1 - w) * step for w in range(n_windows)]
    if cuts[0] < 3:
        raise ValueError(
            f"{n} periods are too few for {n_windows} windows of horizon {horizon} (step {step}): "
            "the first window would train on fewer than 3 periods"
        )
    return cuts


def backtest(
    demand: pl.DataFrame,
    horizon: int,
    config: ForecastConfig | None = None,
    *,
    n_windows: int = 3,
    step: int | None = None,
    progress: bool | None = None,
    forecaster: Callable[[pl.DataFrame, int, ForecastConfig], pl.DataFrame] = forecast,
) -> Backtest:
    """Rolling-origin evaluation: refit on data before each cut-off, score the next ``horizon`` periods.

    Every model sees only periods strictly before its cut-off (the series is cut before fitting), and is
    scored with MASE (scaled on that same training part, season = ``config.season``) and sMAPE.
    ``forecaster`` (default :func:`forecast`) maps (training demand, horizon, config) to long forecasts;
    :func:`driftrec.interests.hierarchy.reconciled_forecaster` plugs reconciliation in.
    """
    cfg = config if config is not None else ForecastConfig()
    periods = demand.get_column("ds").unique().sort().to_list()
    cuts = backtest_cutoffs(periods, horizon, n_windows, step)
    scores, forecasts = [], []
    for cut in track(cuts, "backtest windows", total=len(cuts), enabled=progress):
        cutoff = periods[cut]
        train = demand.filter(pl.col("ds") < cutoff)
        actual = demand.filter(pl.col("ds").is_in(periods[cut : cut + horizon]))
        fc = forecaster(train, horizon, cfg).join(actual, on=["category", "ds"], how="inner")
        forecasts.append(fc.with_columns(pl.lit(cutoff).cast(TIMESTAMP).alias("cutoff")))
        history = {
            k[0]: v.get_column("y").to_numpy()
            for k, v in train.sort("ds").partition_by("category", as_dict=True).items()
        }
        for (category, model), part in (
            fc.sort("ds").partition_by(["category", "model"], as_dict=True).items()
        ):
            y, f = part.get_column("y").to_numpy(), part.get_column("mean").to_numpy()
            scores.append(
                {
                    "cutoff": cutoff,
                    "category": category,
                    "model": model,
                    "MASE": mase(y, f, history[category], cfg.season),
                    "sMAPE": smape(y, f),
                }
            )
    score_frame = pl.DataFrame(scores, schema_overrides={"cutoff": TIMESTAMP}).sort(
        "cutoff", "category", "model"
    )
    return Backtest(score_frame, pl.concat(forecasts), tuple(periods[c] for c in cuts), horizon, cfg)
