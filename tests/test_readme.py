"""The README must stay true: its Python quick start runs, and the commands it names exist."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from driftrec.cli import app

README = Path(__file__).parents[1] / "README.md"


def test_python_quick_start_runs(capsys: object) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no Python quick start"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})


def test_every_cli_command_in_readme_exists() -> None:
    runner = CliRunner()
    commands = set(re.findall(r"driftrec ((?:data )?[a-z]+)", README.read_text()))
    assert commands
    for command in commands:
        result = runner.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0, f"README names 'driftrec {command}', which does not exist"


def test_make_targets_named_in_readme_exist() -> None:
    makefile = (README.parent / "Makefile").read_text()
    for target in set(re.findall(r"make ([a-z-]+)", README.read_text())):
        assert re.search(rf"^{target}:", makefile, flags=re.M), f"Makefile lacks target {target}"
