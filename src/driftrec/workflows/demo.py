"""The main job: synthetic shop -> clean/split -> every baseline -> full-ranking metrics -> report,
plus the interest-migration report of the same shop (its planted migrations drawn beside the detected).

It needs nothing from outside the package (no download, no server), so it is the first thing a new
user runs and the smoke test of an install.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.evaluation.ranking import RankingConfig
from driftrec.evaluation.results import write_result
from driftrec.workflows.bundle import Bundle
from driftrec.workflows.experiment import Outcome, fit_and_evaluate
from driftrec.workflows.prepare import Prepared, SplitSpec, prepare
from driftrec.workflows.report import write_report

__all__ = ["DEMO_MODELS", "DemoConfig", "DemoOutcome", "run_demo"]

log = logging.getLogger(__name__)

DEMO_MODELS: tuple[str, ...] = ("most-popular", "recent-popular", "markov", "itemknn", "ease", "als", "bpr")


@dataclass(frozen=True)
class DemoConfig:
    n_users: int = 3000
    n_items: int = 1500
    seed: int = 7
    models: tuple[str, ...] = DEMO_MODELS
    model_params: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"als": {"num_threads": 1}, "bpr": {"num_threads": 1}}
    )

    interest_report: bool = True  # HTML only (no PNGs, so no browser needed)

    def __post_init__(self) -> None:
        if self.n_users < 10 or self.n_items < 10:
            raise ValueError("n_users and n_items must be >= 10")
        if not self.models:
            raise ValueError("models must name at least one model")


@dataclass(frozen=True)
class DemoOutcome:
    prepared: Prepared
    outcomes: dict[str, Outcome]
    results_dir: Path
    report_path: Path
    bundle_dir: Path
    interests_path: Path | None = None


def run_demo(
    out_dir: str | Path, config: DemoConfig | None = None, progress: bool | None = None
) -> DemoOutcome:
    cfg = config or DemoConfig()
    out = Path(out_dir)
    shop = generate(SyntheticShopConfig(n_users=cfg.n_users, n_items=cfg.n_items, seed=cfg.seed))
    shop.save(out / "data")
    spec = SplitSpec(protocol="leave-one-out", first_interaction_only=True)
    prepared = prepare(shop.dataset, spec)
    ranking = RankingConfig(ks=(5, 10, 20), exclude_seen=True)
    outcomes: dict[str, Outcome] = {}
    for name in cfg.models:
        log.info("fitting %s", name)
        outcomes[name] = fit_and_evaluate(
            prepared, name, cfg.model_params.get(name), ranking, benchmark="demo", progress=progress
        )
    baseline = outcomes.get("most-popular")
    results_dir = out / "results"
    for name, outcome in outcomes.items():
        record = dict(outcome.record)
        if baseline is not None and name != "most-popular":
            record["baseline"] = {"model": "most-popular", "metrics": baseline.record["metrics"]}
        write_result(record, results_dir)
    best = max(outcomes, key=lambda n: outcomes[n].result.metrics["NDCG@10"])
    bundle = Bundle(
        outcomes[best].model,
        prepared.users,
        prepared.items,
        prepared.log.histories(),
        {"model": best, "dataset": prepared.dataset.name, "split": spec.to_dict()},
    )
    bundle_dir = bundle.save(out / "bundle")
    report_path = write_report(out, prepared, {n: o.record for n, o in outcomes.items()}, best)
    (out / "summary.json").write_text(
        json.dumps({n: o.record["metrics"] for n, o in outcomes.items()}, indent=2) + "\n"
    )
    interests_path = None
    if cfg.interest_report:
        from driftrec.reports import ReportConfig, write_interest_report  # heavy: only when asked

        log.info("writing the interest report")
        report = ReportConfig(png=False)
        files = write_interest_report(shop.dataset, out / "interests", report, truth=shop.truth)
        interests_path = files.html
    return DemoOutcome(prepared, outcomes, results_dir, report_path, bundle_dir, interests_path)
