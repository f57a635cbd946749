"""Check that two result folders agree: same files, every metric equal to 4 decimals.

Run: ``benchmarks/compare_results.py benchmarks/results /tmp/rerun --pattern 'baselines__*'``
Exit code 1 when any metric differs (the reproducibility claim in the README rests on this).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def compare(a: Path, b: Path, pattern: str, decimals: int = 4) -> list[str]:
    problems = []
    for path_b in sorted(b.glob(pattern + ".json")):
        path_a = a / path_b.name
        if not path_a.exists():
            problems.append(f"{path_b.name}: missing in {a}")
            continue
        ma, mb = json.loads(path_a.read_text())["metrics"], json.loads(path_b.read_text())["metrics"]
        for key in sorted(set(ma) | set(mb)):
            va, vb = ma.get(key), mb.get(key)
            if va is None or vb is None or round(va, decimals) != round(vb, decimals):
                problems.append(f"{path_b.name}: {key} {va} != {vb}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--pattern", default="*")
    args = parser.parse_args(argv)
    problems = compare(args.first, args.second, args.pattern)
    checked = len(list(args.second.glob(args.pattern + ".json")))
    for line in problems:
        print(line)
    print(f"{checked} result files compared, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
