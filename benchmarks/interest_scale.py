"""Interest profiles and migration detection at scale: 1 million users x 100 events on this machine.

The log is a synthetic shop streamed to Parquet with ``write_shop`` (generated once, cached under
``benchmarks/.cache``, untracked). The measured pipeline runs in a fresh child process, so its peak
memory is its own:

1. ``profile_frame``: daily window sums per user and leaf category, one Polars ``group_by`` over
   ``scan_parquet`` with the streaming engine;
2. per block of users: dense ``(users, days, leaves)`` profiles, consecutive-window JSD drift, and
   ``detect_migrations`` (vectorised pre-filter, then ruptures Binseg on the users that pass).

The baseline in the same run is the same detection with the pre-filter off (every user goes to
ruptures), timed against the pre-filter on the first ``--baseline-users`` users (``prefilter_speedup``
is the ratio of their detection times). On a shared machine wall time depends on the load, so the
child's CPU seconds (``cpu_s``) and the load average at the start are recorded too.

Run: ``.venv/bin/python benchmarks/interest_scale.py [--users 1000000] [--events-per-user 100]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
CACHE = Path(__file__).parent / ".cache"


def make_shop(n_users: int, per_user: int) -> Path:
    """The synthetic shop's log on disk (cached): ``n_users`` users, about ``per_user`` events each."""
    from driftrec.data.synthetic import SyntheticShopConfig, write_shop

    path = CACHE / f"interest_shop_{n_users}x{per_user}"
    if (path / "config.json").exists():
        return path
    config = SyntheticShopConfig(
        n_users=n_users, n_items=100_000, events_per_user_mean=float(per_user), seed=1
    )
    began = time.perf_counter()
    write_shop(config, path)
    logging.info("generated %s in %.0fs", path, time.perf_counter() - began)
    return path


def run_pipeline(directory: str, prefilter: bool = True, max_users: int | None = None) -> dict[str, Any]:
    """Profiles, drift and migrations for every user of the shop in ``directory``; timings and counts."""
    import polars as pl

    from driftrec.interests import (
        DetectionConfig,
        ProfileConfig,
        detect_migrations,
        drift_summary,
        iter_profiles,
        profile_frame,
        score_migrations,
    )

    src = Path(directory)
    config = ProfileConfig(window="1d")
    t0 = time.perf_counter()
    events = pl.scan_parquet(src / "events.parquet")
    if max_users is not None:
        keep = pl.scan_parquet(src / "users.parquet").head(max_users)
        events = events.join(keep, on="user_id", how="semi")
    frame = profile_frame(events, pl.scan_parquet(src / "items.parquet"), config, engine="streaming")
    t1 = time.perf_counter()
    categories = tuple(frame["category"].unique().sort().to_list())
    n_windows = int(frame["window"].max()) + 1  # type: ignore[arg-type]
    detection = DetectionConfig(prefilter=prefilter)
    drift_s = detect_s = 0.0
    n_users = n_drifted = 0
    parts = []
    for block in iter_profiles(frame, config, categories=categories, n_windows=n_windows):
        a = time.perf_counter()
        summary = drift_summary(block)
        b = time.perf_counter()
        parts.append(detect_migrations(block, detection))
        c = time.perf_counter()
        drift_s, detect_s = drift_s + b - a, detect_s + c - b
        n_users += block.shape[0]
        n_drifted += int((summary["max_jsd"] > 0.5).sum())
    t2 = time.perf_counter()
    migrations = pl.concat(parts)
    truth = pl.read_parquet(src / "truth.parquet")
    if max_users is not None:
        truth = truth.join(frame.select("user_id").unique(), on="user_id", how="semi")
    scores = score_migrations(migrations, truth)
    return {
        "users": n_users,
        "profile_rows": frame.height,
        "migrations": migrations.height,
        "users_max_jsd_over_0.5": n_drifted,
        "profile_s": t1 - t0,
        "blocks_s": t2 - t1,
        "drift_s": drift_s,
        "detect_s": detect_s,
        "wall_s": t2 - t0,
        "detect_ms_per_user": 1000 * detect_s / max(n_users, 1),
        "F1_migration": scores.f1,
        "precision_migration": scores.precision,
        "recall_migration": scores.recall,
        "median_timing_error": scores.median_timing_error_hours,
    }


def child(directory: Path, prefilter: bool, max_users: int | None) -> dict[str, Any]:
    """Run the pipeline in a fresh interpreter and read back its numbers and peak RSS."""
    here = str(Path(__file__).parent)
    code = (
        f"import json,resource,sys; sys.path.insert(0, {here!r}); import interest_scale as s; "
        f"r = s.run_pipeline({str(directory)!r}, {prefilter!r}, {max_users!r}); "
        "u = resource.getrusage(resource.RUSAGE_SELF); "
        "r['peak_rss_mb'] = u.ru_maxrss / 1024; r['cpu_s'] = u.ru_utime + u.ru_stime; "
        "print(json.dumps(r))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    from driftrec.evaluation.results import machine_description, result_record, write_result

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--events-per-user", type=int, default=100)
    parser.add_argument("--baseline-users", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    began = time.perf_counter()
    shop = make_shop(args.users, args.events_per_user)
    generate_s = time.perf_counter() - began
    load_before = os.getloadavg()[0]
    ours = child(shop, True, None)
    logging.info("driftrec: %s", ours)
    subset = min(args.baseline_users, args.users)
    same = child(shop, True, subset)
    peer = child(shop, False, subset)
    logging.info("first %d users, pre-filter on: %s; off: %s", subset, same, peer)
    metrics = {
        k: ours[k]
        for k in (
            "wall_s",
            "cpu_s",
            "peak_rss_mb",
            "profile_s",
            "drift_s",
            "detect_s",
            "detect_ms_per_user",
            "users",
        )
    }
    metrics["events"] = float(_count_events(shop))
    metrics.update({k: ours[k] for k in ("F1_migration", "precision_migration", "recall_migration")})
    metrics["median_timing_error"] = ours["median_timing_error"]
    metrics["prefilter_speedup"] = peer["detect_s"] / max(same["detect_s"], 1e-9)
    record = result_record(
        benchmark="interest-scale",
        dataset=f"synthetic-shop-{args.users}x{args.events_per_user}",
        model="driftrec-interests",
        protocol={
            "profiles": "daily windows, leaf categories, default behaviour weights, streaming group_by",
            "detection": "DetectionConfig() defaults: vectorised pre-filter + ruptures Binseg",
            "timing_error_unit": "hours",
            "process": "fresh child process; peak_rss_mb and cpu_s (user + system) are its own",
            "load_average_at_start": round(load_before, 1),
        },
        config={
            "users": args.users,
            "events_per_user": args.events_per_user,
            "machine": machine_description(),
        },
        metrics=metrics,
        wall_s=ours["wall_s"],
        baseline={"model": f"no-prefilter (first {subset} users)", "metrics": peer},
        prefilter_on_same_users=same,
        generate_s=round(generate_s, 1),
        details=ours,
    )
    record["peak_rss_mb"] = ours["peak_rss_mb"]
    path = write_result(record, args.out)
    logging.info("wrote %s", path)
    return 0


def _count_events(shop: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(shop / "events.parquet").metadata.num_rows)


if __name__ == "__main__":
    sys.exit(main())
