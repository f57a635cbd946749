"""``train_command`` runs end to end from a Typer app and writes a loadable model and metrics."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from driftrec.policy.cli_train import train_command
from driftrec.policy.sqn_model import SQNRecommender


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("train")(train_command)
    app.command("noop")(lambda: None)  # two commands, so "train" is a sub-command as under `driftrec policy`
    return app


def test_train_command_writes_model_and_metrics(tmp_path: Path) -> None:
    args = ["train", "--dataset", "synthetic", "--synthetic-users", "60", "--epochs", "1", "--hidden", "16"]
    args += [
        "--synthetic-items",
        "80",
        "--max-len",
        "8",
        "--user-k",
        "2",
        "--item-k",
        "1",
        "--threads",
        "1",
        "--out",
        str(tmp_path),
    ]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert "purchase HR@10" in result.output
    report = json.loads((tmp_path / "metrics.json").read_text())
    assert report["config"]["variant"] == "qlearning"
    assert set(report["test"]) >= {"purchase", "click"}
    assert SQNRecommender.load(tmp_path / "model").config.variant == "qlearning"


def test_train_command_rejects_a_bad_variant(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["train", "--variant", "dqn", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "SQNConfig.variant must be one of" in result.output
