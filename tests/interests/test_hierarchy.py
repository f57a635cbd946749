"""Hierarchical demand over the category tree and reconciled (coherent) forecasts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from driftrec.interests.hierarchy import hierarchy_demand, reconciled_forecaster, reconciled_forecasts
from driftrec.interests.trends import ForecastConfig, backtest

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
ITEMS = pl.DataFrame(
    {"item_id": ["f1", "f2", "t1", "x"], "category": ["Food > Fruit", "Food > Bread", "Toys > Lego", "Misc"]}
)


def _events(n_days: int = 30, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(n_days):
        for item, rate in (("f1", 6), ("f2", 3), ("t1", 4), ("x", 2)):
            for k in range(int(rng.poisson(rate)) + 1):
                rows.append((f"u{k}", item, T0 + dt.timedelta(days=d, hours=1 + k % 20)))
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "ts": [r[2] for r in rows],
            "event": ["view"] * len(rows),
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )


def test_hierarchy_demand_sums_leaves_into_parents_and_the_total() -> None:
    h = hierarchy_demand(_events(), ITEMS, depth=1, freq="1d", min_coverage=0.0)
    ids = set(h.demand["category"])
    assert {"Total", "Total/Food", "Total/Food/Fruit", "Total/Food/Bread", "Total/Toys/Lego"} <= ids
    assert "Total/Misc/Misc" in ids  # a short path is padded to the leaf level
    assert sorted(h.leaves) == sorted(i for i in ids if i.count("/") == 2)
    wide = h.demand.pivot(on="category", index="ds", values="y")
    assert (wide["Total/Food"] == wide["Total/Food/Fruit"] + wide["Total/Food/Bread"]).all()
    leaves = sum(wide[c] for c in h.leaves)
    assert (wide["Total"] == leaves).all()
    top = hierarchy_demand(_events(), ITEMS, depth=1, freq="1d", top=1, min_coverage=0.0)
    assert set(top.demand["category"]) == {"Total", "Total/Food", "Total/Food/Fruit", "Total/Food/Bread"}


def test_reconciled_forecasts_add_up_over_the_tree() -> None:
    h = hierarchy_demand(_events(), ITEMS, depth=1, freq="1d", min_coverage=0.0)
    cfg = ForecastConfig(freq="1d", models=("SeasonalNaive", "HistoricAverage"), levels=(80,))
    out = reconciled_forecasts(h, 5, cfg)
    assert {"HistoricAverage/BottomUp", "HistoricAverage/MinTrace-ols"} <= set(out["model"])
    for model in ("HistoricAverage/BottomUp", "HistoricAverage/MinTrace-ols"):
        f = out.filter(pl.col("model") == model).pivot(on="category", index="ds", values="mean")
        np.testing.assert_allclose(f["Total"], sum(f[c] for c in h.leaves), rtol=1e-9)
        np.testing.assert_allclose(f["Total/Food"], f["Total/Food/Fruit"] + f["Total/Food/Bread"], rtol=1e-9)
    # the unreconciled historic averages happen to add up too (means are linear): MinTrace leaves them be
    base = out.filter(pl.col("model") == "HistoricAverage").sort("category", "ds")["mean"]
    mint = out.filter(pl.col("model") == "HistoricAverage/MinTrace-ols").sort("category", "ds")["mean"]
    np.testing.assert_allclose(base, mint, rtol=1e-9)
    with pytest.raises(ValueError, match="methods must be"):
        reconciled_forecasts(h, 5, cfg, methods=("TopDown",))


def test_reconciled_backtest_scores_every_node_and_method() -> None:
    h = hierarchy_demand(_events(), ITEMS, depth=1, freq="1d", min_coverage=0.0)
    cfg = ForecastConfig(freq="1d", models=("SeasonalNaive", "Naive"), levels=())
    result = backtest(h.demand, 3, cfg, n_windows=2, progress=False, forecaster=reconciled_forecaster(h))
    nodes = h.demand["category"].n_unique()
    assert result.scores.filter(pl.col("model") == "Naive/BottomUp").height == 2 * nodes
    assert set(result.summary["model"]) == {
        "SeasonalNaive",
        "Naive",
        *(f"{b}/{m}" for b in ("SeasonalNaive", "Naive") for m in ("BottomUp", "MinTrace-ols")),
    }
