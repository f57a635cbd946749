"""``driftrec interests predict`` and ``driftrec interests trends`` on a small saved dataset."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
from typer.testing import CliRunner

from driftrec.cli import app
from driftrec.data.dataset import Dataset

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
CATS = ["A", "B", "C", "D"]


def _shop(tmp_path: Path) -> Path:
    """20 users cycling A -> B -> C -> D over 60 days, a few events a day."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(20):
        t = T0 + dt.timedelta(hours=int(rng.integers(24)))
        r = int(rng.integers(4))
        while t < T0 + dt.timedelta(days=60):
            rows.append((f"u{u}", f"{CATS[r % 4]}{int(rng.integers(3))}", t))
            r += 1
            t += dt.timedelta(hours=int(rng.integers(4, 14)))
    events = pl.DataFrame(
        {
            "user_id": [x[0] for x in rows],
            "item_id": [x[1] for x in rows],
            "ts": [x[2] for x in rows],
            "event": ["view"] * len(rows),
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )
    items = pl.DataFrame({"item_id": [f"{c}{k}" for c in CATS for k in range(3)]}).with_columns(
        category=pl.col("item_id").str.slice(0, 1)
    )
    return Dataset("cycle", events, items).save(tmp_path / "shop")


def test_predict_command_prints_accuracy_and_writes_json(tmp_path: Path) -> None:
    shop = _shop(tmp_path)
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(
        app, ["interests", "predict", "--data", str(shop), "--no-transformer", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "accuracy@10" in result.output
    scores = json.loads(out.read_text())
    assert scores["accuracy"]["markov"]["accuracy@1"] == 1.0  # a deterministic cycle
    assert "median_MAE_events" in scores["fade"]


def test_trends_command_writes_forecasts_and_backtest(tmp_path: Path) -> None:
    shop = _shop(tmp_path)
    out = tmp_path / "trends"
    result = CliRunner().invoke(
        app,
        [
            "interests",
            "trends",
            "--data",
            str(shop),
            "--horizon",
            "7",
            "--windows",
            "2",
            "--models",
            "SeasonalNaive,Naive,HistoricAverage",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "SeasonalNaive" in result.output
    forecasts = pl.read_csv(out / "forecasts.csv")
    assert set(forecasts["model"]) == {"SeasonalNaive", "Naive", "HistoricAverage", "Combination"}
    assert forecasts.filter(pl.col("model") == "Naive").height == 4 * 7
    assert pl.read_csv(out / "backtest.csv").height == 4
    bad = CliRunner().invoke(app, ["interests", "trends", "--data", str(shop), "--freq", "3d"])
    assert bad.exit_code == 2 and "freq must be one of" in bad.output
