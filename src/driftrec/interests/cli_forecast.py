"""``driftrec interests predict`` and ``driftrec interests trends``: thin shells over predict/fade/trends."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import polars as pl
import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)


def _load(dataset: str | None, data: Path | None) -> Any:
    from driftrec.data import load_dataset
    from driftrec.data.dataset import Dataset

    if (dataset is None) == (data is None):
        err.print("[bold red]error:[/] give exactly one of --dataset or --data")
        raise typer.Exit(code=2)
    source = load_dataset(dataset) if dataset is not None else Dataset.load(data)  # type: ignore[arg-type]
    if source.items is None:
        err.print(f"[bold red]error:[/] {source.name} has no items table with categories")
        raise typer.Exit(code=2)
    return source


def _since(events: pl.DataFrame, since: str | None) -> pl.DataFrame:
    if since is None:
        return events
    start = dt.datetime.fromisoformat(since)
    start = start if start.tzinfo is not None else start.replace(tzinfo=dt.UTC)
    return events.filter(pl.col("ts") >= start)


def _quantile(events: pl.DataFrame, q: float) -> dt.datetime:
    us = int(np.quantile(events.get_column("ts").dt.epoch("us").to_numpy(), q))
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)


def predict_command(
    dataset: Annotated[
        str | None, typer.Option(help="Registered dataset, e.g. taobao-userbehavior-head.")
    ] = None,
    data: Annotated[Path | None, typer.Option(help="Saved dataset directory.")] = None,
    level: Annotated[int, typer.Option(help="Category depth: 0 = top level.")] = 0,
    since: Annotated[str | None, typer.Option(help="Ignore events before this ISO time.")] = None,
    valid_quantile: Annotated[
        float, typer.Option(help="Training cut-off: this quantile of event time.")
    ] = 0.8,
    test_quantile: Annotated[float, typer.Option(help="Test moves after this quantile of event time.")] = 0.9,
    transformer: Annotated[bool, typer.Option(help="Also train the Transformer (slower).")] = True,
    epochs: Annotated[int, typer.Option(help="Most Transformer epochs (early-stopped).")] = 20,
    out: Annotated[Path | None, typer.Option(help="Write the scores as JSON here.")] = None,
) -> None:
    """Next-new-category accuracy@1/5/10 (Markov vs Transformer) and fade-timing MAE on a temporal split."""
    from driftrec.interests.fade import FadeConfig, FadeModel, fade_cases, run_lengths
    from driftrec.interests.predict import (
        CategoryMarkov,
        CategoryTransformer,
        evaluate_next_category,
        next_category_split,
    )
    from driftrec.models.sequential import SequentialConfig
    from driftrec.training.config import TrainingConfig

    if not 0 < valid_quantile <= test_quantile < 1:
        err.print("[bold red]error:[/] need 0 < valid-quantile <= test-quantile < 1")
        raise typer.Exit(code=2)
    source = _load(dataset, data)
    events = _since(source.events, since)
    valid_start, test_start = _quantile(events, valid_quantile), _quantile(events, test_quantile)
    try:
        split = next_category_split(events, source.items, test_start, level=level, valid_start=valid_start)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc
    if len(split.test) == 0:
        err.print("[bold red]error:[/] no test moves after the cut-off")
        raise typer.Exit(code=2)
    scores: dict[str, dict[str, float]] = {
        "markov": evaluate_next_category(CategoryMarkov().fit(split), split.test)
    }
    if transformer:
        cfg = SequentialConfig(
            hidden=64,
            inner=128,
            training=TrainingConfig(epochs=epochs, batch_size=64, lr=2e-3, patience=3, monitor="HR@10"),
        )
        scores["transformer"] = evaluate_next_category(CategoryTransformer(cfg).fit(split), split.test)
    table = Table(title=f"next new category on {source.name} ({len(split.test):,} test moves)")
    table.add_column("model")
    for k in ("accuracy@1", "accuracy@5", "accuracy@10"):
        table.add_column(k, justify="right")
    for name, acc in scores.items():
        table.add_row(name, *(f"{acc[k]:.4f}" for k in ("accuracy@1", "accuracy@5", "accuracy@10")))
    console.print(table)
    train_runs, test_runs = fade_cases(events, source.items, test_start, level=level)
    fade: dict[str, float] = {}
    if test_runs.height:
        for unit in ("events", "days"):
            first = 1.0 if unit == "events" else 0.0
            truth = run_lengths(test_runs, unit) - first
            model = FadeModel(FadeConfig(unit=unit)).fit(train_runs)  # type: ignore[arg-type]
            complete = train_runs.filter(pl.col("run") < pl.col("run").max().over("user_id"))
            median = float(np.median(run_lengths(complete, unit))) - first
            fade[f"km_category_MAE_{unit}"] = float(np.mean(np.abs(truth - model.predict(test_runs))))
            fade[f"median_MAE_{unit}"] = float(np.mean(np.abs(truth - median)))
        console.print("fade timing MAE: " + ", ".join(f"{k} {v:.3f}" for k, v in fade.items()))
    if out is not None:
        payload = {"dataset": source.name, "protocol": split.protocol, "accuracy": scores, "fade": fade}
        out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        console.print(f"wrote {out}")


def trends_command(
    dataset: Annotated[
        str | None, typer.Option(help="Registered dataset, e.g. movielens-latest-small.")
    ] = None,
    data: Annotated[Path | None, typer.Option(help="Saved dataset directory.")] = None,
    level: Annotated[int, typer.Option(help="Category depth: 0 = top level.")] = 0,
    freq: Annotated[str, typer.Option(help="Period: 1h, 1d, 1w or 1mo.")] = "1d",
    top: Annotated[int, typer.Option(help="Categories with the most events.")] = 10,
    horizon: Annotated[int, typer.Option(help="Periods to forecast.")] = 14,
    windows: Annotated[int, typer.Option(help="Rolling-origin backtest windows (0 = no backtest).")] = 3,
    since: Annotated[str | None, typer.Option(help="Ignore events before this ISO time.")] = None,
    models: Annotated[
        str,
        typer.Option(
            help="Comma-separated statsforecast models (2+ besides SeasonalNaive add a combination)."
        ),
    ] = "SeasonalNaive,AutoETS,AutoARIMA",
    out: Annotated[
        Path | None, typer.Option(help="Directory for demand.csv, forecasts.csv, backtest.csv.")
    ] = None,
) -> None:
    """Per-category demand forecasts (SeasonalNaive, AutoETS, AutoARIMA) with a MASE/sMAPE backtest."""
    from driftrec.interests.trends import BASELINE_MODEL, ForecastConfig, backtest, category_demand, forecast

    source = _load(dataset, data)
    try:
        names = tuple(m.strip() for m in models.split(",") if m.strip())
        combine = len([m for m in names if m != BASELINE_MODEL]) >= 2
        config = ForecastConfig(freq=freq, models=names, combine=combine)
        demand = category_demand(_since(source.events, since), source.items, level=level, freq=freq, top=top)
        future = forecast(demand, horizon, config)
        summary = backtest(demand, horizon, config, n_windows=windows).summary if windows else None
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=2) from exc
    if summary is not None:
        table = Table(title=f"rolling-origin backtest on {source.name}: {windows} windows x {horizon} {freq}")
        for col in ("model", "MASE", "sMAPE", "MASE_vs_baseline"):
            table.add_column(col, justify="left" if col == "model" else "right")
        for row in summary.iter_rows(named=True):
            table.add_row(
                row["model"], f"{row['MASE']:.3f}", f"{row['sMAPE']:.1f}", f"{row['MASE_vs_baseline']:.3f}"
            )
        console.print(table)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        demand.write_csv(out / "demand.csv")
        future.write_csv(out / "forecasts.csv")
        if summary is not None:
            summary.write_csv(out / "backtest.csv")
        console.print(f"wrote {out}")
    else:
        console.print(future.head(10))
