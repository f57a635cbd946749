"""Durability under SIGKILL: kill ``driftrec serve`` during ingestion bursts, restart, count lost events.

Each cycle: client threads post single events and batches to a real ``driftrec serve`` (uvicorn, SQLite
WAL store); once ``--kill-after`` events of the cycle were acknowledged the server gets SIGKILL with
requests in flight; it is restarted on the same store; every acknowledged event must be in the store
(read with a separate connection) and in the restarted server's user state (``GET /users/{id}/events``).
The baseline in the same run is the same drill with ``synchronous=NORMAL`` (WAL without fsync per
commit: survives a process kill, not a power cut), to show what the default ``FULL`` costs in ingestion.

Run: ``.venv/bin/python benchmarks/durability.py [--cycles 5] [--kill-after 2000]``
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from serving_real_bundle import DATASET, ensure_bundle

from driftrec.evaluation.results import result_record, write_result
from driftrec.serving.durability import DrillConfig, DrillResult, run_drill
from driftrec.workflows.bundle import load_bundle

RESULTS = Path(__file__).parent / "results"


def drill(
    bundle: Path, items: tuple[str, ...], args: argparse.Namespace, synchronous: str
) -> tuple[DrillResult, float]:
    with tempfile.TemporaryDirectory() as tmp:
        config = DrillConfig(
            model=bundle,
            db=Path(tmp) / "events.sqlite",
            items=items,
            cycles=args.cycles,
            senders=args.senders,
            batch=args.batch,
            kill_after=args.kill_after,
            users=args.users,
            synchronous=synchronous,
            log_path=Path(tmp) / "server.log",
        )
        began = time.perf_counter()
        result = run_drill(config)
        return result, time.perf_counter() - began


def metrics(result: DrillResult) -> dict[str, float]:
    return {
        "acknowledged_events": result.acknowledged_events,
        "lost_events": result.lost_events,
        "lost_in_store": result.lost_in_store,
        "lost_in_state": result.lost_in_state,
        "sent_events": result.sent_events,
        "failed_requests": result.failed_requests,
        "stored_unacknowledged": result.stored_unacknowledged,
        "kills": result.kills,
        "mean_restart_s": sum(result.restart_s) / len(result.restart_s),
        "acknowledged_per_s": result.acknowledged_events / result.burst_s if result.burst_s else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--kill-after", type=int, default=2_000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    bundle, _ = ensure_bundle()
    items = tuple(str(i) for i in load_bundle(bundle).items.ids.to_list())
    began = time.perf_counter()
    result, full_s = drill(bundle, items, args, "FULL")
    baseline: dict[str, Any] | None = None
    if not args.no_baseline:
        base, base_s = drill(bundle, items, args, "NORMAL")
        baseline = {
            "model": "sasrec (synchronous=NORMAL)",
            "metrics": metrics(base),
            "wall_s": round(base_s, 3),
        }
    record = result_record(
        benchmark="durability",
        dataset=DATASET,
        model="sasrec",
        protocol={
            "server": "driftrec serve (uvicorn, 1 process)",
            "store": "SQLite WAL synchronous=FULL",
            "fault": "SIGKILL with requests in flight",
            "check": "store rows (separate connection) and restarted server's user state",
        },
        config=vars(args),
        metrics=metrics(result),
        baseline=baseline,
        wall_s=time.perf_counter() - began,
        drill_s=round(full_s, 3),
    )
    path = write_result(record, RESULTS)
    print(f"acknowledged {result.acknowledged_events}, lost {result.lost_events}; wrote {path}")


if __name__ == "__main__":
    main()
