"""Summary statistics of a dataset, for ``driftrec data stats`` and reports."""

from __future__ import annotations

from typing import Any

import polars as pl

from driftrec.data.dataset import Dataset

__all__ = ["dataset_stats"]


def dataset_stats(dataset: Dataset) -> dict[str, Any]:
    """Counts, density, sequence lengths, time range and event-type mix in one pass of Polars."""
    ev = dataset.events
    n_users = ev.get_column("user_id").n_unique()
    n_items = ev.get_column("item_id").n_unique()
    per_user = ev.group_by("user_id").len().get_column("len")
    stats: dict[str, Any] = {
        "events": ev.height,
        "users": n_users,
        "items_with_events": n_items,
        "catalogue_items": dataset.items.height if dataset.items is not None else n_items,
        "density": round(ev.height / max(n_users * n_items, 1), 8),
        "events_per_user_median": float(per_user.cast(pl.Float64).median() or 0.0),  # type: ignore[arg-type]
        "events_per_user_max": int(per_user.max() or 0),  # type: ignore[arg-type]
        "first_event": str(ev.get_column("ts").min()),
        "last_event": str(ev.get_column("ts").max()),
        "time_resolution": dataset.meta.get("time_resolution", "unknown"),
    }
    for event, count in ev.group_by("event").len().sort("len", descending=True).iter_rows():
        stats[f"event:{event}"] = int(count)
    return stats
