"""Plotly figures of an :class:`~driftrec.reports.analysis.InterestAnalysis`, one function per figure.

Every figure has a title, named axes and a legend in category *names*, and every category keeps one
colour across all figures of a report (:func:`palette`), so a reader can follow "Books" from the stream
plot to the Sankey to the heatmap. Figures are sized for a 1200 x 650 PNG and read the same in HTML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from driftrec.interests.evolution import trailing_mean
from driftrec.interests.migration import matrix_array
from driftrec.interests.segments import segment_names
from driftrec.reports.analysis import OTHER, InterestAnalysis

WIDTH: Final = 1200
HEIGHT: Final = 650
_GREY: Final = "#b0b0b0"
_FONT: Final = {"family": "Arial, Helvetica, sans-serif", "size": 14}


def palette(categories: Sequence[str]) -> dict[str, str]:
    """One colour per category (``(other)`` grey), stable for a given category order."""
    greys = {"#7f7f7f", "rgb(179,179,179)", "rgb(242,242,242)", "rgb(102,102,102)"}
    pool = [*qualitative.D3, *qualitative.Set2, *qualitative.Pastel1, *qualitative.Dark2]
    colours = [c for c in pool if c.lower().replace(" ", "") not in greys]
    out = {c: colours[i % len(colours)] for i, c in enumerate(c for c in categories if c != OTHER)}
    out[OTHER] = _GREY
    return out


def _layout(fig: go.Figure, title: str, **extra: Any) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 20}},
        font=_FONT,
        template="plotly_white",
        width=WIDTH,
        height=HEIGHT,
        margin={"l": 80, "r": 40, "t": 90, "b": 70},
        **extra,
    )
    return fig


def _thin(frame: pl.DataFrame, column: str = "window_start", max_points: int = 300) -> pl.DataFrame:
    """Every k-th time point of a long, already smoothed curve: the page stays small, the shape stays."""
    times = frame[column].unique().sort()
    step = max(1, -(-times.len() // max_points))
    if step == 1:
        return frame
    keep = times.gather(list(range(0, times.len(), step)))
    return frame.filter(pl.col(column).is_in(keep.implode()))


def _short(category: str, limit: int = 28) -> str:
    """Last part of a category path, shortened: labels inside a figure must fit."""
    name = category.split(" > ")[-1] if category != OTHER else category
    return name if len(name) <= limit else name[: limit - 1] + "…"


def user_stream(analysis: InterestAnalysis, user_id: str, *, top: int = 8) -> go.Figure:
    """A user's smoothed interest shares over time, stacked, with detected migrations (and, on a
    synthetic shop, the planted ones) marked as vertical lines."""
    profiles = analysis.profiles
    users = profiles.user_ids.to_list()
    if user_id not in users:
        raise ValueError(f"user {user_id!r} is not in the analysis")
    u = users.index(user_id)
    active = np.flatnonzero(profiles.active()[u])
    first, last = int(active[0]), int(active[-1])
    # the user's own span only: interest is carried over pauses, not past the last visit
    lo = max(first - max(1, (last - first) // 25), 0)
    # the user's span; a long history gets extra smoothing for display (a curve per window is a blur)
    extra = max(1, (last - lo + 1) // 50)
    traj = trailing_mean(analysis.trajectories[u, lo : last + 1], extra, axis=0)  # (W', C)
    smooth = analysis.config.evolution.smooth + extra - 1
    cats = list(profiles.categories)
    colours = palette([*analysis.top_categories(), OTHER])
    total = np.nansum(traj, axis=0)
    order = [int(c) for c in np.argsort(-total) if total[c] > 0 and cats[c] != OTHER]
    order += [cats.index(OTHER)] if OTHER in cats and total[cats.index(OTHER)] > 0 else []
    shown, rest = order[:top], order[top:]
    x = profiles.window_starts.to_list()[lo : last + 1]
    fig = go.Figure()
    for c in shown:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.round(traj[:, c], 4),
                name=cats[c],
                stackgroup="interest",
                mode="lines",
                line={"width": 0.5, "color": colours.get(cats[c], _GREY)},
            )
        )
    if rest:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.round(traj[:, rest].sum(axis=1), 4),
                name="other categories",
                stackgroup="interest",
                mode="lines",
                line={"width": 0.5, "color": _GREY},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[x[w - lo] for w in active],
            y=[0.0] * active.shape[0],
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 14, "color": "#333333"},
            name="window with events",
        )
    )
    starts = profiles.window_starts
    x_range = [starts[lo], starts[last]]
    mid = starts[first] + (starts[last] - starts[first]) * 0.7
    moves = analysis.migrations.filter(pl.col("user_id") == user_id).sort("ts")
    for i, row in enumerate(moves.iter_rows(named=True)):
        label = f"{_short(row['from_category'])} → {_short(row['to_category'])} ({row['kind']})"
        _vline(fig, row["ts"], label, "#d62728", "dash", 0.97 - 0.07 * (i % 4), row["ts"] > mid)
    if analysis.truth is not None:
        planted = analysis.truth.filter(pl.col("user_id") == user_id, pl.col("kind") != "burst")
        for i, row in enumerate(planted.sort("ts").iter_rows(named=True)):
            label = f"planted: → {_short(row['to_category'])}"
            _vline(fig, row["ts"], label, "#555555", "dot", 0.12 + 0.07 * (i % 3), row["ts"] > mid)
    n_active = active.shape[0]
    title = (
        f"Interest stream of user {user_id}: {moves.height} migration(s) detected"
        f"<br><sup>share of interest per category, {analysis.profile_config.window} windows, "
        f"smoothed over {smooth} windows; {n_active} active windows</sup>"
    )
    _layout(fig, title, legend={"title": {"text": "category"}, "traceorder": "reversed"})
    fig.update_xaxes(title_text="time", range=x_range)
    fig.update_yaxes(title_text="share of interest", range=[0, 1.0], tickformat=".0%")
    return fig


def _vline(
    fig: go.Figure, ts: dt.datetime, label: str, colour: str, dash: str, y: float, left: bool = False
) -> None:
    """A vertical line at ``ts`` with its label beside it (on its left near the right edge)."""
    fig.add_shape(
        type="line",
        x0=ts,
        x1=ts,
        y0=0,
        y1=1,
        xref="x",
        yref="paper",
        line={"color": colour, "width": 2, "dash": dash},
    )
    fig.add_annotation(
        x=ts,
        y=y,
        xref="x",
        yref="paper",
        text=label,
        showarrow=False,
        xanchor="right" if left else "left",
        font={"size": 12, "color": colour},
        bgcolor="rgba(255,255,255,0.8)",
    )


def migration_sankey(analysis: InterestAnalysis, *, max_links: int = 30) -> go.Figure:
    """Category -> category migrations of the whole platform as a Sankey (largest flows)."""
    flows = (
        analysis.matrix.filter(pl.col("segment") == "all")
        .sort("flow", "from_category", "to_category", descending=[True, False, False])
        .head(max_links)
    )
    colours = palette([*analysis.top_categories(), OTHER])
    froms = sorted(set(flows["from_category"].to_list()))
    tos = sorted(set(flows["to_category"].to_list()))
    nodes = [*froms, *tos]
    index_from = {c: i for i, c in enumerate(froms)}
    index_to = {c: len(froms) + i for i, c in enumerate(tos)}
    link_colour = [
        _rgba(colours.get(c, _GREY), 0.45) for c in flows["from_category"].to_list()
    ]  # a link takes its source's colour
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": [f"{c} (from)" for c in froms] + [f"{c} (to)" for c in tos],
                "color": [colours.get(c, _GREY) for c in nodes],
                "pad": 12,
                "thickness": 16,
            },
            link={
                "source": [index_from[c] for c in flows["from_category"].to_list()],
                "target": [index_to[c] for c in flows["to_category"].to_list()],
                "value": flows["flow"].to_list(),
                "color": link_colour,
            },
        )
    )
    total = int(analysis.matrix.filter(pl.col("segment") == "all")["flow"].sum())
    title = (
        f"Where interest migrates: category → category ({total} migrations)"
        f"<br><sup>left: category losing interest, right: category gaining it; "
        f"{flows.height} largest flows</sup>"
    )
    return _layout(fig, title)


def _rgba(colour: str, alpha: float) -> str:
    if colour.startswith("#") and len(colour) == 7:
        r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return f"rgba({r},{g},{b},{alpha})"
    if colour.startswith("rgb("):
        return colour.replace("rgb(", "rgba(").replace(")", f",{alpha})")
    return colour


def transition_heatmap(analysis: InterestAnalysis, *, top: int = 12) -> go.Figure:
    """Share of each category's outgoing migrations going to each other category (rows sum to 100%)."""
    cats = [c for c in analysis.top_categories(top) if c != OTHER]
    flows, labels = matrix_array(analysis.matrix, cats)
    totals = flows.sum(axis=1, keepdims=True)
    share = np.divide(flows, totals, out=np.zeros_like(flows), where=totals > 0)
    text = [[f"{v:.0%}" if v > 0 else "" for v in row] for row in share]
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=[_short(c) for c in labels],
            y=[f"{_short(c)} (n={int(n)})" for c, n in zip(labels, totals[:, 0], strict=True)],
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=max(float(share.max()), 1e-9),
            colorbar={"title": {"text": "share of<br>outflow"}, "tickformat": ".0%"},
            hovertemplate="from %{y}<br>to %{x}<br>%{z:.1%}<extra></extra>",
        )
    )
    title = (
        "Transition heatmap: where each category's migrating interest goes"
        "<br><sup>row = category losing interest (n = migrations out), column = category gaining it</sup>"
    )
    _layout(fig, title)
    fig.update_xaxes(title_text="to category", tickangle=-35)
    fig.update_yaxes(title_text="from category", autorange="reversed")
    return fig


