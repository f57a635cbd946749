"""``driftrec rank train`` saves a ranker that ``driftrec rank evaluate`` loads and scores."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from driftrec.cli import app


def test_rank_train_then_evaluate(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "ranker"
    common = ["--dataset", "synthetic-shop", "--users", "80", "--seed", "3"]
    result = runner.invoke(
        app, ["rank", "train", "--out", str(out), "--architecture", "din", "--epochs", "1", *common]
    )
    assert result.exit_code == 0, result.output
    assert (out / "ranker.json").exists() and (out / "items.idmap").exists()
    assert "AUC" in result.output
    result = runner.invoke(app, ["rank", "evaluate", "--ranker", str(out), *common])
    assert result.exit_code == 0, result.output
    assert "gAUC" in result.output and "impressions" in result.output
