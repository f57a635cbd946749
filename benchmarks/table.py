"""Print (or write into README.md) the Markdown table of the baseline results in benchmarks/results/.

Run: ``.venv/bin/python benchmarks/table.py [--readme]``
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
README = Path(__file__).parents[1] / "README.md"
METRICS = ("HR@10", "NDCG@10", "MRR@10", "Recall@20", "NDCG@20")


def baseline_table(results: Path = RESULTS) -> str:
    records = [json.loads(p.read_text()) for p in sorted(results.glob("baselines__*.json"))]
    header = "| dataset | split | model | " + " | ".join(METRICS) + " | fit s |"
    lines = [header, "|---|---|---|" + "---:|" * (len(METRICS) + 1)]
    for rec in sorted(records, key=lambda r: (r["dataset"], -r["metrics"]["NDCG@10"])):
        cells = " | ".join(f"{rec['metrics'][m]:.4f}" for m in METRICS)
        split = rec["protocol"].get("split", "?")
        lines.append(f"| {rec['dataset']} | {split} | {rec['model']} | {cells} | {rec.get('fit_s', 0):.1f} |")
    return "\n".join(lines)


def sequential_table(results: Path = RESULTS) -> str:
    """Our sequence models next to the published figures quoted in each result file."""
    records = [json.loads(p.read_text()) for p in sorted(results.glob("sequential__*.json"))]
    lines = [
        "| dataset | model | HR@10 (=Recall@10) | NDCG@10 | Recall@50 | NDCG@50 | epochs "
        "| train s (with warm start) | popularity NDCG@10 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    published: dict[str, dict[str, dict[str, float]]] = {}
    for rec in sorted(records, key=lambda r: (r["dataset"], r["model"])):
        m = rec["metrics"]
        base = (rec.get("baseline") or {}).get("metrics", {}).get("NDCG@10")
        status = "" if rec.get("finished", True) else " (stopped by time budget)"
        if rec.get("warm_start"):
            status += f" (from {rec['warm_start']})"
        train_s = rec.get("train_s_total", 0) + (rec.get("warm_start_train_s") or 0)
        lines.append(
            f"| {rec['dataset']} | {rec['model']}{status} | {m['HR@10']:.4f} | {m['NDCG@10']:.4f} | "
            f"{m.get('Recall@50', float('nan')):.4f} | {m.get('NDCG@50', float('nan')):.4f} | "
            f"{rec.get('epochs_run', '?')} | {train_s:.0f} | "
            + (f"{base:.4f} |" if base is not None else "- |")
        )
        published.setdefault(rec["dataset"], {}).update((rec.get("baseline") or {}).get("published", {}))
    lines += ["", "Published (same protocol, cited in the result files):", ""]
    for dataset, refs in sorted(published.items()):
        for model, values in refs.items():
            figures = ", ".join(f"{k} {v}" for k, v in values.items())
            lines.append(f"- {dataset}, {model}: {figures}")
    return "\n".join(lines)


def _replace(text: str, marker: str, table: str) -> str:
    pattern = rf"(<!-- {marker}:start -->\n).*?(\n<!-- {marker}:end -->)"
    return re.sub(pattern, lambda m: m.group(1) + table + m.group(2), text, flags=re.S)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readme", action="store_true", help="replace the table between the README markers")
    args = parser.parse_args(argv)
    table, seq = baseline_table(), sequential_table()
    if args.readme:
        text = _replace(README.read_text(), "baselines-table", table)
        README.write_text(_replace(text, "sequential-table", seq))
    print(table, seq, sep="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
