"""A short human report of an evaluation run: Markdown table plus an interactive Plotly page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from driftrec.workflows.prepare import Prepared

__all__ = ["metrics_table_markdown", "write_report"]

REPORT_METRICS: tuple[str, ...] = (
    "HR@10",
    "NDCG@10",
    "MRR@10",
    "Recall@20",
    "NDCG@20",
    "Coverage@10",
    "Novelty@10",
)


def metrics_table_markdown(
    records: dict[str, dict[str, Any]], metrics: tuple[str, ...] = REPORT_METRICS
) -> str:
    header = "| model | " + " | ".join(metrics) + " | fit s |"
    rule = "|---|" + "---:|" * (len(metrics) + 1)
    rows = []
    for name, rec in records.items():
        cells = [f"{rec['metrics'].get(m, float('nan')):.4f}" for m in metrics]
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {rec.get('fit_s', 0):.1f} |")
    return "\n".join([header, rule, *rows])


def write_report(out_dir: Path, prepared: Prepared, records: dict[str, dict[str, Any]], best: str) -> Path:
    """Write ``report.md`` and ``report.html`` into ``out_dir``; return the Markdown path."""
    log = prepared.log
    split = prepared.split
    lines = [
        f"# driftrec report: {prepared.dataset.name}",
        "",
        f"- events used: {len(log):,} from {log.n_users:,} users over {log.n_items:,} items",
        f"- protocol: {split.protocol.get('split')}, full ranking over all {log.n_items:,} items, "
        f"seen items excluded; {len(split.test):,} users evaluated",
        "- cleaning: " + ("; ".join(f"{s.step} removed {s.removed:,}" for s in prepared.cleaning) or "none"),
        "",
        metrics_table_markdown(records),
        "",
        f"Best by NDCG@10: **{best}** (saved as the model bundle).",
        "",
    ]
    md = out_dir / "report.md"
    md.write_text("\n".join(lines))
    fig = go.Figure()
    names = list(records)
    for metric in ("HR@10", "NDCG@10", "MRR@10"):
        fig.add_bar(name=metric, x=names, y=[records[n]["metrics"][metric] for n in names])
    fig.update_layout(
        title=f"Full-ranking metrics on {prepared.dataset.name} ({split.protocol.get('split')}, "
        f"{len(split.test):,} test users)",
        barmode="group",
        xaxis_title="model",
        yaxis_title="metric value",
        template="plotly_white",
    )
    fig.write_html(out_dir / "report.html", include_plotlyjs=True, full_html=True)
    return md
