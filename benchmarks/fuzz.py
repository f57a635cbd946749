"""Fuzz a real ``driftrec serve`` from its OpenAPI spec: count 5xx answers (target 0).

The server runs as a child process (uvicorn, SQLite store, text search on) serving SASRec (id+text) trained
on Amazon 2018 Magazine Subscriptions; the fuzzer (schemathesis cases drawn by Hypothesis, valid and
invalid, plus raw byte bodies) talks to it over loopback. Besides the 5xx count, the result records the
server log's tracebacks and whether ``/healthz`` still answers afterwards.

Run: ``.venv/bin/python benchmarks/fuzz.py [--examples 200]``
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from serving_real_bundle import DATASET, ensure_bundle

from driftrec.evaluation.results import result_record, write_result
from driftrec.serving.fuzz import fuzz_openapi
from driftrec.serving.process import ServerProcess

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=200, help="cases per operation and mode")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    bundle, _ = ensure_bundle()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"model": str(bundle), "db": str(Path(tmp) / "events.sqlite")}
        log_path = Path(tmp) / "server.log"
        with ServerProcess(settings, log_path=log_path, env={"OMP_NUM_THREADS": "1"}) as server:
            client = httpx.Client(base_url=server.url, timeout=60.0)
            retried = {"count": 0}

            def send(
                method: str, path: str, query: Any, body: Any, raw: bytes | None, headers: dict[str, str]
            ) -> int:
                kwargs: dict[str, Any] = {"params": query, "headers": headers}
                if raw is not None:
                    kwargs["content"] = raw
                elif body is not None:
                    kwargs["json"] = body
                for attempt in range(2):
                    try:
                        return client.request(method, path, **kwargs).status_code
                    except httpx.TransportError as exc:
                        # one retry: an idle keep-alive connection the server closed (uvicorn's 5 s timeout,
                        # while Hypothesis was slow to draw the next case) resets the next request on it
                        retried["count"] += attempt == 0
                        logging.warning("%s %s: %r (attempt %d)", method, path, exc, attempt + 1)
                return 0  # no answer twice: counted and reported by the fuzzer

            spec = client.get("/openapi.json").json()
            report = fuzz_openapi(spec, send, examples=args.examples, seed=args.seed)
            healthy = client.get("/healthz").status_code == 200
            server_log = log_path.read_text(errors="replace")
    tracebacks = server_log.count("Traceback")
    metrics = {
        "server_errors": report.server_errors,
        "transport_errors": report.transport_errors,
        "retried_after_reset": retried["count"],
        "requests": report.requests,
        "client_errors": sum(n for s, n in report.by_status.items() if 400 <= s < 500),
        "successes": sum(n for s, n in report.by_status.items() if s < 300),
        "operations": len(report.by_operation),
        "server_tracebacks": tracebacks,
        "healthy_after": float(healthy),
    }
    record = result_record(
        benchmark="fuzz",
        dataset=DATASET,
        model="sasrec",
        protocol={
            "server": "driftrec serve (uvicorn, loopback)",
            "generator": "schemathesis 4 (positive + negative modes) + raw byte bodies, Hypothesis",
            "spec": "the server's own /openapi.json",
        },
        config=vars(args),
        metrics=metrics,
        wall_s=time.perf_counter() - began,
        by_status={str(k): v for k, v in sorted(report.by_status.items())},
        by_operation=report.by_operation,
        failures=report.failures,
        server_log_tail=server_log[-2000:],
    )
    path = write_result(record, RESULTS)
    print(f"{report.requests} requests, {report.server_errors} server errors; wrote {path}")


if __name__ == "__main__":
    main()
