"""Next new category on real logs: Transformer over category runs vs a Markov chain, on a temporal split.

Protocol. Each user's events collapse into category runs (consecutive events in one category); a *move*
is the start of a new run, and the task is to rank the category moved to (the current one is masked: it
cannot be the answer). Cut-offs are quantiles of event time: training runs come from events before the
80% quantile, validation moves (early stopping of the Transformer only) lie between the 80% and 90%
quantiles, and test moves after the 90% quantile; the models keep the parameters learnt before the 80%
cut-off, and a test move's history is the user's runs from events strictly before it. Categories first
seen after the training cut-off count as misses. accuracy@K = share of test moves whose category is in
the top K (K = 1, 5, 10), over all test moves.

Models: ``transformer`` (causal SASRec-style encoder of :mod:`driftrec.models.sequential` over runs, 2
blocks, 64 wide, last 50 runs; early-stopped on validation accuracy@10) and the baseline ``markov``
(first-order chain over category moves with popularity backoff), fitted on the same runs in the same run.

Fade timing (same cut-off, test runs starting after the 90% quantile whose end is known): predict, from a
run's first event, how many more events it gets and how many days it lasts; MAE of the Kaplan-Meier
conditional median per category (``fade_km_category``) and per user (``fade_km_user``) against the global
median run length of training runs (``fade_median``); and the same once a run has lasted 2 events
(``*_after_2``: remaining events of test runs with at least 2).

Datasets: Taobao UserBehavior head (category ids; events from 2017-11-25), Instacart mini (aisles,
level 1 of "department > aisle"), MovieLens latest-small (genres, the first listed).

Run: ``.venv/bin/python benchmarks/next_category.py [--datasets ...] [--epochs 40]``
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

import numpy as np
import polars as pl
import torch

from driftrec.data import load_dataset
from driftrec.evaluation.results import result_record, write_result
from driftrec.interests.fade import FadeConfig, FadeModel, fade_cases, run_lengths
from driftrec.interests.predict import (
    CategoryMarkov,
    CategoryTransformer,
    evaluate_next_category,
    next_category_split,
)
from driftrec.models.sequential import SequentialConfig
from driftrec.training.config import TrainingConfig

RESULTS = Path(__file__).parent / "results"
KS = (1, 5, 10)
log = logging.getLogger("next_category")


@dataclass(frozen=True)
class Setup:
    level: int
    start: dt.datetime | None = None


SETUPS = {
    "taobao-userbehavior-head": Setup(0, dt.datetime(2017, 11, 25, tzinfo=dt.UTC)),
    "instacart-mini": Setup(1),
    "movielens-latest-small": Setup(0),
}


def _quantile_time(events: pl.DataFrame, q: float) -> dt.datetime:
    us = int(np.quantile(events.get_column("ts").dt.epoch("us").to_numpy(), q))
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)


def fade_scores(events: pl.DataFrame, items: pl.DataFrame, cut: dt.datetime, level: int) -> dict[str, Any]:
    train, test = fade_cases(events, items, cut, level=level)
    out: dict[str, Any] = {"test_runs": test.height, "train_runs": train.height}
    for unit in ("events", "days"):
        first = 1.0 if unit == "events" else 0.0
        truth = run_lengths(test, unit) - first
        complete = train.filter(pl.col("run") < pl.col("run").max().over("user_id"))
        median = float(np.median(run_lengths(complete, unit))) - first
        out[f"fade_median_MAE_{unit}"] = float(np.mean(np.abs(truth - median)))
        for group in ("category", "user"):
            model = FadeModel(FadeConfig(unit=unit, group=group)).fit(train)  # type: ignore[arg-type]
            out[f"fade_km_{group}_MAE_{unit}"] = float(np.mean(np.abs(truth - model.predict(test))))
    # the same, asked once a run has lasted 2 events (most runs are single events, so at the first event
    # every curve's conditional median is "no more events")
    long_runs = test.filter(pl.col("n_events") >= 2)
    truth = run_lengths(long_runs, "events") - 2.0
    lengths = run_lengths(complete, "events")
    median = float(np.median(lengths[lengths >= 2])) - 2.0
    out["after_2_events_test_runs"] = long_runs.height
    out["fade_median_MAE_events_after_2"] = float(np.mean(np.abs(truth - median)))
    for group in ("category", "user"):
        model = FadeModel(FadeConfig(unit="events", group=group)).fit(train)  # type: ignore[arg-type]
        remaining = model.predict(long_runs, elapsed=2.0)
        out[f"fade_km_{group}_MAE_events_after_2"] = float(np.mean(np.abs(truth - remaining)))
    return out


def run(name: str, epochs: int, out: Path) -> dict[str, Any]:
    setup = SETUPS[name]
    data = load_dataset(name)
    if data.items is None:
        raise ValueError(f"{name} has no item categories")
    events = data.events if setup.start is None else data.events.filter(pl.col("ts") >= setup.start)
    valid_start, test_start = _quantile_time(events, 0.8), _quantile_time(events, 0.9)
    t0 = time.perf_counter()
    split = next_category_split(events, data.items, test_start, level=setup.level, valid_start=valid_start)
    log.info("%s: %s", name, split.protocol)
    tm = time.perf_counter()
    markov = CategoryMarkov().fit(split)
    markov_acc = evaluate_next_category(markov, split.test, KS)
    markov_s = time.perf_counter() - tm
    log.info("markov %s", markov_acc)
    cfg = SequentialConfig(
        hidden=64,
        blocks=2,
        heads=2,
        inner=128,
        max_len=50,
        dropout=0.2,
        training=TrainingConfig(
            epochs=epochs,
            batch_size=64,
            lr=2e-3,
            patience=5,
            monitor="HR@10",
            device="cpu",
            num_threads=1,
            seed=0,
        ),
    )
    tt = time.perf_counter()
    transformer = CategoryTransformer(cfg).fit(split)
    acc = evaluate_next_category(transformer, split.test, KS)
    transformer_s = time.perf_counter() - tt
    log.info("transformer %s", acc)
    fade = fade_scores(events, data.items, test_start, setup.level)
    log.info("fade %s", fade)
    history = transformer.model.history
    record = result_record(
        benchmark="next-category",
        dataset=name,
        model="transformer",
        protocol={
            **{k: v for k, v in split.protocol.items()},
            "valid_start": valid_start.isoformat(),
            "test_start": test_start.isoformat(),
            "cutoffs": "80% / 90% quantiles of event time",
            "events_from": None if setup.start is None else setup.start.isoformat(),
            "categories_at_training": split.n_categories,
        },
        config={
            "transformer": {k: v for k, v in cfg.to_dict().items() if k != "training"}
            | {"training": cfg.training.__dict__},
            "markov": {"smoothing": 1.0, "window": 1},
        },
        metrics=acc,
        wall_s=time.perf_counter() - t0,
        baseline={"model": "markov", "metrics": markov_acc, "wall_s": round(markov_s, 3)},
        transformer_wall_s=round(transformer_s, 3),
        best_epoch=None if history is None else history.best_epoch,
        epochs_run=None if history is None else len(history.epochs),
        beats_baseline={k: acc[k] > markov_acc[k] for k in acc},
        fade=fade,
    )
    path = write_result(record, out)
    log.info("wrote %s", path)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(1)
    for name in args.datasets:
        record = run(name, args.epochs, args.out)
        print(name, record["metrics"], "baseline", record["baseline"]["metrics"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
