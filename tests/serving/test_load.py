"""Short form of the load benchmark: a real uvicorn server, load from a second process, zero errors.

Timing is not checked here (CI machines vary); the full benchmark is ``benchmarks/serving_load.py``.
What is checked: every request of a few hundred concurrent ones succeeds, and every acknowledged event
is in the store afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from driftrec.serving.loadgen import LoadConfig
from driftrec.serving.process import ServerProcess
from driftrec.workflows.bundle import load_bundle


@pytest.fixture(scope="module")
def server(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("load")
    bundle = load_bundle(bundle_dir)
    users, items = root / "users.txt", root / "items.txt"
    users.write_text("\n".join(str(u) for u in bundle.users.ids.to_list()[:50]) + "\n")
    items.write_text("\n".join(str(i) for i in bundle.items.ids.to_list()) + "\n")
    settings = {"model": str(bundle_dir), "db": str(root / "events.sqlite"), "search": False}
    with ServerProcess(settings, log_path=root / "server.log", env={"OMP_NUM_THREADS": "1"}) as proc:
        yield {"url": proc.url, "users": users, "items": items}


def _load(server: dict[str, Any], endpoint: str, requests: int, concurrency: int) -> dict[str, Any]:
    """Run the load generator in its own interpreter, as the benchmark does, and parse its JSON line."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "driftrec.serving.loadgen",
            "--url",
            server["url"],
            "--endpoint",
            endpoint,
            "--users",
            str(server["users"]),
            "--items",
            str(server["items"]),
            "--concurrency",
            str(concurrency),
            "--requests",
            str(requests),
            "--warmup",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_concurrent_recommend_and_events_have_zero_errors(server: dict[str, Any]) -> None:
    before = httpx.get(server["url"] + "/healthz", timeout=10).json()["stored_events"]
    rec = _load(server, "recommend", requests=200, concurrency=20)
    assert rec["errors"] == 0, rec["error_samples"]
    assert rec["requests"] == 200 and rec["status_counts"] == {"200": 200}
    ev = _load(server, "events", requests=150, concurrency=20)
    assert ev["errors"] == 0, ev["error_samples"]
    assert ev["status_counts"] == {"201": 150}
    after = httpx.get(server["url"] + "/healthz", timeout=10).json()["stored_events"]
    assert after - before == 150 + 10  # every acknowledged event (timed and warm-up) is stored
    assert 0 < rec["p50_ms"] <= rec["p99_ms"] <= rec["max_ms"]


def test_load_generator_counts_failures_as_errors(server: dict[str, Any], tmp_path: Path) -> None:
    """The generator must not hide errors: events about unknown items are rejected (422) and counted."""
    bogus = tmp_path / "bogus-items.txt"
    bogus.write_text("no-such-item-1\nno-such-item-2\n")
    result = _load({**server, "items": bogus}, "events", requests=30, concurrency=5)
    assert result["errors"] == 30 and result["status_counts"] == {"422": 30}
    assert result["error_samples"] and result["error_samples"][0].startswith("422")


def test_load_config_validates() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        LoadConfig(url="http://x", endpoint="nope", users=("u",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="item ids"):
        LoadConfig(url="http://x", endpoint="events", users=("u",))
    with pytest.raises(ValueError, match="concurrency"):
        LoadConfig(url="http://x", endpoint="recommend", users=("u",), concurrency=0)
