"""10 million events: load (with validation), clean (dedupe + k-core), encode and split on this machine.

Each pipeline runs in its own child process so its peak memory is its own. The driftrec pipeline
(``read_events`` -> ``clean`` -> ``prepare``) is compared, in the same run, with the same steps
written directly in DuckDB SQL (read CSV, dedupe, 5-core to a fixed point, leave-one-out ranks):
a well-kept embedded engine as the peer, ratio = driftrec time / DuckDB time.

Run: ``.venv/bin/python benchmarks/data_scale.py [--events 10000000]``
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from driftrec.evaluation.results import machine_description, result_record, write_result

RESULTS = Path(__file__).parent / "results"
CACHE = Path(__file__).parent / ".cache"
K = 5


def make_csv(n_events: int) -> Path:
    """A synthetic-shop log of about ``n_events`` rows as one CSV (generated once, cached, untracked)."""
    from driftrec.data.synthetic import SyntheticShopConfig, iter_events

    path = CACHE / f"events_{n_events}.csv"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    per_user = 100
    config = SyntheticShopConfig(
        n_users=int(n_events * 1.03) // per_user, n_items=100_000, events_per_user_mean=per_user, seed=1
    )
    written = 0
    with path.open("wb") as fh:
        for block in iter_events(config):
            block.select("user_id", "item_id", "ts", "event", "value").write_csv(
                fh, include_header=written == 0
            )
            written += block.height
    logging.info("wrote %d events to %s", written, path)
    return path


def run_driftrec(csv: str) -> dict[str, Any]:
    from driftrec.data import Dataset, read_events
    from driftrec.data.cleaning import CleaningConfig
    from driftrec.workflows.prepare import SplitSpec, prepare

    t0 = time.perf_counter()
    events, report = read_events(csv, mode="skip")
    t1 = time.perf_counter()
    prepared = prepare(
        Dataset("data-scale", events), SplitSpec(), CleaningConfig(drop_duplicates=True, user_k=K, item_k=K)
    )
    t2 = time.perf_counter()
    return {
        "rows_read": report.rows_read,
        "rows_after_cleaning": len(prepared.log),
        "users_evaluated": len(prepared.split.test),
        "load_validate_s": t1 - t0,
        "clean_encode_split_s": t2 - t1,
        "wall_s": t2 - t0,
    }


def run_duckdb(csv: str) -> dict[str, Any]:
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"CREATE TABLE ev AS SELECT DISTINCT * FROM read_csv_auto('{csv}')")
    t1 = time.perf_counter()
    while True:
        before = con.execute("SELECT count(*) FROM ev").fetchone()[0]  # type: ignore[index]
        con.execute(
            f"""CREATE OR REPLACE TABLE ev AS SELECT * FROM ev
                WHERE user_id IN (SELECT user_id FROM ev GROUP BY user_id HAVING count(*) >= {K})"""
        )
        con.execute(
            f"""CREATE OR REPLACE TABLE ev AS SELECT * FROM ev
                WHERE item_id IN (SELECT item_id FROM ev GROUP BY item_id HAVING count(*) >= {K})"""
        )
        after = con.execute("SELECT count(*) FROM ev").fetchone()[0]  # type: ignore[index]
        if after == before:
            break
    con.execute(
        """CREATE TABLE ranked AS SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY ts DESC) AS r
           FROM ev"""
    )
    test_users = con.execute("SELECT count(*) FROM ranked WHERE r = 1").fetchone()[0]  # type: ignore[index]
    t2 = time.perf_counter()
    return {
        "rows_after_cleaning": after,
        "users_evaluated": test_users,
        "load_validate_s": t1 - t0,
        "clean_encode_split_s": t2 - t1,
        "wall_s": t2 - t0,
    }


def child(which: str, csv: str) -> dict[str, Any]:
    """Run one pipeline in a fresh interpreter and read back its timings and peak RSS."""
    here = str(Path(__file__).parent)
    code = (
        f"import json,resource,sys; sys.path.insert(0, {here!r}); import data_scale as d; "
        f"r = d.run_{which}({csv!r}); "
        "r['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; "
        "print(json.dumps(r))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    csv = make_csv(args.events)
    ours = child("driftrec", str(csv))
    logging.info("driftrec: %s", ours)
    peer = child("duckdb", str(csv))
    logging.info("duckdb: %s", peer)
    metrics = {
        "wall_s": ours["wall_s"],
        "peak_rss_mb": ours["peak_rss_mb"],
        "load_validate_s": ours["load_validate_s"],
        "clean_encode_split_s": ours["clean_encode_split_s"],
        "rows_read": ours["rows_read"],
        "rows_after_cleaning": ours["rows_after_cleaning"],
        "ratio_vs_peer": ours["wall_s"] / peer["wall_s"],
    }
    record = result_record(
        benchmark="data-scale",
        dataset=f"synthetic-shop-{args.events}",
        model="driftrec-data-pipeline",
        protocol={"split": "leave-one-out", "k_core": K, "dedupe": True, "validation": "skip mode"},
        config={"events": args.events, "source": "CSV", "machine": machine_description()},
        metrics=metrics,
        wall_s=ours["wall_s"],
        baseline={"model": "duckdb-sql", "metrics": peer},
    )
    record["peak_rss_mb"] = ours["peak_rss_mb"]
    path = write_result(record, args.out)
    logging.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
