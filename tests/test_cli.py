"""The CLI in-process through Typer's runner: real commands on a small synthetic shop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driftrec.cli import app

runner = CliRunner()


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_help_lists_every_command() -> None:
    out = _ok(["--help"])
    for command in ("demo", "simulate", "data", "train", "evaluate", "recommend"):
        assert command in out
    data_help = _ok(["data", "--help"])
    for command in ("import", "stats", "split"):
        assert command in data_help


def test_simulate_train_evaluate_recommend(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    _ok(["simulate", "--out", str(shop), "--users", "200", "--items", "150", "--seed", "2"])
    assert "events" in _ok(["data", "stats", str(shop)])
    _ok(["data", "split", str(shop), "--out", str(tmp_path / "split"), "--protocol", "temporal"])
    assert (tmp_path / "split" / "train.parquet").exists()
    bundle = tmp_path / "bundle"
    _ok(["train", "--data", str(shop), "--model", "markov", "--out", str(bundle), "--first-interaction-only"])
    _ok(["evaluate", "--bundle", str(bundle), "--k", "10", "--json", str(tmp_path / "r.json")])
    record = json.loads((tmp_path / "r.json").read_text())
    assert 0.0 <= record["metrics"]["NDCG@10"] <= 1.0
    out = _ok(["recommend", "--bundle", str(bundle), "--user", "u000001", "-k", "3", "--json"])
    payload = json.loads(out)
    assert len(payload["u000001"]) == 3


def test_import_csv_skip_mode_and_pseudonymisation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    csv = tmp_path / "events.csv"
    csv.write_text(
        "visitor,item,timestamp,event\n"
        "a,1,1700000000,view\n"
        "b,2,not-a-time,view\n"
        "c,3,1700000100,teleport\n"
        "d,4,1700000200,purchase\n"
    )
    monkeypatch.setenv("DRIFTREC_TEST_KEY", "secret")
    out = _ok(
        [
            "data", "import", str(csv), "--out", str(tmp_path / "ds"), "--mode", "skip",
            "--map", "user_id=visitor", "--map", "item_id=item", "--map", "ts=timestamp",
            "--pseudonymise-key-env", "DRIFTREC_TEST_KEY",
        ]
    )  # fmt: skip
    assert "2 events" in out
    import polars as pl

    users = pl.read_parquet(tmp_path / "ds" / "events.parquet").get_column("user_id").to_list()
    assert len(users) == 2 and "a" not in users and all(len(u) == 20 for u in users)


def test_import_strict_mode_fails_with_line_numbers(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("user_id,item_id,ts,event\nu1,i1,2024-01-01T00:00:00,view\nu2,,2024-01-02T00:00:00,view\n")
    result = runner.invoke(app, ["data", "import", str(csv), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "bad.csv:3" in result.output and "item_id" in result.output


def test_bad_arguments_give_clear_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["recommend", "--bundle", str(tmp_path)])
    assert result.exit_code == 2 and "--user" in result.output
    result = runner.invoke(
        app, ["train", "--data", str(tmp_path), "--model", "ease", "--out", str(tmp_path / "b")]
    )
    assert result.exit_code == 2 and "events.parquet" in result.output


def test_train_warm_start_from_a_sampled_bundle(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    _ok(["simulate", "--out", str(shop), "--users", "150", "--items", "100", "--seed", "4"])
    common = ["--data", str(shop), "--model", "sasrec", "--first-interaction-only"]
    tiny = ["--param", "hidden=16", "--param", "blocks=1", "--param", "training.epochs=1"]
    _ok(
        [
            "train",
            *common,
            *tiny,
            "--param",
            "loss=sampled",
            "--param",
            "n_negatives=16",
            "--out",
            str(tmp_path / "s"),
        ]
    )
    out = _ok(
        [
            "train",
            *common,
            *tiny,
            "--param",
            "loss=full",
            "--warm-start",
            str(tmp_path / "s"),
            "--out",
            str(tmp_path / "f"),
        ]
    )
    assert "bundle saved" in out
    result = runner.invoke(
        app,
        ["train", *common, *tiny, "--warm-start", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")],
    )
    assert result.exit_code == 2 and "not a driftrec model bundle" in result.output
