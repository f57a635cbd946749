"""Forecasts that add up over the category tree: hierarchical reconciliation with ``hierarchicalforecast``.

Forecasting every node of the tree on its own (the shop total, each department, each aisle) gives numbers
that do not add up: aisles of a department sum to something other than the department's forecast.
Reconciliation maps all base forecasts onto coherent ones through the summing matrix ``S`` of the tree:
BottomUp sums the leaves; MinTrace (OLS) projects every level's forecasts onto the coherent subspace, so
the totals inform the leaves and the other way round. Means and bounds are clipped at zero afterwards
(demand is never negative), which can make a parent exceed the sum of its clipped children. Series ids
are the tree paths joined by "/" as ``hierarchicalforecast`` names them (``Total``, ``Total/Food``,
``Total/Food/Fruit``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import polars as pl

from driftrec.data.schema import CATEGORY_SEPARATOR, TIMESTAMP
from driftrec.interests.trends import ForecastConfig, category_demand, long_forecasts, wide_forecasts

__all__ = ["METHODS", "Hierarchy", "hierarchy_demand", "reconciled_forecaster", "reconciled_forecasts"]

#: Reconciliation methods by name -> the suffix hierarchicalforecast gives their columns.
METHODS: Final[dict[str, str]] = {"BottomUp": "BottomUp", "MinTrace-ols": "MinTrace_method-ols"}
TOTAL: Final = "Total"


@dataclass(frozen=True)
class Hierarchy:
    """demand: ``category, ds, y`` for every node (id = path joined by "/"); S: the summing matrix
    (``unique_id`` + one column per leaf); tags: level name -> node ids."""

    demand: pl.DataFrame
    S: pl.DataFrame
    tags: dict[str, np.ndarray[Any, Any]]

    @property
    def leaves(self) -> list[str]:
        return [c for c in self.S.columns if c != "unique_id"]


def hierarchy_demand(
    events: pl.DataFrame,
    items: pl.DataFrame,
    *,
    depth: int = 1,
    freq: str = "1d",
    top: int | None = None,
    min_coverage: float = 0.9,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Hierarchy:
    """Demand of every node from the shop total down to level ``depth`` of the category tree.

    ``top`` keeps the ``top`` top-level categories with most events and every node beneath them (the
    total is then the total of those). Leaves are the categories cut at ``depth``; a path shorter than
    ``depth`` is its own leaf, padded so that every leaf sits at the same level.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 5:
        raise ValueError(f"depth must be an integer in [1, 5], got {depth!r}")
    from hierarchicalforecast.utils import aggregate

    leaf = category_demand(
        events, items, level=depth, freq=freq, min_coverage=min_coverage, start=start, end=end
    )
    parts = pl.col("category").str.split(CATEGORY_SEPARATOR)
    levels = [f"level_{k}" for k in range(depth + 1)]
    frame = leaf.with_columns(
        [parts.list.get(k, null_on_oob=True).alias(levels[k]) for k in range(depth + 1)]
    ).with_columns(
        # a short path continues as itself so that its leaf is at depth ``depth`` like every other
        [pl.col(levels[k]).fill_null(pl.col(levels[k - 1])) for k in range(1, depth + 1)]
    )
    if top is not None:
        keep = (
            frame.group_by("level_0").agg(pl.col("y").sum()).sort(["y", "level_0"], descending=[True, False])
        ).head(top)
        frame = frame.filter(pl.col("level_0").is_in(keep.get_column("level_0").implode()))
    frame = frame.with_columns(pl.lit(TOTAL).alias("total"), pl.col("ds").dt.replace_time_zone(None))
    spec = [["total"]] + [["total", *levels[: k + 1]] for k in range(depth + 1)]
    y_df, s_df, tags = aggregate(frame.select("total", *levels, "ds", "y"), spec)
    demand = y_df.select(
        pl.col("unique_id").alias("category"),
        pl.col("ds").dt.replace_time_zone("UTC").cast(TIMESTAMP),
        pl.col("y").cast(pl.Float64),
    ).sort("category", "ds")
    return Hierarchy(demand, s_df, tags)


def reconciled_forecasts(
    hierarchy: Hierarchy,
    horizon: int,
    config: ForecastConfig | None = None,
    methods: Sequence[str] = ("BottomUp", "MinTrace-ols"),
    demand: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Base forecasts of every node plus their reconciled versions, long: ``category, ds, model, ...``.

    Reconciled models are named ``<base>/<method>`` (e.g. ``AutoETS/MinTrace-ols``). ``demand``: a
    cut of ``hierarchy.demand`` to forecast from (a backtest's training part); default: all of it.
    """
    from hierarchicalforecast.core import HierarchicalReconciliation
    from hierarchicalforecast.methods import BottomUp, MinTrace

    cfg = config if config is not None else ForecastConfig()
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(f"methods must be a non-empty sequence of {tuple(METHODS)}, got {list(methods)!r}")
    build = {"BottomUp": BottomUp, "MinTrace-ols": lambda: MinTrace(method="ols")}
    wide = wide_forecasts(hierarchy.demand if demand is None else demand, horizon, cfg)
    engine = HierarchicalReconciliation([build[m]() for m in methods])
    levels = list(cfg.levels) if cfg.levels else None
    rec = engine.reconcile(Y_hat_df=wide, S_df=hierarchy.S, tags=hierarchy.tags, level=levels)
    renames = {}
    for base in cfg.models:
        for method in methods:
            old = f"{base}/{METHODS[method]}"
            renames[old] = f"{base}/{method}"
            for lv in cfg.levels:
                renames[f"{old}-lo-{lv}"] = f"{base}/{method}-lo-{lv}"
                renames[f"{old}-hi-{lv}"] = f"{base}/{method}-hi-{lv}"
    rec = rec.rename({k: v for k, v in renames.items() if k in rec.columns})
    names = [*cfg.models, *(f"{b}/{m}" for b in cfg.models for m in methods)]
    plain = ForecastConfig(
        freq=cfg.freq, season_length=cfg.season_length, models=cfg.models, levels=cfg.levels
    )
    return long_forecasts(rec, names, plain)


def reconciled_forecaster(
    hierarchy: Hierarchy, methods: Sequence[str] = ("BottomUp", "MinTrace-ols")
) -> Callable[[pl.DataFrame, int, ForecastConfig], pl.DataFrame]:
    """A ``forecaster`` for :func:`driftrec.interests.trends.backtest` that reconciles at every cut-off."""

    def run(train: pl.DataFrame, horizon: int, cfg: ForecastConfig) -> pl.DataFrame:
        return reconciled_forecasts(hierarchy, horizon, cfg, methods, demand=train)

    return run
