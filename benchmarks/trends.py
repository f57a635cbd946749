"""Category demand forecasts on real logs: rolling-origin backtests, MASE and sMAPE against SeasonalNaive.

Protocol. Demand = events per category (top level of the tree) and period on a complete calendar, for the
``top`` categories with most events; half-observed edge periods are dropped. Every model is refitted at
each cut-off of a rolling origin (``windows`` cut-offs, ``horizon`` periods apart, the last one ending with
the log) on data strictly before the cut-off and scored on the next ``horizon`` periods. MASE is scaled by
the in-sample seasonal-naive error of each training series (season: 24 hours, 7 days, 12 months), sMAPE is
in percent (0..200); both are averaged over categories and windows. The reported model, fixed before any
run, is the equal-weight combination of AutoETS and AutoARIMA; SeasonalNaive is the baseline of the same
run, and every model's scores are in ``models``.

Datasets (cheapest first): Taobao UserBehavior head (hourly, 2017-11-25..12-03: a few stray earlier
timestamps are left out), Instacart mini (daily, departments; time is relative: cumulative days between
orders, day 0 holds every user's first order and is left out), MovieLens latest-small (monthly genres,
1996-2018; genre = the first listed). Amazon Musical Instruments has no categories in the staged file,
so it has no category demand.

Hierarchy (``--hierarchy``): Instacart's tree (shop total > department > aisle, the 5 departments with
most events, daily) forecast at every node with AutoETS, then reconciled with hierarchicalforecast
(BottomUp, MinTrace-ols) at every cut-off; MASE/sMAPE over all nodes, SeasonalNaive again the baseline.

Run: ``.venv/bin/python benchmarks/trends.py [--datasets taobao-userbehavior-head ...] [--top 10]
[--hierarchy]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from driftrec.data import load_dataset
from driftrec.evaluation.results import result_record, write_result
from driftrec.interests.trends import BASELINE_MODEL, COMBINATION, ForecastConfig, backtest, category_demand

RESULTS = Path(__file__).parent / "results"
log = logging.getLogger("trends")


@dataclass(frozen=True)
class Setup:
    freq: str
    horizon: int
    windows: int
    start: dt.datetime | None = None


SETUPS = {
    "taobao-userbehavior-head": Setup("1h", 24, 3, dt.datetime(2017, 11, 25, tzinfo=dt.UTC)),
    "instacart-mini": Setup("1d", 14, 3, dt.datetime(1970, 1, 2, tzinfo=dt.UTC)),
    "movielens-latest-small": Setup("1mo", 6, 3),
}


def per_model(summary: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Each model's backtest scores from a summary table, keyed by model name (the result's ``models``)."""
    keys = ("MASE", "MASE_median", "sMAPE", "MASE_vs_baseline", "n_scores")
    return {row["model"]: {k: row[k] for k in keys} for row in summary.iter_rows(named=True)}


def run(name: str, top: int, out: Path) -> dict[str, object]:
    setup = SETUPS[name]
    data = load_dataset(name)
    if data.items is None:
        raise ValueError(f"{name} has no item categories")
    t0 = time.perf_counter()
    demand = category_demand(data.events, data.items, level=0, freq=setup.freq, top=top, start=setup.start)
    config = ForecastConfig(freq=setup.freq, models=("SeasonalNaive", "AutoETS", "AutoARIMA"), combine=True)
    result = backtest(demand, setup.horizon, config, n_windows=setup.windows)
    wall = time.perf_counter() - t0
    summary = result.summary
    log.info("%s\n%s", name, summary)
    models = per_model(summary)
    metrics = result.metrics(COMBINATION)
    base = result.metrics(BASELINE_MODEL)
    record = result_record(
        benchmark="trends",
        dataset=name,
        model="combination-autoets-autoarima",
        protocol={
            "split": "rolling-origin",
            "windows": setup.windows,
            "horizon": setup.horizon,
            "step": setup.horizon,
            "freq": setup.freq,
            "season": config.season,
            "cutoffs": [c.isoformat() for c in result.cutoffs],
            "series": "events per top-level category, zeros filled",
            "categories": demand.get_column("category").unique().sort().to_list(),
            "periods": int(demand.get_column("ds").n_unique()),
            "start": None if setup.start is None else setup.start.isoformat(),
        },
        config={"top": top, "level": 0, "models": list(config.model_names), "levels": list(config.levels)},
        metrics={**metrics, "MASE_vs_baseline": metrics["MASE"] / base["MASE"]},
        wall_s=wall,
        baseline={"model": BASELINE_MODEL, "metrics": base},
        models=models,
        beats_baseline=metrics["MASE"] < base["MASE"],
    )
    path = write_result(record, out)
    log.info("wrote %s", path)
    return record


def run_hierarchy(out: Path, top: int = 5) -> dict[str, object]:
    from driftrec.interests.hierarchy import hierarchy_demand, reconciled_forecaster

    name, setup = "instacart-mini", SETUPS["instacart-mini"]
    data = load_dataset(name)
    assert data.items is not None
    t0 = time.perf_counter()
    tree = hierarchy_demand(data.events, data.items, depth=1, freq=setup.freq, top=top, start=setup.start)
    config = ForecastConfig(freq=setup.freq, models=("SeasonalNaive", "AutoETS"), levels=(80,))
    result = backtest(
        tree.demand, setup.horizon, config, n_windows=setup.windows, forecaster=reconciled_forecaster(tree)
    )
    wall = time.perf_counter() - t0
    summary = result.summary
    log.info("%s hierarchy\n%s", name, summary)
    models = per_model(summary)
    metrics = result.metrics("AutoETS/MinTrace-ols")
    base = result.metrics(BASELINE_MODEL)
    record = result_record(
        benchmark="trends",
        dataset=name,
        model="autoets-mintrace-ols-hierarchy",
        protocol={
            "split": "rolling-origin",
            "windows": setup.windows,
            "horizon": setup.horizon,
            "freq": setup.freq,
            "season": config.season,
            "cutoffs": [c.isoformat() for c in result.cutoffs],
            "series": "every node of total > department > aisle (top departments by events)",
            "nodes": int(tree.demand.get_column("category").n_unique()),
            "leaves": len(tree.leaves),
            "start": None if setup.start is None else setup.start.isoformat(),
        },
        config={
            "top_departments": top,
            "models": list(config.models),
            "methods": ["BottomUp", "MinTrace-ols"],
        },
        metrics={**metrics, "MASE_vs_baseline": metrics["MASE"] / base["MASE"]},
        wall_s=wall,
        baseline={"model": BASELINE_MODEL, "metrics": base},
        models=models,
        beats_baseline=metrics["MASE"] < base["MASE"],
        beats_unreconciled=metrics["MASE"] < result.metrics("AutoETS")["MASE"],
    )
    path = write_result(record, out)
    log.info("wrote %s", path)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--top", type=int, default=10, help="categories with most events per dataset")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--hierarchy", action="store_true", help="only the hierarchical Instacart run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.hierarchy:
        record = run_hierarchy(args.out)
        print("hierarchy", record["metrics"], "baseline", record["baseline"])
        return 0
    for name in args.datasets:
        record = run(name, args.top, args.out)
        print(name, record["metrics"], "baseline", record["baseline"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
