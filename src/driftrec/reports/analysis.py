"""Everything an interest report shows, computed once from a dataset: the numbers behind the figures.

The report works at any depth of the category tree and on any log, so two choices are made for the
reader: the window length defaults to about a hundred windows over the log's span (a 9-day log gets
2-hour windows, 22 years of ratings get quarters), and categories beyond the ``max_categories`` most
weighted are merged into one ``"(other)"`` category, so that a log with thousands of category ids stays
readable and the dense ``(users, windows, categories)`` array stays small.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
import polars as pl

from driftrec.data.dataset import Dataset
from driftrec.interests.drift import drift_summary
from driftrec.interests.evolution import (
    EvolutionConfig,
    curves_from_frame,
    find_bursts,
    popularity_stages,
    smoothed_shares,
    trajectory_summary,
)
from driftrec.interests.migration import DetectionConfig, detect_migrations, migration_matrix
from driftrec.interests.profiles import (
    ProfileConfig,
    Profiles,
    category_at_level,
    iter_profiles,
    profile_frame,
)
from driftrec.interests.segments import (
    Segmentation,
    SegmentConfig,
    describe_segments,
    segment_flows,
    segment_users,
    segments_over_time,
)
from driftrec.interests.text_topics import (
    TOPIC_COLUMN,
    TextTopicConfig,
    TextTopics,
    has_item_text,
    with_text_topics,
)

logger = logging.getLogger(__name__)

OTHER: Final = "(other)"
#: Window lengths the automatic choice picks from, shortest first.
NICE_WINDOWS: Final = ("1h", "3h", "6h", "12h", "1d", "2d", "7d", "14d", "30d", "91d", "182d", "365d")
_DAY_S = 86_400.0


@dataclass(frozen=True)
class ReportConfig:
    """What the report analyses and how much of it it shows.

    ``level`` is the category depth; ``category_column`` the item column holding categories (a list
    column such as MovieLens ``genres`` counts an event once in each of its categories). ``window``
    ``None`` picks the shortest of :data:`NICE_WINDOWS` giving at most ``target_windows`` windows.
    ``example_users`` users (or the ``users`` named) get their own interest-stream figure.
    ``text_topics`` derives the categories from item text instead (a catalogue without categories);
    ``category_column`` is then not read.
    """

    level: int = 0
    category_column: str = "category"
    window: str | None = None
    target_windows: int = 100
    max_categories: int = 40
    top_categories: int = 10
    n_segments: int = 5
    example_users: int = 3
    users: tuple[str, ...] = ()
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    evolution: EvolutionConfig = field(default_factory=EvolutionConfig)
    trends: bool = True
    png: bool = True
    plotly_js: str = "inline"  # or "cdn": a script tag instead of 4.8 MB of inline plotly.js
    text_topics: TextTopicConfig | None = None

    def __post_init__(self) -> None:
        if self.plotly_js not in ("inline", "cdn"):
            raise ValueError(f"plotly_js must be 'inline' or 'cdn', got {self.plotly_js!r}")
        for name in ("target_windows", "max_categories", "top_categories", "n_segments"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if isinstance(self.example_users, bool) or not isinstance(self.example_users, int):
            raise ValueError(f"example_users must be an integer >= 0, got {self.example_users!r}")
        if self.example_users < 0:
            raise ValueError(f"example_users must be an integer >= 0, got {self.example_users!r}")
        if self.window is not None:
            ProfileConfig(window=self.window)  # validates
        ProfileConfig(level=self.level)
        if not isinstance(self.users, tuple) or not all(isinstance(u, str) for u in self.users):
            raise ValueError(f"users must be a tuple of user ids, got {self.users!r}")
        if self.text_topics is not None and not isinstance(self.text_topics, TextTopicConfig):
            raise ValueError(f"text_topics must be None or a TextTopicConfig, got {self.text_topics!r}")


@dataclass(frozen=True, eq=False)
class InterestAnalysis:
    """The report's numbers: tables (Polars) and arrays, plus the facts shown in its header."""

    name: str
    config: ReportConfig
    profile_config: ProfileConfig
    profiles: Profiles
    trajectories: np.ndarray  # (U, W, C) smoothed shares
    migrations: pl.DataFrame
    matrix: pl.DataFrame
    drift: pl.DataFrame
    bursts: pl.DataFrame
    trajectory_table: pl.DataFrame
    curves: pl.DataFrame
    popularity: pl.DataFrame
    segmentation: Segmentation
    segment_table: pl.DataFrame
    segment_sizes: pl.DataFrame
    segment_flows: pl.DataFrame
    example_users: tuple[str, ...]
    facts: dict[str, Any]
    category_items: pl.DataFrame  # item_id, category: what the analysis read, before rare ones merged
    truth: pl.DataFrame | None = None
    trends: dict[str, Any] | None = None
    text_topics: TextTopics | None = None

    def top_categories(self, n: int | None = None) -> list[str]:
        """Categories by total weight, largest first (``(other)`` last whatever its weight)."""
        totals = self.curves.group_by("category").agg(pl.col("weight").sum()).sort("weight", descending=True)
        names = [c for c in totals["category"].to_list() if c != OTHER]
        keep = names[: n if n is not None else len(names)]
        return keep


