"""One virtualenv per peer library, created once and probed before use (shared by the peer benchmarks).

A peer (RecBole, FuxiCTR, ...) never becomes a dependency of driftrec: it lives in its own venv under
``benchmarks/.venvs/``. ``ensure_peer_venv`` probes the venv with a one-line import that prints the
peer's and torch's versions; when they are not the expected ones it creates the venv if needed, runs
the install steps in order (torch==2.13.0 first, so pip takes the CPU wheel on disk) and probes again.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PeerVenv", "ensure_peer_venv", "repo_relative", "venv_python"]

log = logging.getLogger("peer_venv")


@dataclass(frozen=True)
class PeerVenv:
    """name: shown in logs; path: the venv folder; probe: Python code printing "<peer version> <torch
    version>" on its last line; expected: those two versions; install_steps: pip argument lists."""

    name: str
    path: Path
    probe: str
    expected: tuple[str, str]
    install_steps: Sequence[Sequence[str]]


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def probe_versions(peer: PeerVenv) -> tuple[str, str] | None:
    """(peer, torch) versions if the venv runs the probe, else None."""
    python = venv_python(peer.path)
    if not python.exists():
        return None
    done = subprocess.run([str(python), "-c", peer.probe], capture_output=True, text=True)
    if done.returncode != 0 or len(done.stdout.split()) < 2:
        return None
    version, torch = done.stdout.split()[-2:]
    return version, torch


def ensure_peer_venv(peer: PeerVenv) -> tuple[str, str]:
    """Create and fill the peer's virtualenv once; later runs find it ready and skip the install."""
    versions = probe_versions(peer)
    if versions == peer.expected:
        log.info("%s %s (torch %s) already installed in %s", peer.name, *versions, peer.path)
        return versions
    python = venv_python(peer.path)
    if not python.exists():
        log.info("creating the %s virtualenv %s", peer.name, peer.path)
        subprocess.run([sys.executable, "-m", "venv", str(peer.path)], check=True)
    for step in peer.install_steps:
        log.info("installing into %s: %s", peer.path, " ".join(step))
        started = time.perf_counter()
        # -qq: pip's warnings about this machine's local index folders would drown the log; errors show
        subprocess.run([str(python), "-m", "pip", "install", "-qq", *step], check=True)
        log.info("  done in %.0fs", time.perf_counter() - started)
    versions = probe_versions(peer)
    if versions != peer.expected:
        raise RuntimeError(
            f"{peer.name}'s venv {peer.path} is not usable after the install (found {versions}); "
            f"try: {python} -c {peer.probe!r}"
        )
    log.info("%s %s (torch %s) ready in %s", peer.name, *versions, peer.path)
    return versions


def repo_relative(value: Any) -> Any:
    """Paths under the repository, anywhere in a peer's (nested) result, as repository-relative strings:
    result files must not name this machine."""
    root = str(Path(__file__).resolve().parent.parent) + os.sep
    if isinstance(value, str):
        return value.replace(root, "")
    if isinstance(value, dict):
        return {k: repo_relative(v) for k, v in value.items()}
    if isinstance(value, list):
        return [repo_relative(v) for v in value]
    return value
