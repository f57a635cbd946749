"""From a canonical dataset to encoded arrays and a time-respecting split, as one call."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import polars as pl

from driftrec.data.cleaning import CleaningConfig, CleaningStats, clean
from driftrec.data.dataset import Dataset
from driftrec.data.idmap import IdMap
from driftrec.data.interactions import InteractionLog, encode_events
from driftrec.data.splits import Split, leave_one_out, temporal_split

__all__ = ["Prepared", "SplitSpec", "prepare"]


@dataclass(frozen=True)
class SplitSpec:
    """How to turn events into a train/valid/test split.

    ``events``: which behaviour types count as interactions (None = all).
    ``first_interaction_only``: keep each user's first event per item, so a view -> cart -> purchase
    funnel on one item is one step of the sequence, not three (next-*item* prediction).
    For ``temporal`` without explicit times, T is the ``1 - test_fraction`` quantile of event times
    and the validation period has the same length just before it.
    """

    protocol: Literal["leave-one-out", "temporal"] = "leave-one-out"
    events: tuple[str, ...] | None = None
    first_interaction_only: bool = False
    min_length: int = 3
    test_start: datetime | None = None
    valid_start: datetime | None = None
    test_fraction: float = 0.1

    def __post_init__(self) -> None:
        if self.protocol not in ("leave-one-out", "temporal"):
            raise ValueError(f"protocol must be 'leave-one-out' or 'temporal', got {self.protocol!r}")
        if not 0.0 < self.test_fraction < 0.5:
            raise ValueError(f"test_fraction must lie in (0, 0.5), got {self.test_fraction}")
        if self.min_length < 3:
            raise ValueError(f"min_length must be >= 3, got {self.min_length}")

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Prepared:
    """Everything a model needs, with the id maps that translate back to the user's ids."""

    dataset: Dataset
    log: InteractionLog
    users: IdMap
    items: IdMap
    split: Split
    spec: SplitSpec
    cleaning: tuple[CleaningStats, ...] = ()


def _select_events(events: pl.DataFrame, spec: SplitSpec) -> pl.DataFrame:
    if spec.events is not None:
        events = events.filter(pl.col("event").is_in(list(spec.events)))
    if spec.first_interaction_only:
        events = events.sort(["user_id", "ts"], maintain_order=True).unique(
            subset=["user_id", "item_id"], keep="first", maintain_order=True
        )
    return events


def prepare(
    dataset: Dataset, spec: SplitSpec | None = None, cleaning: CleaningConfig | None = None
) -> Prepared:
    """Select events, clean, encode, split. Items of the catalogue with no events stay rankable."""
    spec = spec or SplitSpec()
    events = _select_events(dataset.events, spec)
    events, stats = clean(events, cleaning or CleaningConfig())
    if events.is_empty():
        raise ValueError(f"no events left in {dataset.name!r} after selection and cleaning")
    item_ids = events.get_column("item_id")
    if dataset.items is not None:
        item_ids = pl.concat([item_ids, dataset.items.get_column("item_id")])
    item_map = IdMap.build(item_ids)
    log, user_map, item_map = encode_events(events, items=item_map)
    split = _split(log, spec)
    return Prepared(dataset.with_events(events), log, user_map, item_map, split, spec, tuple(stats))


def _split(log: InteractionLog, spec: SplitSpec) -> Split:
    if spec.protocol == "leave-one-out":
        return leave_one_out(log, spec.min_length)
    if spec.test_start is not None:
        return temporal_split(log, spec.test_start, spec.valid_start)
    t_test = int(np.quantile(log.ts, 1.0 - spec.test_fraction))
    t_valid = int(np.quantile(log.ts, 1.0 - 2 * spec.test_fraction))
    return temporal_split(log, t_test, t_valid)
