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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readme", action="store_true", help="replace the table between the README markers")
    args = parser.parse_args(argv)
    table = baseline_table()
    if args.readme:
        text = README.read_text()
        pattern = r"(<!-- baselines-table:start -->\n).*?(\n<!-- baselines-table:end -->)"
        README.write_text(re.sub(pattern, lambda m: m.group(1) + table + m.group(2), text, flags=re.S))
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
