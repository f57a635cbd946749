"""``driftrec policy train``: fit the SQN model (or one of its controls) on a multi-behaviour log.

A plain function with Typer options, so the policy CLI can register it with ``app.command("train")``.
It prepares the log (action events, k-core), splits users 70/10/20, trains, evaluates next-item
purchase / click HR@10 and NDCG@10 on the test users, and writes the model and ``metrics.json``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer

__all__ = ["train_command"]

log = logging.getLogger(__name__)


def train_command(
    dataset: str = typer.Option(
        "taobao-userbehavior-head", help="Registered dataset name, or 'synthetic' for a generated shop."
    ),
    variant: str = typer.Option(
        "qlearning", help="qlearning | sarsa | reward (aux-loss ablation, no TD target) | none (supervised)."
    ),
    out: Path = typer.Option(Path("runs/sqn"), help="Directory for the model and metrics.json."),
    gamma: float = typer.Option(0.5, help="Discount of the TD target."),
    target_update: str = typer.Option("soft", help="soft (Polyak, --tau) or periodic (copy every --period)."),
    tau: float = typer.Option(0.01, help="Polyak rate of the soft target update."),
    period: int = typer.Option(100, help="Steps between copies of the periodic target update."),
    rank_by: str = typer.Option("supervised", help="Head that ranks: supervised (SQN) or q."),
    epochs: int = typer.Option(10, help="Training epochs (no early stopping)."),
    batch_size: int = typer.Option(64),
    lr: float = typer.Option(2e-3),
    hidden: int = typer.Option(64),
    blocks: int = typer.Option(1),
    max_len: int = typer.Option(20),
    seed: int = typer.Option(0),
    user_k: int = typer.Option(5, help="k-core: keep users with at least this many events."),
    item_k: int = typer.Option(3, help="k-core: keep items with at least this many events."),
    max_users: int = typer.Option(0, help="Random subset of users before the k-core (0 = all)."),
    synthetic_users: int = typer.Option(2000, help="Users of the generated shop (dataset 'synthetic')."),
    synthetic_items: int = typer.Option(1000, help="Items of the generated shop (dataset 'synthetic')."),
    threads: int = typer.Option(0, help="Torch CPU threads (0 = torch's default)."),
) -> None:
    """Train SQN (Q-learning / SARSA), its aux-loss ablation or the supervised model; report purchase/click
    HR@10 and NDCG@10 on held-out users."""
    # heavy imports here, so `driftrec --help` stays fast
    from driftrec.data import load_dataset
    from driftrec.data.synthetic import SyntheticShopConfig, generate
    from driftrec.models.sequential.config import SequentialConfig
    from driftrec.policy.sqn import SQNConfig
    from driftrec.policy.sqn_data import prepare_log, split_users
    from driftrec.policy.sqn_eval import next_item_metrics
    from driftrec.policy.sqn_model import SQNRecommender
    from driftrec.training.config import TrainingConfig

    try:
        training = TrainingConfig(
            epochs=epochs, batch_size=batch_size, lr=lr, patience=0, seed=seed, num_threads=threads
        )
        sequence = SequentialConfig(
            max_len=max_len,
            hidden=hidden,
            blocks=blocks,
            heads=2 if hidden % 2 == 0 else 1,
            inner=4 * hidden,
            behaviours=True,
            sliding_window=True,
            training=training,
        )
        config = SQNConfig(
            variant=variant,
            gamma=gamma,
            target_update=target_update,
            tau=tau,
            target_period=period,
            rank_by=rank_by,
            sequence=sequence,
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    if dataset == "synthetic":
        events = generate(
            SyntheticShopConfig(n_users=synthetic_users, n_items=synthetic_items, seed=seed)
        ).dataset.events
    else:
        events = load_dataset(dataset).events
    interactions, facts = prepare_log(events, user_k=user_k, item_k=item_k, max_users=max_users, seed=seed)
    split = split_users(interactions, valid=0.1, test=0.2, seed=0)
    typer.echo(f"{dataset}: {facts}")
    model = SQNRecommender(config).fit(split.train)
    metrics = next_item_metrics(model, split.test)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model")
    report = {"dataset": dataset, "subset": facts, "config": config.to_dict(), "test": metrics}
    (out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    for group in ("purchase", "click"):
        m = metrics[group]
        n = int(metrics["n_targets"][group])
        typer.echo(f"{group:8s} HR@10 {m['HR@10']:.4f}  NDCG@10 {m['NDCG@10']:.4f}  ({n} targets)")
    typer.echo(f"model and metrics written to {out}")
