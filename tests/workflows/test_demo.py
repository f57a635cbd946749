from __future__ import annotations

import json
from pathlib import Path

from driftrec.workflows.demo import DemoConfig, run_demo


def test_demo_writes_results_report_and_bundle_and_is_reproducible(tmp_path: Path) -> None:
    config = DemoConfig(n_users=300, n_items=200, seed=3, models=("most-popular", "itemknn", "ease"))
    first = run_demo(tmp_path / "a", config, progress=False)
    second = run_demo(tmp_path / "b", config, progress=False)
    results = sorted(p.name for p in first.results_dir.glob("*.json"))
    assert results == [f"demo__synthetic-shop__{m}.json" for m in ("ease", "itemknn", "most-popular")]
    record = json.loads((first.results_dir / "demo__synthetic-shop__ease.json").read_text())
    assert record["baseline"]["model"] == "most-popular"
    assert {"benchmark", "dataset", "model", "protocol", "metrics", "wall_s", "peak_rss_mb", "commit"} <= set(
        record
    )
    # Personalised models must beat popularity by a wide margin on a shop with strong category interests.
    metrics = {name: o.result.metrics for name, o in first.outcomes.items()}
    assert metrics["ease"]["NDCG@10"] > 2 * metrics["most-popular"]["NDCG@10"]
    assert metrics["itemknn"]["NDCG@10"] > 2 * metrics["most-popular"]["NDCG@10"]
    # Same seed, same numbers to 4 decimals.
    for name in metrics:
        again = second.outcomes[name].result.metrics
        assert {k: round(v, 4) for k, v in metrics[name].items()} == {
            k: round(v, 4) for k, v in again.items()
        }
    assert "| ease |" in first.report_path.read_text()
    assert (tmp_path / "a" / "report.html").stat().st_size > 10_000
    assert (first.bundle_dir / "bundle.json").exists()
    assert first.interests_path is not None
    page = first.interests_path.read_text()
    assert "Interest migration report" in page and 'id="migration_sankey"' in page
