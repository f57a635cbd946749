"""``driftrec rank train|evaluate``: fit a CTR ranker on a temporal split of impressions, then judge it.

Thin shell over :func:`driftrec.ranking.experiment.ctr_experiment`; the saved directory is what the
serving layer loads with ``driftrec.models.ctr.load_ranker``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from driftrec.data.dataset import Dataset

__all__ = ["app", "load_task_dataset"]

app = typer.Typer(help="CTR ranking stage: train and evaluate rankers.", no_args_is_help=True)
console = Console()
log = logging.getLogger(__name__)


def load_task_dataset(name: str, users: int = 2000, seed: int = 0) -> Dataset:
    """``synthetic-shop`` (generated with ``users`` users) or any name ``load_dataset`` knows."""
    if name == "synthetic-shop":
        from driftrec.data.synthetic import SyntheticShopConfig, generate

        return generate(SyntheticShopConfig(n_users=users, seed=seed)).dataset
    from driftrec.data.registry import load_dataset

    return load_dataset(name)


def _table(metrics: dict[str, float]) -> Table:
    table = Table(title="CTR metrics (test part of the temporal split)")
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    for name in ("AUC", "gAUC", "LogLoss"):
        table.add_row(name, f"{metrics.get(name, float('nan')):.4f}")
    return table


Dataset_ = Annotated[str, typer.Option("--dataset", help="synthetic-shop or a dataset folder name.")]
Positives = Annotated[str, typer.Option(help="Comma-separated behaviours that count as a click.")]


@app.command()
def train(
    out: Annotated[Path, typer.Option(help="Directory to save the ranker into (e.g. <bundle>/ranker).")],
    dataset: Dataset_ = "synthetic-shop",
    architecture: Annotated[str, typer.Option(help="mlp, din or dien.")] = "dien",
    source: Annotated[str, typer.Option(help="Impressions: auto, logged, views or sampled.")] = "auto",
    positives: Positives = "click",
    window_s: Annotated[float, typer.Option(help="A positive must follow its view within this.")] = 3600.0,
    epochs: Annotated[int, typer.Option(help="Most training epochs.")] = 8,
    users: Annotated[int, typer.Option(help="Users of a generated synthetic shop.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of data generation and training.")] = 0,
) -> None:
    """Fit a ranker on the first 70% of impressions (by time), early-stop on the next 10%, test the rest."""
    from driftrec.models.ctr.config import CTRConfig
    from driftrec.ranking.experiment import ctr_experiment
    from driftrec.ranking.impressions import ctr_task
    from driftrec.training.config import TrainingConfig

    data = load_task_dataset(dataset, users, seed)
    task = ctr_task(data, source, tuple(positives.split(",")), window_s)  # type: ignore[arg-type]
    training = TrainingConfig(
        epochs=epochs, batch_size=256, lr=2e-3, patience=2, monitor="AUC@valid", seed=seed, num_threads=1
    )
    run = ctr_experiment(task, CTRConfig(architecture=architecture, training=training))  # type: ignore[arg-type]
    run.ranker.save(out)
    (out / "train_result.json").write_text(
        json.dumps(
            {"dataset": dataset, "metrics": run.metrics, "protocol": run.protocol}, indent=2, default=str
        )
    )
    console.print(_table(run.metrics))
    console.print(f"ranker saved to {out} ({run.wall_s:.1f}s)")


@app.command()
def evaluate(
    ranker: Annotated[Path, typer.Option(help="Directory written by `driftrec rank train`.")],
    dataset: Dataset_ = "synthetic-shop",
    source: Annotated[str, typer.Option(help="Impressions: auto, logged, views or sampled.")] = "auto",
    positives: Positives = "click",
    window_s: Annotated[float, typer.Option(help="A positive must follow its view within this.")] = 3600.0,
    users: Annotated[int, typer.Option(help="Users of a generated synthetic shop.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of data generation.")] = 0,
    test: Annotated[float, typer.Option(help="Latest share of impressions evaluated.")] = 0.2,
) -> None:
    """Score the latest ``test`` share of a dataset's impressions with a saved ranker."""
    from driftrec.data.idmap import IdMap
    from driftrec.evaluation.ctr import ctr_metrics
    from driftrec.models.ctr.ranker import load_ranker
    from driftrec.ranking.impressions import ctr_task, label_rate, split_by_time

    model = load_ranker(ranker)
    data = load_task_dataset(dataset, users, seed)
    task = ctr_task(data, source, tuple(positives.split(",")), window_s)  # type: ignore[arg-type]
    saved = ranker / "items.idmap"
    if saved.exists() and not IdMap.load(saved).ids.equals(task.items.ids):
        console.print("[bold red]error:[/] the dataset's items differ from those the ranker was trained on")
        raise typer.Exit(code=2)
    _, _, test_f, _ = split_by_time(task.impressions, 0.0, test)
    probs = model.predict(task.log, test_f)
    metrics = ctr_metrics(test_f.get_column("label").to_numpy(), probs, test_f.get_column("user").to_numpy())
    console.print(_table(metrics))
    console.print(f"{test_f.height:,} impressions, click rate {label_rate(test_f.get_column('label')):.4f}")