def _popularity_config(evolution: EvolutionConfig, n_windows: int) -> EvolutionConfig:
    """Platform curves are smoothed over about a twelfth of the log: day-to-day swings hide the trend."""
    return replace(evolution, smooth=max(evolution.smooth, n_windows // 12), present_share=0.0)


def choose_window(first: dt.datetime, last: dt.datetime, target: int = 100) -> str:
    """Shortest window of :data:`NICE_WINDOWS` that cuts ``[first, last]`` into at most ``target`` windows."""
    span_s = max((last - first).total_seconds(), 1.0)
    for window in NICE_WINDOWS:
        if span_s / (ProfileConfig(window=window).window_days * _DAY_S) <= target:
            return window
    return NICE_WINDOWS[-1]


def report_items(items: pl.DataFrame, column: str, level: int) -> pl.DataFrame:
    """``item_id, category`` cut at ``level``; a list column gives one row per (item, category)."""
    if column not in items.columns:
        raise ValueError(f"items have no column {column!r} (columns: {items.columns})")
    frame = items.select("item_id", pl.col(column).alias("category"))
    if isinstance(frame.schema["category"], pl.List):
        frame = frame.explode("category")
    frame = frame.with_columns(pl.col("category").cast(pl.String))
    return frame.with_columns(category_at_level("category", level)).drop_nulls("category").unique()


def merge_rare(
    events: pl.DataFrame, items: pl.DataFrame, keep: int, weights: dict[str, float]
) -> tuple[pl.DataFrame, list[str]]:
    """Items with categories outside the ``keep`` most weighted renamed to :data:`OTHER`."""
    weight = pl.col("event").replace_strict(weights, default=0.0, return_dtype=pl.Float64)
    totals = (
        events.select("item_id", "event")
        .join(items, on="item_id", how="inner")
        .group_by("category")
        .agg(weight.sum().alias("w"))
        .sort("w", "category", descending=[True, False])
    )
    top = totals["category"].head(keep).to_list()
    if totals.height <= keep:
        return items, top
    merged = items.with_columns(
        pl.when(pl.col("category").is_in(top)).then(pl.col("category")).otherwise(pl.lit(OTHER))
    )
    return merged.unique(), top


def pick_users(
    migrations: pl.DataFrame, profiles: Profiles, count: int, named: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """Example users: those named, then those with the most well-supported migrations (two active
    windows or more on each side), then the most active (a long stream shows more), then the most
    migrations."""
    known = set(profiles.user_ids.to_list())
    missing = [u for u in named if u not in known]
    if missing:
        raise ValueError(f"users {missing} have no categorised events in this log")
    chosen = list(named)
    activity = pl.DataFrame({"user_id": profiles.user_ids, "active": profiles.active().sum(axis=1)})
    ranked = (
        activity.join(
            migrations.group_by("user_id").agg(
                n=pl.len(), supported=((pl.col("n_before") >= 2) & (pl.col("n_after") >= 2)).sum()
            ),
            on="user_id",
            how="left",
        )
        .with_columns(pl.col("n").fill_null(0), pl.col("supported").fill_null(0))
        .filter(pl.col("active") >= 3)
        .with_columns(moved=pl.col("n") > 0)
        .sort("supported", "moved", "active", "user_id", descending=[True, True, True, False])
    )
    for user in ranked["user_id"].to_list():
        if len(chosen) >= len(named) + count:
            break
        if user not in chosen:
            chosen.append(user)
    return tuple(chosen)


def _text_hint(dataset: Dataset) -> str:
    if has_item_text(dataset):
        return (
            "; its items have text: derive categories from it with ReportConfig(text_topics=...), "
            "on the command line --categories-from-text N"
        )
    return ""


def categorised(dataset: Dataset, cfg: ReportConfig) -> tuple[Dataset, str, TextTopics | None]:
    """The dataset with the category column the report reads, that column, and text topics if derived.

    Errors say what is missing: no items table or no such column, and whether item text could stand in.
    """
    if cfg.text_topics is not None:
        if not has_item_text(dataset):
            raise ValueError(
                f"dataset {dataset.name!r} has no item text to derive categories from: no title, "
                "category, brand or description in its items and no review text in its events"
            )
        labelled, topics = with_text_topics(dataset, cfg.text_topics)
        return labelled, TOPIC_COLUMN, topics
    if dataset.items is None:
        raise ValueError(
            f"dataset {dataset.name!r} has no items table: interests need item categories"
            f"{_text_hint(dataset)}"
        )
    if cfg.category_column not in dataset.items.columns:
        raise ValueError(
            f"items have no column {cfg.category_column!r} (columns: {dataset.items.columns})"
            f"{_text_hint(dataset)}"
        )
    return dataset, cfg.category_column, None


def analyse(
    dataset: Dataset,
    config: ReportConfig | None = None,
    *,
    truth: pl.DataFrame | None = None,
    trends: dict[str, Any] | None = None,
) -> InterestAnalysis:
    """Profiles, migrations, evolution and segments of ``dataset`` for the report."""
    cfg = config if config is not None else ReportConfig()
    dataset, column, topics = categorised(dataset, cfg)
    assert dataset.items is not None
    weights = dict(ProfileConfig().weights)
    category_items = report_items(dataset.items, column, cfg.level)
    items, _ = merge_rare(dataset.events, category_items, cfg.max_categories, weights)
    events = dataset.events.join(items.select("item_id").unique(), on="item_id", how="semi")
    if events.height == 0:
        raise ValueError(f"no event of {dataset.name!r} has an item with a category{_text_hint(dataset)}")
    first, last = events["ts"].min(), events["ts"].max()
    assert isinstance(first, dt.datetime) and isinstance(last, dt.datetime)
    window = cfg.window or choose_window(first, last, cfg.target_windows)
    pcfg = ProfileConfig(level=cfg.level, window=window)
    frame = profile_frame(events, items, pcfg)
    (profiles,) = iter_profiles(frame, pcfg, chunk_users=frame["user_id"].n_unique())
    logger.info("report profiles %s (users, windows, categories), window %s", profiles.shape, window)
    migrations = detect_migrations(profiles, cfg.detection)
    segmentation = segment_users(profiles, SegmentConfig(n_segments=cfg.n_segments))
    curves = curves_from_frame(frame)
    facts: dict[str, Any] = {
        "dataset": dataset.name,
        "events": events.height,
        "users": profiles.shape[0],
        "items": items["item_id"].n_unique(),
        "categories": len(profiles.categories),
        "category_level": cfg.level,
        "window": window,
        "windows": profiles.shape[1],
        "first_event": first.isoformat(timespec="minutes"),
        "last_event": last.isoformat(timespec="minutes"),
        "migrations": migrations.height,
        "abrupt": int((migrations["kind"] == "abrupt").sum()),
        "gradual": int((migrations["kind"] == "gradual").sum()),
        "users_with_migration": migrations["user_id"].n_unique(),
        "segment_silhouette": segmentation.silhouette,
        "category_source": f"text topics ({topics.source})" if topics is not None else column,
    }
    bursts = find_bursts(profiles, cfg.evolution)
    facts["bursts"] = bursts.height
    pop_cfg = _popularity_config(cfg.evolution, profiles.shape[1])
    facts["popularity_smooth"] = pop_cfg.smooth
    if truth is not None:
        truth = truth.with_columns(
            category_at_level("from_category", cfg.level), category_at_level("to_category", cfg.level)
        )
    return InterestAnalysis(
        name=dataset.name,
        config=cfg,
        profile_config=pcfg,
        profiles=profiles,
        trajectories=smoothed_shares(profiles, cfg.evolution),
        migrations=migrations,
        matrix=migration_matrix(migrations, segmentation.assignments),
        drift=drift_summary(profiles),
        bursts=bursts,
        trajectory_table=trajectory_summary(profiles, cfg.evolution),
        curves=curves,
        popularity=popularity_stages(curves, pop_cfg),
        segmentation=segmentation,
        segment_table=describe_segments(segmentation, migrations),
        segment_sizes=segments_over_time(segmentation, profiles, cfg.evolution),
        segment_flows=segment_flows(segmentation, profiles),
        example_users=pick_users(migrations, profiles, cfg.example_users, cfg.users),
        facts=facts,
        category_items=category_items,
        truth=truth,
        trends=trends,
        text_topics=topics,
    )
