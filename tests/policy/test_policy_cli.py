from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
from typer.testing import CliRunner

from driftrec.cli import app

runner = CliRunner()


def test_policy_help_lists_commands() -> None:
    result = runner.invoke(app, ["policy", "--help"])
    assert result.exit_code == 0, result.output
    for command in ("train", "evaluate", "simulate"):
        assert command in result.output


def test_evaluate_on_a_logged_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(size=n)
    action = rng.integers(0, 3, n)
    reward = (rng.random(n) < 0.2 + 0.2 * (action == (x > 0))).astype(float)
    log = tmp_path / "log.csv"
    pl.DataFrame({"action": action, "reward": reward, "pscore": np.full(n, 1 / 3), "context_x": x}).write_csv(
        log
    )
    out = tmp_path / "ope.json"
    args = [
        "policy",
        "evaluate",
        "--log",
        str(log),
        "--policy",
        "uniform",
        "--bootstrap",
        "200",
        "--json",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert set(payload["estimates"]) == {"ips", "snips", "dm", "dr"}
    # the uniform policy is the logging policy here: IPS equals the on-policy mean exactly
    assert abs(payload["estimates"]["ips"]["value"] - reward.mean()) < 1e-12
    bad = runner.invoke(app, ["policy", "evaluate"])
    assert bad.exit_code == 2 and "exactly one of --log or --obd" in bad.output


def test_simulate_smoke(tmp_path: Path) -> None:
    args = ["policy", "simulate", "--out", str(tmp_path), "--users", "80", "--items", "128", "--days", "12"]
    args += [
        "--online-start-day",
        "8",
        "--users-per-step",
        "20",
        "--policies",
        "random,greedy-supervised,linucb",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads((tmp_path / "online.json").read_text())
    assert set(payload["cumulative_reward"]) == {"random", "greedy-supervised", "linucb"}
    assert (tmp_path / "online.png").stat().st_size > 10_000
