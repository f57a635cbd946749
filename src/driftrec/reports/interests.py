"""``driftrec interests report``: one dataset in, one HTML page and a folder of PNGs out.

The page explains each figure in a sentence and backs it with a table (largest flows, segments, fading
and rising categories, bursts), so the numbers can be quoted without reading them off a chart. Trend
forecasts come from :mod:`driftrec.interests.trends` (statsforecast) when it is installed; a report
without them says so instead of failing.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl

from driftrec.data.dataset import Dataset
from driftrec.reports import figures
from driftrec.reports.analysis import OTHER, InterestAnalysis, ReportConfig, analyse, report_items
from driftrec.reports.export import Section, render_html, table_html, write_pngs

logger = logging.getLogger(__name__)

TREND_MODELS = ("SeasonalNaive", "AutoETS")
TREND_LEVEL = 80


@dataclass(frozen=True)
class ReportFiles:
    """Where the report went: the page, the PNGs by figure name, and the facts shown in its header."""

    html: Path
    pngs: dict[str, Path]
    facts: dict[str, Any]
    figure_titles: dict[str, str]


def _freq_for(window_days: float) -> str:
    if window_days < 1:
        return "1h"
    if window_days < 7:
        return "1d"
    if window_days < 30:
        return "1w"
    return "1mo"


def compute_trends(
    dataset: Dataset, config: ReportConfig, window_days: float, items: pl.DataFrame | None = None
) -> dict[str, Any] | None:
    """Demand, forecasts and a short rolling-origin backtest for the main categories (None if unavailable).

    ``items`` (``item_id, category``) is what the analysis read, e.g. text topics; by default the
    dataset's ``config.category_column``."""
    try:
        trends: Any = importlib.import_module("driftrec.interests.trends")
    except ImportError as exc:  # statsforecast missing, or the module not in this build
        logger.warning("trend forecasts left out: %s", exc)
        return None
    freq = _freq_for(window_days)
    if items is None:
        assert dataset.items is not None
        items = report_items(dataset.items, config.category_column, config.level)
    try:
        demand = trends.category_demand(dataset.events, items, level=config.level, freq=freq, top=5)
        keep = [c for c in demand["category"].unique(maintain_order=True).to_list() if c != OTHER][:4]
        demand = demand.filter(pl.col("category").is_in(keep))
        n_periods = demand["ds"].n_unique()
        horizon = max(2, min(12, n_periods // 8))
        fcfg = trends.ForecastConfig(freq=freq, models=TREND_MODELS, levels=(TREND_LEVEL,))
        future = trends.forecast(demand, horizon, fcfg)
        scores = None
        try:
            scores = trends.backtest(demand, horizon, fcfg, n_windows=2, progress=False).summary
        except ValueError as exc:
            logger.warning("trend backtest left out: %s", exc)
    except (ValueError, AttributeError, TypeError) as exc:  # too short a log, or another trends API
        logger.warning("trend forecasts left out: %s", exc)
        return None
    return {"demand": demand, "forecasts": future, "summary": scores, "freq": freq, "horizon": horizon}


def build_figures(analysis: InterestAnalysis) -> dict[str, go.Figure]:
    """Every figure of the report by file name (``user_stream_<n>`` for each example user)."""
    out: dict[str, go.Figure] = {}
    for i, user in enumerate(analysis.example_users):
        out[f"user_stream_{i + 1}"] = figures.user_stream(analysis, user)
    if analysis.migrations.height:
        out["migration_sankey"] = figures.migration_sankey(analysis)
        out["transition_heatmap"] = figures.transition_heatmap(analysis)
    out["migrations_over_time"] = figures.migrations_over_time(analysis)
    out["category_popularity"] = figures.popularity(analysis)
    out["segment_profiles"] = figures.segment_profiles(analysis)
    if analysis.trends is not None:
        t = analysis.trends
        cats = t["demand"]["category"].unique(maintain_order=True).to_list()[:4]
        out["trend_forecasts"] = figures.trend_forecasts(
            t["demand"], t["forecasts"], model="AutoETS", level=TREND_LEVEL, categories=cats
        )
    return out


def _title_of(fig: go.Figure) -> str:
    text = fig.layout.title.text or ""
    return str(text).split("<br>")[0]


_SOURCES = {
    "reviews": "the opening of each of its reviews",
    "catalogue": "title, category, brand and description",
    "catalogue and reviews": "catalogue text where an item has some, else its reviews",
}


def _topics_section(analysis: InterestAnalysis) -> Section | None:
    topics = analysis.text_topics
    if topics is None:
        return None
    cfg = analysis.config.text_topics
    assert cfg is not None
    events = analysis.curves.group_by("category").agg(pl.col("n_events").sum())
    counts = dict(zip(events["category"].to_list(), events["n_events"].to_list(), strict=True))
    rows = [
        {
            "topic": r["topic"],
            "items": int(r["n_items"]),
            "events": int(counts.get(r["topic"], 0)),
            "most distinctive words": r["terms"],
        }
        for r in topics.topics.iter_rows(named=True)
    ]
    return Section(
        "text_topics",
        "Categories from item text",
        f"The categories here are derived from item text ({_SOURCES.get(topics.source, topics.source)}): "
        f"each item's text was embedded with {html.escape(cfg.encoder.model)} and the items clustered into "
        f"{cfg.n_topics} topics ({'k-means' if cfg.method == 'kmeans' else cfg.method}, seed {cfg.seed}). A "
        "topic is named by the words whose TF-IDF weight in its text most exceeds their weight in any other "
        "topic. Topics are content clusters, not a merchant's taxonomy: a name hints at what the items are, "
        "and each item sits in exactly one topic.",
        None,
        (table_html(rows, list(rows[0]), caption="Topics"),),
    )


def _sections(analysis: InterestAnalysis, figs: dict[str, go.Figure]) -> list[Section]:
    f = analysis.facts
    sections: list[Section] = []
    topics = _topics_section(analysis)
    if topics is not None:
        sections.append(topics)
    users = [k for k in figs if k.startswith("user_stream_")]
    for i, key in enumerate(users):
        user = analysis.example_users[i]
        moves = analysis.migrations.filter(pl.col("user_id") == user).sort("ts")
        rows = [
            {
                "time": r["ts"].strftime("%Y-%m-%d %H:%M"),
                "from": r["from_category"],
                "to": r["to_category"],
                "kind": r["kind"],
                "magnitude": r["magnitude"],
                "JSD (bits)": r["jsd"],
            }
            for r in moves.iter_rows(named=True)
        ]
        tables = (table_html(rows, list(rows[0]), caption=f"Migrations of user {user}"),) if rows else ()
        sections.append(
            Section(
                key,
                f"Interest stream: user {user}",
                "Each band is the user's share of interest in a category (behaviour-weighted: a purchase "
                "counts more than a view), carried over silent windows and smoothed. Red dashed lines mark "
                "detected migrations (change points of the category mix, ruptures "
                f"{analysis.config.detection.method})"
                + ("; grey dotted lines the planted ones." if analysis.truth is not None else "."),
                figs[key],
                tables,
            )
        )
    overall = analysis.matrix.filter(pl.col("segment") == "all").sort("flow", descending=True)
    if "migration_sankey" in figs:
        rows = [
            {
                "from": r["from_category"],
                "to": r["to_category"],
                "migrations": int(r["flow"]),
                "share": r["share"],
            }
            for r in overall.head(15).iter_rows(named=True)
        ]
        sections.append(
            Section(
                "migration_sankey",
                "Category migrations",
                "Platform-level flows: every detected migration adds one unit from the category losing "
                "most interest to the one gaining most. <i>share</i> is the flow over everything leaving "
                "that category.",
                figs["migration_sankey"],
                (table_html(rows, ["from", "to", "migrations", "share"], caption="Largest flows"),),
            )
        )
        sections.append(
            Section(
                "transition_heatmap",
                "Transition heatmap",
                "For each category (row), where its migrating interest went (columns); rows sum to 100%.",
                figs["transition_heatmap"],
            )
        )
    kinds = f"{f['abrupt']} abrupt, {f['gradual']} gradual"
    burst_rows = [
        {
            "user": r["user_id"],
            "category": r["category"],
            "start": r["ts"].strftime("%Y-%m-%d %H:%M"),
            "windows": int(r["n_windows"]),
            "share": r["share"],
            "baseline": r["baseline"],
        }
        for r in analysis.bursts.sort("jump", descending=True).head(10).iter_rows(named=True)
    ]
    burst_table = (
        (table_html(burst_rows, list(burst_rows[0]), caption="Largest bursts (short jumps that fell back)"),)
        if burst_rows
        else ()
    )
    sections.append(
        Section(
            "migrations_over_time",
            "Migrations over time",
            f"{f['migrations']} migrations ({kinds}) among {f['users_with_migration']} of "
            f"{f['users']} users; "
            f"{f['bursts']} bursts (a category jumping for at most "
            f"{analysis.config.evolution.burst_max_windows} active windows, then falling back).",
            figs["migrations_over_time"],
            burst_table,
        )
    )
    pop = analysis.popularity.sort("window_start")
    last = pop.filter(pl.col("window_start") == pop["window_start"].max())
    life = [
        {"category": r["category"], "stage now": r["stage"], "share now": r["smoothed_share"]}
        for r in last.sort("smoothed_share", descending=True).head(12).iter_rows(named=True)
    ]
    stage_counts = (
        analysis.trajectory_table.group_by("stage_now").agg(n=pl.len()).sort("n", descending=True).iter_rows()
    )
    stage_text = ", ".join(f"{n} {stage}" for stage, n in stage_counts)
    sections.append(
        Section(
            "category_popularity",
            "Category popularity and life cycle",
            "Each category's share of all interest per window. A stage is read off the curve's own "
            "maximum: <i>rise</i> before its peak period, <i>peak</i> within "
            f"{analysis.config.evolution.peak_fraction:.0%} of the maximum, <i>fade</i> after, "
            f"<i>steady</i> when it never moves much. Users' own category interests, now: {stage_text}.",
            figs["category_popularity"],
            (
                table_html(
                    life, ["category", "stage now", "share now"], caption="Categories at the last window"
                ),
            ),
        )
    )
    seg_rows = [
        {
            "segment": r["name"],
            "users": int(r["n_users"]),
            "top categories": r["top_categories"],
            "migrations": int(r["n_migrations"]),
            "gaining (in)": r["top_in"] or [],
            "losing (out)": r["top_out"] or [],
            "largest flow": r["top_flow"] or "",
        }
        for r in analysis.segment_table.iter_rows(named=True)
    ]
    flow_rows = [
        {
            "from segment": f"S{r['from_segment']}",
            "to segment": f"S{r['to_segment']}",
            "users": int(r["n_users"]),
        }
        for r in analysis.segment_flows.filter(pl.col("from_segment") != pl.col("to_segment"))
        .sort("n_users", descending=True)
        .head(10)
        .iter_rows(named=True)
    ]
    seg_tables = [table_html(seg_rows, list(seg_rows[0]), caption="Segments")]
    if flow_rows:
        seg_tables.append(
            table_html(flow_rows, list(flow_rows[0]), caption="Users changing segment (first -> last window)")
        )
    sections.append(
        Section(
            "segment_profiles",
            "Segments",
            "Users clustered by k-means on the square root of their mean category shares (Hellinger "
            "geometry). Migrations in and out are counted within each segment's users.",
            figs["segment_profiles"],
            tuple(seg_tables),
        )
    )
    if "trend_forecasts" in figs and analysis.trends is not None:
        t = analysis.trends
        trend_tables: tuple[str, ...] = ()
        if t.get("summary") is not None:
            rows = [
                {
                    "model": r["model"],
                    "MASE": r["MASE"],
                    "sMAPE": r["sMAPE"],
                    "MASE vs SeasonalNaive": r["MASE_vs_baseline"],
                }
                for r in t["summary"].iter_rows(named=True)
            ]
            trend_tables = (table_html(rows, list(rows[0]), caption="Rolling-origin backtest (2 origins)"),)
        sections.append(
            Section(
                "trend_forecasts",
                "Category demand forecasts",
                f"Demand (behaviour count) per {t['freq']} period for the main categories, forecast "
                f"{t['horizon']} periods ahead with statsforecast AutoETS and its {TREND_LEVEL}% interval.",
                figs["trend_forecasts"],
                trend_tables,
            )
        )
    return sections


def write_interest_report(
    dataset: Dataset,
    out: str | Path,
    config: ReportConfig | None = None,
    *,
    truth: pl.DataFrame | None = None,
) -> ReportFiles:
    """Analyse ``dataset`` and write ``out/index.html`` (self-contained), ``out/png/*.png`` and
    ``out/facts.json``. ``truth`` (a synthetic shop's planted changes) adds planted markers."""
    cfg = config if config is not None else ReportConfig()
    began = time.perf_counter()
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    analysis = analyse(dataset, cfg, truth=truth)
    if cfg.trends:
        trends = compute_trends(dataset, cfg, analysis.profile_config.window_days, analysis.category_items)
        analysis = _with_trends(analysis, trends)
    figs = build_figures(analysis)
    f = analysis.facts
    over = (
        f"{f['categories']} topics derived from item text"
        if analysis.text_topics is not None
        else f"{f['categories']} categories (level {f['category_level']})"
    )
    lead = html.escape(
        f"{f['dataset']}: {f['events']:,} events of {f['users']:,} users over {over}, "
        f"{f['first_event']} to {f['last_event']}, in {f['windows']} windows "
        f"of {f['window']}. Generated {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')} by driftrec."
    )
    page = render_html(
        f"Interest migration report: {analysis.name}", lead, _sections(analysis, figs), cfg.plotly_js
    )
    html_path = directory / "index.html"
    html_path.write_text(page, encoding="utf-8")
    pngs: dict[str, Path] = {}
    if cfg.png:
        for path in write_pngs(figs, directory / "png"):
            pngs[path.stem] = path
    facts = {**f, "seconds": round(time.perf_counter() - began, 1), "trends": analysis.trends is not None}
    (directory / "facts.json").write_text(json.dumps(facts, indent=2, default=str))
    logger.info("wrote %s and %d PNGs in %.1fs", html_path, len(pngs), facts["seconds"])
    return ReportFiles(html_path, pngs, facts, {k: _title_of(v) for k, v in figs.items()})


def _with_trends(analysis: InterestAnalysis, trends: dict[str, Any] | None) -> InterestAnalysis:
    from dataclasses import replace

    return replace(analysis, trends=trends)