def popularity(analysis: InterestAnalysis, *, top: int = 8) -> go.Figure:
    """Platform-level share of interest per category over time (trailing-mean smoothed)."""
    cats = analysis.top_categories(top)
    colours = palette([*analysis.top_categories(), OTHER])
    stages = _thin(analysis.popularity.filter(pl.col("category").is_in(cats)).sort("window_start"))
    fig = go.Figure()
    for c in cats:
        part = stages.filter(pl.col("category") == c)
        now = part["stage"][-1] if part.height else ""
        fig.add_trace(
            go.Scatter(
                x=part["window_start"].to_list(),
                y=part["smoothed_share"].round(4).to_list(),
                name=f"{c} ({now} now)",
                mode="lines",
                line={"width": 2.5, "color": colours.get(c, _GREY)},
            )
        )
    title = (
        "Category popularity over time"
        f"<br><sup>share of all behaviour-weighted interest per {analysis.profile_config.window} window, "
        f"trailing mean of {analysis.facts['popularity_smooth']}; legend: stage of the latest window</sup>"
    )
    _layout(fig, title, legend={"title": {"text": "category"}})
    fig.update_xaxes(title_text="time")
    fig.update_yaxes(title_text="share of interest", tickformat=".0%", rangemode="tozero")
    return fig


