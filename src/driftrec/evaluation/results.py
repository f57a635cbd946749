"""The one JSON shape every benchmark and evaluation result uses (DESIGN.md §3)."""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["git_commit", "machine_description", "peak_rss_mb", "result_record", "write_result"]


def peak_rss_mb() -> float:
    """Peak resident memory of this process (and its finished children) in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024.0, 1)


def git_commit(cwd: str | Path | None = None) -> str:
    """Short commit of the working tree, with ``-dirty`` when it has uncommitted changes."""
    try:
        where = str(cwd or Path(__file__).resolve().parent)
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=where, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return f"{sha}-dirty" if dirty else sha
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_description() -> str:
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no gpu"
    return f"{os.cpu_count()} cpu, {gpu}, {platform.machine()}, torch {torch.__version__}"


def result_record(
    *,
    benchmark: str,
    dataset: str,
    model: str,
    protocol: dict[str, Any],
    config: dict[str, Any],
    metrics: dict[str, float],
    wall_s: float,
    baseline: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Assemble a result in the shared shape; memory, machine and commit are filled in here."""
    record: dict[str, Any] = {
        "benchmark": benchmark,
        "dataset": dataset,
        "model": model,
        "protocol": protocol,
        "config": config,
        "metrics": {k: round(float(v), 6) for k, v in metrics.items()},
        "baseline": baseline,
        "wall_s": round(wall_s, 3),
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine_description(),
        "commit": git_commit(),
    }
    record.update(extra)
    return record


def write_result(record: dict[str, Any], directory: str | Path) -> Path:
    """Write ``<benchmark>__<dataset>__<model>.json``; one file per run and configuration."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    slug = "__".join(
        re.sub(r"[^A-Za-z0-9_.+-]+", "-", str(record[k])) for k in ("benchmark", "dataset", "model")
    )
    path = out / f"{slug}.json"
    path.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n")
    return path
