"""Durability drill: SIGKILL a real ``driftrec serve`` during an ingestion burst, restart it, count losses.

An event counts as *acknowledged* when its ``POST /events`` got a 2xx. After each kill the server is
restarted on the same store, and every acknowledged event must be (a) a row in the store, read directly
with a separate SQLite connection, and (b) in the user's live state, read back through
``GET /users/{id}/events`` of the restarted server. Events whose request failed may or may not be stored
(the commit can precede the kill while the reply is lost); that is allowed, losing an acknowledged one is
not.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from driftrec.serving.process import free_port

__all__ = ["DrillConfig", "DrillResult", "run_drill"]

log = logging.getLogger(__name__)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class DrillConfig:
    """``cycles`` kill/restart rounds; in each, ``senders`` client threads post batches of up to ``batch``
    events, and the server is killed once ``kill_after`` events of the round were acknowledged."""

    model: Path
    db: Path
    items: tuple[str, ...]
    cycles: int = 1
    senders: int = 4
    batch: int = 5
    kill_after: int = 200
    users: int = 20
    synchronous: str = "FULL"
    start_timeout_s: float = 240.0
    log_path: Path | None = None

    def __post_init__(self) -> None:
        for name in ("cycles", "senders", "batch", "kill_after", "users"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not self.items:
            raise ValueError("items must name at least one catalogue item")


@dataclass
class DrillResult:
    acknowledged_events: int = 0
    lost_in_store: int = 0
    lost_in_state: int = 0
    sent_events: int = 0
    failed_requests: int = 0
    stored_unacknowledged: int = 0
    kills: int = 0
    restart_s: list[float] = field(default_factory=list)
    burst_s: float = 0.0  # time spent sending (start of each burst to its kill), over all rounds

    @property
    def lost_events(self) -> int:
        return self.lost_in_store + self.lost_in_state


class _Server:
    """``driftrec serve`` as a child process (the real CLI, not an in-process app)."""

    def __init__(self, config: DrillConfig, port: int) -> None:
        self.config, self.port = config, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        began = time.perf_counter()
        command = [
            sys.executable,
            "-c",
            "from driftrec.cli import app; app(prog_name='driftrec')",
            "serve",
            "--model",
            str(self.config.model),
            "--db",
            str(self.config.db),
            "--port",
            str(self.port),
            "--no-search",
            "--synchronous",
            self.config.synchronous,
        ]
        out = open(self.config.log_path, "ab") if self.config.log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + self.config.start_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"driftrec serve exited with code {self.process.returncode} on start-up")
            try:
                if httpx.get(self.url + "/healthz", timeout=2.0).status_code == 200:
                    return time.perf_counter() - began
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise TimeoutError(f"driftrec serve not ready within {self.config.start_timeout_s:.0f}s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


Key = tuple[str, str, int]  # user, item, ts (us): unique per event in a drill


def _burst(
    server: _Server, config: DrillConfig, round_no: int, acked: list[Key], result: DrillResult
) -> None:
    """Senders post until the server dies; the main thread kills it after ``kill_after`` acks."""
    lock = threading.Lock()
    stop = threading.Event()
    counter = [0]
    round_acked = [0]
    base_us = (dt.datetime(2030, 1, 1, tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(microseconds=1)

    def next_events(sender: int, n: int) -> list[dict[str, Any]]:
        with lock:
            start = counter[0]
            counter[0] += n
        out = []
        for j in range(start, start + n):
            ts_us = base_us + round_no * 10**9 + j
            out.append(
                {
                    "user_id": f"drill-u{j % config.users}",
                    "item_id": config.items[j % len(config.items)],
                    "event": "view",
                    "ts": (_EPOCH + dt.timedelta(microseconds=ts_us)).isoformat(),
                    "_key": (f"drill-u{j % config.users}", config.items[j % len(config.items)], ts_us),
                }
            )
        return out

    def send(sender: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10.0) as client:
            n = 0
            while not stop.is_set():
                n += 1
                events = next_events(sender, 1 + (n + sender) % config.batch)
                keys = [e.pop("_key") for e in events]
                body: dict[str, Any] = {"events": events} if len(events) > 1 else events[0]
                with lock:
                    result.sent_events += len(events)
                try:
                    response = client.post("/events", json=body)
                except httpx.HTTPError:
                    with lock:
                        result.failed_requests += 1
                    if server.process is None or server.process.poll() is not None:
                        return
                    continue
                with lock:
                    if response.status_code in (200, 201):
                        acked.extend(keys)
                        round_acked[0] += len(keys)
                    else:
                        result.failed_requests += 1

    threads = [threading.Thread(target=send, args=(s,), daemon=True) for s in range(config.senders)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    while round_acked[0] < config.kill_after and any(t.is_alive() for t in threads):
        time.sleep(0.005)
    server.kill()  # SIGKILL mid-burst: requests are in flight right now
    result.burst_s += time.perf_counter() - began
    result.kills += 1
    stop.set()
    for thread in threads:
        thread.join(30)


def _stored_keys(db: Path) -> set[Key]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {(u, i, int(t)) for u, i, t in conn.execute("SELECT user_id, item_id, ts FROM events")}


def _state_keys(url: str, users: set[str]) -> set[Key]:
    out: set[Key] = set()
    with httpx.Client(base_url=url, timeout=30.0) as client:
        for user in sorted(users):
            response = client.get(f"/users/{user}/events", params={"limit": 10_000})
            if response.status_code == 404:
                continue
            response.raise_for_status()
            for event in response.json()["events"]:
                ts = dt.datetime.fromisoformat(event["ts"])
                out.add((user, event["item_id"], (ts - _EPOCH) // dt.timedelta(microseconds=1)))
    return out


def run_drill(config: DrillConfig) -> DrillResult:
    """Run ``cycles`` rounds of burst -> SIGKILL -> restart -> verify; returns the counts."""
    result = DrillResult()
    acked: list[Key] = []
    server = _Server(config, free_port())
    result.restart_s.append(server.start())
    try:
        for round_no in range(config.cycles):
            _burst(server, config, round_no, acked, result)
            result.restart_s.append(server.start())
            stored = _stored_keys(config.db)
            state = _state_keys(server.url, {k[0] for k in acked})
            wanted = set(acked)
            result.lost_in_store = len(wanted - stored)
            result.lost_in_state = len(wanted - state)
            result.stored_unacknowledged = len(stored - wanted)
            log.info(
                "round %d: %d acknowledged so far, %d lost in store, %d lost in state",
                round_no,
                len(wanted),
                result.lost_in_store,
                result.lost_in_state,
            )
    finally:
        server.stop()
    result.acknowledged_events = len(set(acked))
    return result
