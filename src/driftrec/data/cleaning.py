"""Cleaning steps on canonical event frames: duplicates, k-core, minimum sequence length.

Each step returns the cleaned frame and a ``CleaningStats`` record, so a pipeline can report
exactly how many rows each step removed (nothing disappears silently).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import polars as pl

__all__ = ["CleaningConfig", "CleaningStats", "clean", "drop_duplicates", "k_core", "min_sequence_length"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleaningConfig:
    """What ``clean`` does. ``user_k``/``item_k`` of 0 or 1 switch k-core off."""

    drop_duplicates: bool = True
    user_k: int = 0
    item_k: int = 0
    min_sequence_length: int = 0
    max_k_core_rounds: int = 100

    def __post_init__(self) -> None:
        for name in ("user_k", "item_k", "min_sequence_length"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.max_k_core_rounds < 1:
            raise ValueError(f"max_k_core_rounds must be >= 1, got {self.max_k_core_rounds}")


@dataclass(frozen=True)
class CleaningStats:
    step: str
    rows_before: int
    rows_after: int
    detail: str = ""

    @property
    def removed(self) -> int:
        return self.rows_before - self.rows_after


def drop_duplicates(events: pl.DataFrame) -> tuple[pl.DataFrame, CleaningStats]:
    """Remove exact repeats of (user, item, ts, event), keeping the first (file order preserved)."""
    out = events.unique(subset=["user_id", "item_id", "ts", "event"], keep="first", maintain_order=True)
    return out, CleaningStats("drop_duplicates", events.height, out.height)


def k_core(
    events: pl.DataFrame, user_k: int, item_k: int, max_rounds: int = 100
) -> tuple[pl.DataFrame, CleaningStats]:
    """Keep users with >= user_k and items with >= item_k events, iterated to a fixed point.

    One pass is not enough: dropping sparse items can push users under the threshold, and so on.
    Raises if ``max_rounds`` passes without convergence (never returns a half-filtered frame silently).
    """
    current = events
    for round_no in range(1, max_rounds + 1):
        before = current.height
        if user_k > 1:
            current = current.filter(pl.len().over("user_id") >= user_k)
        if item_k > 1:
            current = current.filter(pl.len().over("item_id") >= item_k)
        if current.height == before:
            detail = f"user_k={user_k}, item_k={item_k}, fixed point after {round_no} round(s)"
            return current, CleaningStats("k_core", events.height, current.height, detail)
    raise RuntimeError(f"k-core did not converge within {max_rounds} rounds")


def min_sequence_length(events: pl.DataFrame, n: int) -> tuple[pl.DataFrame, CleaningStats]:
    """Drop users with fewer than ``n`` events (leave-one-out needs at least 3)."""
    out = events.filter(pl.len().over("user_id") >= n) if n > 1 else events
    return out, CleaningStats("min_sequence_length", events.height, out.height, f"n={n}")


def clean(events: pl.DataFrame, config: CleaningConfig) -> tuple[pl.DataFrame, list[CleaningStats]]:
    """Run the configured steps in a fixed order: duplicates, k-core, minimum length."""
    stats: list[CleaningStats] = []
    if config.drop_duplicates:
        events, s = drop_duplicates(events)
        stats.append(s)
    if config.user_k > 1 or config.item_k > 1:
        events, s = k_core(events, config.user_k, config.item_k, config.max_k_core_rounds)
        stats.append(s)
    if config.min_sequence_length > 1:
        events, s = min_sequence_length(events, config.min_sequence_length)
        stats.append(s)
    for s in stats:
        log.info("%s removed %d of %d rows %s", s.step, s.removed, s.rows_before, s.detail)
    return events, stats
