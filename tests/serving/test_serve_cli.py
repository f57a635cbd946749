"""``driftrec serve`` argument checks and ``driftrec serve key`` (the server runs in test_durability)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from driftrec.cli import app
from driftrec.serving.security import KeyRing, load_keys


def test_serve_key_prints_a_key_once_and_stores_its_hash(tmp_path: Path) -> None:
    runner = CliRunner()
    keys = tmp_path / "keys.json"
    first = runner.invoke(app, ["serve", "key", "--role", "ingest", "--keys-file", str(keys), "--name", "t"])
    second = runner.invoke(app, ["serve", "key", "--role", "admin", "--keys-file", str(keys)])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    plaintext = first.stdout.strip().splitlines()[0]
    records = load_keys(keys)
    assert [r.role for r in records] == ["ingest", "admin"]
    assert plaintext not in keys.read_text()
    assert KeyRing(records).role_of(plaintext) == "ingest"
    bad = runner.invoke(app, ["serve", "key", "--role", "root", "--keys-file", str(keys)])
    assert bad.exit_code == 2


def test_serve_refuses_bad_arguments(tmp_path: Path, bundle_dir: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["serve"]).exit_code == 2  # no --model
    assert runner.invoke(app, ["serve", "--model", str(tmp_path)]).exit_code == 2  # not a bundle
    missing = runner.invoke(
        app, ["serve", "--model", str(bundle_dir), "--keys-file", str(tmp_path / "no.json")]
    )
    assert missing.exit_code == 2
    sync = runner.invoke(app, ["serve", "--model", str(bundle_dir), "--synchronous", "OFF"])
    assert sync.exit_code == 2
