"""A user's interest profile, timeline and recent migrations, computed from their live history.

Uses the analytics of ``driftrec.interests`` on one user's events, so the API shows exactly what the
offline analysis would find for that user.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from driftrec.interests import (
    DEFAULT_WEIGHTS,
    ProfileConfig,
    category_at_level,
    find_migrations,
    profile_frame,
)

__all__ = ["UserInterests", "user_interests"]


@dataclass(frozen=True)
class UserInterests:
    n_events: int
    profile: list[tuple[str, float]]  # (category, share), largest first
    timeline: list[dict[str, Any]]  # window_start, category, weight
    migrations: list[dict[str, Any]]


def user_interests(
    events: pl.DataFrame, items: pl.DataFrame, level: int, window: str, half_life_days: float, recent: int
) -> UserInterests:
    """``events``: one user's ``user_id, item_id, ts, event``; ``items``: ``item_id, category``."""
    if events.height == 0:
        return UserInterests(0, [], [], [])
    config = ProfileConfig(level=level, window=window)
    weights = {k: float(v) for k, v in DEFAULT_WEIGHTS.items()}
    last = events.get_column("ts").max()
    half_us = half_life_days * 86_400_000_000
    scored = (
        events.join(
            items.select("item_id", category_at_level("category", level).alias("category")), on="item_id"
        )
        .filter(pl.col("category").is_not_null(), pl.col("event").is_in(list(weights)))
        .with_columns(
            w=pl.col("event").replace_strict(weights, return_dtype=pl.Float64)
            * (
                -((pl.lit(last) - pl.col("ts")).dt.total_microseconds().cast(pl.Float64) / half_us)
                * math.log(2.0)
            ).exp()
        )
        .group_by("category")
        .agg(pl.col("w").sum())
        .sort("w", "category", descending=[True, False])
    )
    total = float(scored.get_column("w").sum()) if scored.height else 0.0
    profile = [(c, round(w / total, 4)) for c, w in scored.iter_rows()] if total > 0 else []
    frame = profile_frame(events, items, config)
    timeline = [
        {"window_start": row["window_start"], "category": row["category"], "weight": float(row["weight"])}
        for row in frame.select("window_start", "category", "weight").iter_rows(named=True)
    ]
    migrations: list[dict[str, Any]] = []
    if frame.height:
        found = find_migrations(events, items, config)
        migrations = found.sort("ts").tail(recent).to_dicts()
    return UserInterests(events.height, profile, timeline, migrations)
