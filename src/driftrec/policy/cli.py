"""``driftrec policy``: train (SQN, see :mod:`driftrec.policy.cli_train`), evaluate (off-policy), simulate.

Thin shell: each command calls one library function and writes JSON (and a PNG for ``simulate``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from driftrec.policy.cli_train import train_command

app = typer.Typer(
    help="Policy optimisation: SQN training, off-policy evaluation, online simulation.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)

# ``train`` is the SQN trainer of :mod:`driftrec.policy.cli_train` (torch is imported inside the command)
app.command("train")(train_command)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=2)


def _read_log(path: Path) -> Any:
    """A logged-feedback table: columns action, reward, pscore, optional position and context_* features."""
    import numpy as np
    import polars as pl

    from driftrec.policy.ope import LoggedFeedback

    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)
    missing = [c for c in ("action", "reward", "pscore") if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} lacks columns {missing} (needs action, reward, pscore; optional position)")
    context_cols = [c for c in frame.columns if c.startswith("context_")]
    position = frame.get_column("position").to_numpy() if "position" in frame.columns else None
    return LoggedFeedback.from_arrays(
        reward=frame.get_column("reward").to_numpy(),
        action=frame.get_column("action").to_numpy(),
        pscore=frame.get_column("pscore").to_numpy(),
        position=position,
        context=frame.select(context_cols).to_numpy() if context_cols else np.ones((frame.height, 1)),
    )


@app.command()
def evaluate(
    log: Annotated[
        Path | None,
        typer.Option(help="Logged feedback (CSV/Parquet: action, reward, pscore[, position], context_*)."),
    ] = None,
    obd: Annotated[
        str | None, typer.Option(help="Use an Open Bandit Dataset log instead: random or bts.")
    ] = None,
    campaign: Annotated[str, typer.Option(help="OBD campaign: all, men, women.")] = "all",
    policy: Annotated[
        str, typer.Option(help="Evaluation policy: softmax (of the reward model), greedy, uniform.")
    ] = "softmax",
    temperature: Annotated[float, typer.Option(help="Softmax temperature (on standardised scores).")] = 0.5,
    action_dist: Annotated[
        Path | None,
        typer.Option(help="A .npy (n, n_actions, len_list) evaluation policy; overrides --policy."),
    ] = None,
    clip: Annotated[float, typer.Option(help="Importance-weight clip for IPS/DR (inf = none).")] = math.inf,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the intervals.")] = 2000,
    alpha: Annotated[float, typer.Option(help="Interval level is 1 - alpha.")] = 0.05,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap and the reward model's folds.")] = 0,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the estimates here.")] = None,
) -> None:
    """Off-policy value of a policy with IPS, SNIPS, DM and DR (``driftrec.policy.ope.estimate_all``)."""
    import numpy as np

    from driftrec.policy.obd import load_obd
    from driftrec.policy.ope import ESTIMATORS, BootstrapConfig, estimate, fit_reward_model
    from driftrec.progress import track

    if (log is None) == (obd is None):
        raise _fail("give exactly one of --log or --obd")
    try:
        if obd is not None:
            loaded = load_obd(obd, campaign)
            data, n_actions, len_list, source = (
                loaded.feedback,
                loaded.n_actions,
                loaded.len_list,
                f"obd/{obd}/{campaign}",
            )
        else:
            assert log is not None
            data = _read_log(log)
            n_actions, len_list, source = int(data.action.max()) + 1, int(data.position.max()) + 1, str(log)
        boot = BootstrapConfig(n_samples=bootstrap, alpha=alpha, seed=seed)
        with err.status("Fitting the reward model (3-fold cross-fitting)..."):
            q_hat = fit_reward_model(data, n_actions, len_list, n_folds=3, seed=seed)
        if action_dist is not None:
            dist = np.load(action_dist)
        elif policy == "uniform":
            dist = np.full(q_hat.shape, 1.0 / n_actions)
        elif policy in ("softmax", "greedy"):
            z = (q_hat - q_hat.mean(axis=1, keepdims=True)) / (q_hat.std(axis=1, keepdims=True) + 1e-12)
            if policy == "greedy":
                dist = (z == z.max(axis=1, keepdims=True)).astype(np.float64)
            else:
                dist = np.exp((z - z.max(axis=1, keepdims=True)) / temperature)
            dist = dist / dist.sum(axis=1, keepdims=True)
        else:
            raise ValueError(f"--policy must be softmax, greedy or uniform, got {policy!r}")
        estimates = {
            name: estimate(name, data, dist, q_hat, clip=clip, bootstrap=boot)
            for name in track(ESTIMATORS, "estimators (with bootstrap intervals)", len(ESTIMATORS))
        }
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    table = Table(title=f"Off-policy estimates on {source} ({data.n_rounds:,} rounds)")
    for column in ("estimator", "value", "lower", "upper"):
        table.add_column(column, justify="left" if column == "estimator" else "right")
    for name, est in estimates.items():
        table.add_row(name, f"{est.value:.6f}", f"{est.lower:.6f}", f"{est.upper:.6f}")
    console.print(table)
    console.print(f"on-policy mean reward of the log: {float(data.reward.mean()):.6f}")
    payload = {
        "source": source,
        "n_rounds": data.n_rounds,
        "policy": str(action_dist) if action_dist else policy,
        "clip": clip if math.isfinite(clip) else None,
        "interval": {"alpha": alpha, "bootstrap": bootstrap, "seed": seed},
        "logged_mean_reward": float(data.reward.mean()),
        "estimates": {name: est.to_dict() for name, est in estimates.items()},
    }
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(payload, indent=2) + "\n")


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Directory for online.json and online.png.")] = Path(
        "runs/policy"
    ),
    policies: Annotated[str, typer.Option(help="Comma-separated policy names.")] = ",".join(
        (
            "random",
            "greedy-supervised",
            "epsilon-greedy",
            "ucb1",
            "thompson-beta",
            "linucb",
            "thompson-linear",
            "linear-greedy",
        )
    ),
    users: Annotated[int, typer.Option(help="Users in the synthetic shop.")] = 1000,
    items: Annotated[int, typer.Option(help="Items in the synthetic shop.")] = 600,
    days: Annotated[int, typer.Option(help="Length of the shop's period.")] = 60,
    online_start_day: Annotated[int, typer.Option(help="Days of log before the online period.")] = 30,
    users_per_step: Annotated[int, typer.Option(help="Users served per step (every 12 h).")] = 200,
    k: Annotated[int, typer.Option("-k", "--k", help="List length.")] = 5,
    organic: Annotated[bool, typer.Option(help="Users' own browsing joins their live histories.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the shop, environment and policies.")] = 0,
) -> None:
    """Online run in the synthetic shop (``driftrec.policy.simulate.simulate``): reward, regret, recovery."""
    from driftrec.policy.plots import plot_online
    from driftrec.policy.simulate import SimulationConfig
    from driftrec.policy.simulate import simulate as run_simulation

    names = tuple(p.strip() for p in policies.split(",") if p.strip())
    try:
        cfg = SimulationConfig(
            n_users=users,
            n_items=items,
            days=days,
            online_start_day=online_start_day,
            users_per_step=users_per_step,
            k=k,
            n_retrieval=max(40, k),
            organic=organic,
            seed=seed,
        )
        result = run_simulation(cfg, names)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "config": {**cfg.__dict__, "reward": cfg.reward.to_dict(), "retrieval_params": {}},
        **result.to_dict(),
    }
    (out / "online.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    plot_online(
        out / "online.png",
        result.step_days,
        {n: [result.expected[n] / result.oracle] for n in names},
        result.recovery_days,
        {n: [result.recovery[n]] for n in names},
        title=f"Synthetic shop, seed {seed}",
    )
    table = Table(
        title=f"Online period: days {online_start_day}-{days}, {result.migrations_online} users migrate"
    )
    table.add_column("policy", style="bold")
    table.add_column("cumulative reward", justify="right")
    table.add_column("cumulative regret", justify="right")
    rewards, regrets = result.cumulative_reward(), result.cumulative_regret()
    for name in names:
        table.add_row(name, f"{rewards[name]:.1f}", f"{regrets[name]:.1f}")
    console.print(table)
    console.print(f"Wrote {out / 'online.json'} and {out / 'online.png'}")
