"""Paired comparison of two finished sequential experiments on the same test users.

A gain of 0.0005 NDCG@10 on 8,442 users says nothing by itself; this script evaluates both best
checkpoints of ``benchmarks/sequential.py`` on the test part (same protocol as that script), takes the
per-user differences (B - A) of each metric, and reports the mean difference, its 95% paired bootstrap
interval (2,000 resamples of users) and a two-sided sign-flip permutation p-value (10,000 flips).
Nothing is trained: an experiment whose checkpoint has not finished (early stop or all epochs) is refused.

Result: ``benchmarks/results/sequential-paired__<dataset>__<B>-vs-<A>.json`` (DESIGN.md §3 shape:
``model`` is ``<B>-vs-<A>`` with B's metrics and the differences, ``baseline`` is A with its metrics).

Run: ``.venv/bin/python benchmarks/paired.py --a scientific-id --b scientific-id+text-iddrop``
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from sequential import CACHE, EXPERIMENTS, RESULTS, cold_split, item_text

from driftrec.data import load_dataset
from driftrec.evaluation import paired_bootstrap_ci, sign_flip_p_value
from driftrec.evaluation.ranking import RankingConfig, RankingResult, evaluate_ranking
from driftrec.evaluation.results import result_record, write_result
from driftrec.models.sequential import SequentialRecommender
from driftrec.workflows.prepare import SplitSpec, prepare

METRICS = ("HR@10", "NDCG@10", "HR@50", "NDCG@50")


def finished(name: str) -> bool:
    trainer = CACHE / "ckpt" / name / "trainer.json"
    if not trainer.is_file():
        return False
    saved = json.loads(trainer.read_text())
    history = saved["history"]
    return (
        bool(history.get("stopped_early"))
        or len(history.get("epochs", [])) >= EXPERIMENTS[name].config.training.epochs
    )


def evaluate_best(name: str) -> RankingResult:
    """The experiment's best weights (restored from its finished checkpoint) on all test users."""
    if not finished(name):
        raise SystemExit(
            f"{name}: no finished checkpoint in {CACHE / 'ckpt' / name}; run benchmarks/sequential.py first"
        )
    exp = EXPERIMENTS[name]
    prepared = prepare(load_dataset(exp.dataset), SplitSpec())
    if exp.cold_start:
        prepared = cold_split(prepared, exp.cold_start)
    model = SequentialRecommender(exp.config, item_text=item_text(prepared) if exp.text else None)
    model.fit(prepared.split.train, prepared.split.valid, checkpoint_dir=CACHE / "ckpt" / name, resume=True)
    ranking = RankingConfig(ks=(10, 50), exclude_seen=True, seen_targets="miss", batch_size=256)
    return evaluate_ranking(model.score, prepared.split.test, prepared.log.n_items, ranking)


def compare(a: str, b: str, out: Path) -> dict[str, Any]:
    if (
        EXPERIMENTS[a].dataset != EXPERIMENTS[b].dataset
        or EXPERIMENTS[a].cold_start != EXPERIMENTS[b].cold_start
    ):
        raise SystemExit(f"{a} and {b} are not evaluated on the same test users")
    began = time.perf_counter()
    result_a, result_b = evaluate_best(a), evaluate_best(b)
    if not np.array_equal(result_a.users, result_b.users):
        raise SystemExit("the two evaluations did not score the same users in the same order")
    metrics: dict[str, float] = {}
    intervals: dict[str, list[float]] = {}
    for metric in METRICS:
        diff = result_b.per_user[metric] - result_a.per_user[metric]
        metrics[metric] = result_b.metrics[metric]
        metrics[f"{metric}_diff"] = float(diff.mean())
        metrics[f"{metric}_p_value"] = sign_flip_p_value(diff)
        intervals[f"{metric}_diff"] = paired_bootstrap_ci(diff, n=2000)
    exp = EXPERIMENTS[b]
    record = result_record(
        benchmark="sequential-paired",
        dataset=exp.dataset,
        model=f"{exp.model}-vs-{EXPERIMENTS[a].model}",
        protocol={
            **result_b.protocol,
            "users": int(result_b.users.size),
            "test": "per-user B - A; 95% paired bootstrap (2,000 resamples); sign-flip p (10,000 flips)",
        },
        config={"a": a, "b": b},
        metrics=metrics,
        wall_s=time.perf_counter() - began,
        baseline={"model": EXPERIMENTS[a].model, "metrics": {m: result_a.metrics[m] for m in METRICS}},
        ci95=intervals,
    )
    path = write_result(record, out)
    for metric in METRICS:
        logging.info(
            "%s: %s - %s = %+.4f, 95%% CI %s, p %.3f", metric, b, a,
            metrics[f"{metric}_diff"], intervals[f"{metric}_diff"], metrics[f"{metric}_p_value"],
        )  # fmt: skip
    logging.info("-> %s", path)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--a", required=True, choices=sorted(EXPERIMENTS), help="baseline experiment")
    parser.add_argument("--b", required=True, choices=sorted(EXPERIMENTS), help="challenger experiment")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    compare(args.a, args.b, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
