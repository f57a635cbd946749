"""A bounded asynchronous HTTP load generator, run in its own process so it does not share the server's GIL.

``wrk`` is the load generator of the full benchmark when it is installed; this client is the portable one
(any machine with the package), used by the short load test in CI and as ``--client python`` in the
benchmark. It keeps exactly ``concurrency`` requests in flight (closed loop, like ``wrk -c``), times each
request from send to full body, and counts every non-2xx answer and transport failure as an error.

Run: ``python -m driftrec.serving.loadgen --url http://127.0.0.1:8000 --endpoint recommend --users users.txt
--items items.txt --concurrency 100 --requests 2000`` -> one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
import numpy as np

__all__ = ["ENDPOINTS", "LoadConfig", "LoadResult", "run_load"]

Endpoint = Literal["recommend", "events", "healthz", "dashboard"]
ENDPOINTS: tuple[Endpoint, ...] = ("recommend", "events", "healthz", "dashboard")


@dataclass(frozen=True)
class LoadConfig:
    """``requests``: total to send (after ``warmup`` untimed ones); ``duration_s`` stops earlier if set."""

    url: str
    endpoint: Endpoint
    users: tuple[str, ...]
    items: tuple[str, ...] = ()
    concurrency: int = 100
    requests: int = 1_000
    warmup: int = 50
    duration_s: float | None = None
    k: int = 10
    api_key: str | None = None
    timeout_s: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {ENDPOINTS}, got {self.endpoint!r}")
        if not self.users:
            raise ValueError("users must name at least one user id")
        if self.endpoint == "events" and not self.items:
            raise ValueError("the events endpoint needs item ids to send events about")
        for name in ("concurrency", "requests", "k"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0, got {self.warmup}")


@dataclass
class LoadResult:
    endpoint: str
    concurrency: int
    requests: int
    errors: int
    wall_s: float
    throughput_rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    status_counts: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _request_maker(config: LoadConfig) -> Callable[[random.Random], tuple[str, str, bytes | None]]:
    def make(rng: random.Random) -> tuple[str, str, bytes | None]:
        user = rng.choice(config.users)
        if config.endpoint == "recommend":
            return "GET", f"/recommend?user_id={quote(user, safe='')}&k={config.k}", None
        if config.endpoint in ("healthz", "dashboard"):
            return "GET", f"/{config.endpoint}", None
        body = {"events": [{"user_id": user, "item_id": rng.choice(config.items), "event": "view"}]}
        return "POST", "/events", json.dumps(body).encode()

    return make


async def _run(config: LoadConfig) -> LoadResult:
    make = _request_maker(config)
    headers = {"Content-Type": "application/json"}
    if config.api_key:
        headers["X-API-Key"] = config.api_key
    limits = httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=config.concurrency)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    samples: list[str] = []
    errors = 0
    total = config.warmup + config.requests
    issued = 0
    deadline: float | None = None

    async with httpx.AsyncClient(
        base_url=config.url, headers=headers, limits=limits, timeout=config.timeout_s
    ) as client:

        async def worker(seed: int) -> None:
            nonlocal issued, errors
            rng = random.Random(seed)
            while issued < total and (deadline is None or time.perf_counter() < deadline):
                number = issued
                issued += 1
                method, path, body = make(rng)
                began = time.perf_counter()
                try:
                    response = await client.request(method, path, content=body)
                    elapsed = time.perf_counter() - began
                    ok = 200 <= response.status_code < 300
                    label = str(response.status_code)
                    detail = "" if ok else f"{response.status_code} {response.text[:200]}"
                except httpx.HTTPError as exc:
                    elapsed, ok, label = time.perf_counter() - began, False, type(exc).__name__
                    detail = f"{label}: {exc}"
                if number < config.warmup:
                    continue
                statuses[label] = statuses.get(label, 0) + 1
                latencies.append(elapsed * 1000.0)
                if not ok:
                    errors += 1
                    if len(samples) < 5:
                        samples.append(detail)

        # warm-up first (connections, caches), then the timed part with every worker in flight
        if config.warmup:
            total_timed, total = total, config.warmup
            await asyncio.gather(*(worker(config.seed * 1_000_003 + w) for w in range(config.concurrency)))
            total = total_timed
        began = time.perf_counter()
        if config.duration_s is not None:
            deadline = began + config.duration_s
        await asyncio.gather(*(worker(config.seed * 7_919 + w + 1) for w in range(config.concurrency)))
        wall = time.perf_counter() - began

    lat = np.asarray(latencies) if latencies else np.zeros(1)
    done = len(latencies)
    return LoadResult(
        endpoint=config.endpoint,
        concurrency=config.concurrency,
        requests=done,
        errors=errors,
        wall_s=round(wall, 3),
        throughput_rps=round(done / wall, 1) if wall > 0 else 0.0,
        p50_ms=round(float(np.percentile(lat, 50)), 3),
        p90_ms=round(float(np.percentile(lat, 90)), 3),
        p99_ms=round(float(np.percentile(lat, 99)), 3),
        max_ms=round(float(lat.max()), 3),
        mean_ms=round(float(lat.mean()), 3),
        status_counts=statuses,
        error_samples=samples,
    )


def run_load(config: LoadConfig) -> LoadResult:
    """Send the load and measure it (blocking; run this in a process of its own)."""
    return asyncio.run(_run(config))


def _read_ids(path: str | None) -> tuple[str, ...]:
    if not path:
        return ()
    return tuple(line.strip() for line in Path(path).read_text().splitlines() if line.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", required=True)
    parser.add_argument("--endpoint", choices=ENDPOINTS, default="recommend")
    parser.add_argument("--users", required=True, help="file with one user id per line")
    parser.add_argument("--items", help="file with one item id per line (events)")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--duration-s", type=float, default=None)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config = LoadConfig(
        url=args.url,
        endpoint=args.endpoint,
        users=_read_ids(args.users),
        items=_read_ids(args.items),
        concurrency=args.concurrency,
        requests=args.requests,
        warmup=args.warmup,
        duration_s=args.duration_s,
        k=args.k,
        api_key=args.api_key,
        seed=args.seed,
    )
    print(json.dumps(run_load(config).to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
