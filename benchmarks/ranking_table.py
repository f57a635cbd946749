"""Markdown tables of the ranking results (``ctr__*.json``, ``pipeline__*.json``) for README/docs.

Run: ``.venv/bin/python benchmarks/ranking_table.py [--write]`` (``--write`` fills the marked blocks of
README.md and docs/ranking.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).parents[1]
ORDER = {"dien": 0, "dien-noaux": 1, "din": 2, "mlp": 3, "fuxictr-dien": 4, "fuxictr-din": 5}


def ctr_table(results: Path = RESULTS) -> str:
    records = [json.loads(p.read_text()) for p in sorted(results.glob("ctr__*.json"))]
    lines = [
        "| dataset | impressions (train/test), test clicks | model | AUC | AUC 95% CI | gAUC | LogLoss |",
        "|---|---|---|---:|---|---:|---:|",
    ]
    for rec in sorted(records, key=lambda r: (r["dataset"], ORDER.get(r["model"], 9))):
        p, m = rec["protocol"], rec["metrics"]
        size = f"{p['train_impressions']:,}/{p['test_impressions']:,}, {rec.get('test_clicks', '?')}"
        ci = rec.get("AUC_ci95", ["", ""])
        lines.append(
            f"| {rec['dataset']} | {size} | {rec['model']} | {m['AUC']:.4f} | {ci[0]} to {ci[1]} "
            f"| {m['gAUC']:.4f} | {m['LogLoss']:.4f} |"
        )
    return "\n".join(lines)


def pipeline_table(results: Path = RESULTS) -> str:
    records = [json.loads(p.read_text()) for p in sorted(results.glob("pipeline__*.json"))]
    lines = [
        "| dataset | retriever | stage | HR@10 | NDCG@10 | NDCG@20 | users | NDCG@10 gain, 95% CI |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for rec in sorted(records, key=lambda r: (r["dataset"], r["model"])):
        m = rec["metrics"]
        retriever = rec["model"].split("+")[0]
        lines.append(
            f"| {rec['dataset']} | {retriever} | {rec.get('stage', rec['model'])} | {m['HR@10']:.4f} "
            f"| {m['NDCG@10']:.4f} | {m['NDCG@20']:.4f} | {rec['protocol'].get('users_evaluated', '?')} "
            f"| {_ci(rec.get('NDCG@10_gain_ci95'))} |"
        )
    return "\n".join(lines)


def _ci(interval: list[float] | None) -> str:
    return "" if not interval else f"{interval[0]:+.4f} to {interval[1]:+.4f}"


def _fill(path: Path, name: str, table: str) -> None:
    text = path.read_text()
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text:
        return
    new = re.sub(rf"{re.escape(start)}.*?{re.escape(end)}", f"{start}\n{table}\n{end}", text, flags=re.S)
    path.write_text(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    ctr, pipe = ctr_table(), pipeline_table()
    print(ctr, "\n", pipe, sep="\n")
    if args.write:
        for path in (ROOT / "README.md", ROOT / "docs" / "ranking.md"):
            _fill(path, "ctr-table", ctr)
            _fill(path, "pipeline-table", pipe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