def migrations_over_time(analysis: InterestAnalysis) -> go.Figure:
    """Detected migrations per window, abrupt and gradual, and the users' drift distribution."""
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.62, 0.38],
        subplot_titles=("migrations per window", "largest window-to-window drift per user"),
    )
    counts = (
        analysis.migrations.group_by(pl.col("ts").dt.truncate(_every(analysis)), "kind")
        .agg(n=pl.len())
        .sort("ts")
    )
    for kind, colour in (("abrupt", "#d62728"), ("gradual", "#1f77b4")):
        part = counts.filter(pl.col("kind") == kind)
        fig.add_trace(
            go.Bar(x=part["ts"].to_list(), y=part["n"].to_list(), name=kind, marker_color=colour), 1, 1
        )
    drift = analysis.drift["max_jsd"].drop_nulls().to_numpy()
    fig.add_trace(
        go.Histogram(x=drift, nbinsx=30, name="users", marker_color="#7f7f7f", showlegend=False), 1, 2
    )
    title = (
        f"Detected migrations over time ({analysis.migrations.height} in all) and user drift"
        "<br><sup>right: Jensen-Shannon divergence (bits) between consecutive active windows, "
        "maximum per user</sup>"
    )
    _layout(fig, title, barmode="stack", legend={"title": {"text": "kind"}})
    fig.update_xaxes(title_text="time", row=1, col=1)
    fig.update_yaxes(title_text="migrations", row=1, col=1)
    fig.update_xaxes(title_text="max JSD (bits)", row=1, col=2)
    fig.update_yaxes(title_text="users", row=1, col=2)
    return fig


def _every(analysis: InterestAnalysis) -> str:
    days = analysis.profile_config.window_days
    return f"{max(round(days * 24), 1)}h" if days < 1 else f"{round(days)}d"


