"""Write the load and index-recall tables of docs/serving.md from the result files (never by hand).

Run: ``.venv/bin/python benchmarks/serving_report.py`` after ``serving_load.py`` / ``index_recall.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "serving.md"
README = ROOT / "README.md"


def load_table(record: dict[str, Any]) -> str:
    lines = [
        "| endpoint | in flight | p50 ms | p99 ms | requests/s | errors | requests |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    names = {
        "dashboard": "GET /dashboard (floor)",
        "healthz": "GET /healthz (baseline)",
        "recommend": "GET /recommend",
        "events": "POST /events",
    }
    for run in record["runs"]:
        lines.append(
            f"| {names.get(run['endpoint'], run['endpoint'])} | {run['concurrency']} | {run['p50_ms']:.1f} "
            f"| {run['p99_ms']:.1f} | {run['throughput_rps']:.0f} | {run['errors']} | {run['requests']} |"
        )
    cfg = record["config"]
    lines.append("")
    lines.append(
        f"{cfg['n_catalogue_items']:,} items, index `{cfg['index']}`"
        + (f" (nprobe {cfg['nprobe']})" if cfg.get("index") == "ivf" and "nprobe" in cfg else "")
        + f", micro-batching {'on' if cfg.get('micro_batch', False) else 'off'}, "
        f"client `{record['protocol']['client']}`, server start-up "
        f"{cfg['server_startup_s']:.0f} s, load average {record['loadavg_before'][0]} before / "
        f"{record['loadavg_after'][0]} after on {record['machine']}; {record['stored_events']:,} events in "
        f"the store after the run (every acknowledged one, warm-ups included). Commit {record['commit']}."
    )
    return "\n".join(lines)


def recall_table(records: list[dict[str, Any]]) -> str:
    lines = [
        "| space | index | recall@10 | query p50 ms | p50 vs exact | build s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for record in records:
        space = record["protocol"]["space"]
        for name, row in record["rows"].items():
            lines.append(
                f"| {space} | {name} | {row['recall@10']:.3f} | {row['query_p50_ms']:.3f} "
                f"| {row['latency_ratio_vs_exact']:.3f} | {row['build_s']:.1f} |"
            )
    first = records[0]
    lines.append("")
    lines.append(
        f"{first['config']['n_items']:,} items x {first['config']['dim']} dims, "
        f"{first['protocol']['n_queries']} queries; `-ip` rows search raw inner product (no MIPS -> L2 "
        f"transform). mips = user states vs the raw item table (what /recommend ranks by), cosine = unit "
        f"item vectors (what /items/{{id}}/similar ranks by). Commit {first['commit']}."
    )
    return "\n".join(lines)


def readme_table(load: dict[str, Any] | None, recall: list[dict[str, Any]]) -> str:
    lines = ["| measure | value |", "|---|---|"]
    if load is not None:
        for run in load["runs"]:
            if run["concurrency"] != load["protocol"]["closed_loop_concurrency"]:
                continue
            lines.append(
                f"| `{run['endpoint']}` at {run['concurrency']} in flight | p50 {run['p50_ms']:.0f} ms, "
                f"p99 {run['p99_ms']:.0f} ms, {run['throughput_rps']:.0f} req/s, {run['errors']} errors |"
            )
        p99 = load["metrics"]["p99_ms"]
        verdict = "met" if p99 < load["metrics"].get("p99_target_ms", 20.0) else "**missed**"
        lines.append(
            f"| p99 target for `/recommend` | 20 ms: {verdict} at p99 {p99:.0f} ms (load average "
            f"{load['loadavg_before'][0]}; see docs/serving.md) |"
        )
    for record in recall:
        if record["protocol"]["space"] != "mips":
            continue
        for name in ("ivf-nprobe32", "hnsw-ef64"):
            row = record["rows"].get(name)
            if row:
                lines.append(
                    f"| {name} on 100k SASRec items | recall@10 {row['recall@10']:.3f}, "
                    f"{row['latency_ratio_vs_exact']:.2f}x exact query time |"
                )
    return "\n".join(lines)


def replace(text: str, marker: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)", re.S)
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def main() -> None:
    text = DOC.read_text()
    path = RESULTS / "load__synthetic-shop-100k__sasrec.json"
    load = json.loads(path.read_text()) if path.exists() else None
    if load is not None:
        text = replace(text, "load-table", load_table(load))
    paths = sorted(RESULTS.glob("index-recall__*.json"), key=lambda p: "cosine" in p.name)
    recall = [json.loads(p.read_text()) for p in paths]
    if recall:
        text = replace(text, "index-recall-table", recall_table(recall))
    DOC.write_text(text)
    README.write_text(replace(README.read_text(), "serving-part-b", readme_table(load, recall)))
    print(f"updated {DOC} and {README}")


if __name__ == "__main__":
    main()