def segment_profiles(analysis: InterestAnalysis, *, top: int = 12) -> go.Figure:
    """Mean interest of each segment's users over the main categories, and segment sizes over time."""
    seg = analysis.segmentation
    cats = [c for c in analysis.top_categories(top) if c in seg.categories]
    cols = [seg.categories.index(c) for c in cats]
    names = segment_names(seg)
    sizes = analysis.segment_table.sort("segment")["n_users"].to_list()
    z = seg.centroid_shares[:, cols]
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.58, 0.42],
        horizontal_spacing=0.2,
        subplot_titles=("share of interest by category", "segment of every user seen so far"),
    )
    labels = [f"{names[k]} (n={sizes[k]})" for k in range(seg.n_segments)]
    fig.add_trace(
        go.Heatmap(
            z=z,
            x=[_short(c, 18) for c in cats],
            y=[f"S{k}" for k in range(seg.n_segments)],
            text=[[f"{v:.0%}" if v >= 0.01 else "" for v in row] for row in z],
            texttemplate="%{text}",
            colorscale="YlGnBu",
            showscale=False,
            hovertemplate="segment %{y}<br>%{x}: %{z:.1%}<extra></extra>",
        ),
        1,
        1,
    )
    seg_colours = [*qualitative.Safe, *qualitative.Vivid]
    for k in range(seg.n_segments):
        part = _thin(analysis.segment_sizes.filter(pl.col("segment") == k).sort("window_start"))
        fig.add_trace(
            go.Scatter(
                x=part["window_start"].to_list(),
                y=part["share"].round(4).to_list(),
                name=labels[k],
                stackgroup="segments",
                mode="lines",
                line={"width": 0.5, "color": seg_colours[k % len(seg_colours)]},
            ),
            1,
            2,
        )
    title = (
        f"User segments ({seg.n_segments}, k-means on interest profiles; silhouette "
        f"{seg.silhouette:.2f})<br><sup>left: mean category shares of each segment's users; "
        "right: each user seen so far, by the segment nearest their current (carried-over) interest</sup>"
    )
    _layout(fig, title, legend={"title": {"text": "segment"}, "orientation": "h", "y": -0.18})
    fig.update_layout(height=HEIGHT + 60)
    fig.update_xaxes(tickangle=-35, row=1, col=1)
    fig.update_yaxes(title_text="segment", autorange="reversed", row=1, col=1)
    fig.update_xaxes(title_text="time", row=1, col=2)
    fig.update_yaxes(title_text="share of users", tickformat=".0%", range=[0, 1], row=1, col=2)
    return fig


def trend_forecasts(
    demand: pl.DataFrame,
    forecasts: pl.DataFrame,
    *,
    model: str,
    level: int,
    categories: Sequence[str],
    history: int = 60,
) -> go.Figure:
    """Recent history (``history`` periods) and the forecast with its prediction interval, one panel per
    category: on a long log the forecast would be a sliver at the right edge of the full history."""
    cats = list(categories)
    n = len(cats)
    rows = (n + 1) // 2
    fig = make_subplots(
        rows=rows, cols=2, subplot_titles=[_short(c, 40) for c in cats], vertical_spacing=0.16
    )
    lo, hi = f"lo_{level}", f"hi_{level}"
    for i, c in enumerate(cats):
        r, col = i // 2 + 1, i % 2 + 1
        past = demand.filter(pl.col("category") == c).sort("ds").tail(history)
        ahead = forecasts.filter(pl.col("category") == c, pl.col("model") == model).sort("ds")
        first = i == 0
        fig.add_trace(
            go.Scatter(
                x=past["ds"].to_list(),
                y=past["y"].to_list(),
                name="observed",
                mode="lines",
                line={"color": "#333333", "width": 1.5},
                showlegend=first,
                legendgroup="observed",
            ),
            r,
            col,
        )
        if ahead.height and lo in ahead.columns:
            xs = ahead["ds"].to_list()
            fig.add_trace(
                go.Scatter(
                    x=xs + xs[::-1],
                    y=ahead[hi].to_list() + ahead[lo].to_list()[::-1],
                    fill="toself",
                    mode="lines",
                    fillcolor="rgba(31,119,180,0.2)",
                    line={"width": 0},
                    name=f"{level}% interval",
                    showlegend=first,
                    legendgroup="interval",
                    hoverinfo="skip",
                ),
                r,
                col,
            )
        if ahead.height:
            fig.add_trace(
                go.Scatter(
                    x=ahead["ds"].to_list(),
                    y=ahead["mean"].to_list(),
                    name=f"forecast ({model})",
                    mode="lines",
                    line={"color": "#1f77b4", "width": 2.5},
                    showlegend=first,
                    legendgroup="forecast",
                ),
                r,
                col,
            )
    title = (
        f"Category demand forecasts: {model} with {level}% prediction intervals"
        f"<br><sup>last {history} periods of observed demand, then the forecast</sup>"
    )
    _layout(fig, title, legend={"orientation": "h", "y": -0.12})
    fig.update_layout(height=max(HEIGHT, 330 * rows))
    fig.update_yaxes(title_text="demand", rangemode="tozero")
    return fig
