"""Interest profiles: how much each user cares about each category, window by window.

Every event adds its behaviour weight (a purchase says more than a view) to the user's interest in the
item's category, cut at any depth of the category tree. Interest is summed in fixed windows, or, with a
half-life, carried over from window to window with exponential decay, so that old taste fades instead
of vanishing at a window edge.

Two shapes, one source: :func:`profile_frame` is the sparse long table (one Polars ``group_by`` over
the log; works on a ``LazyFrame`` too, so logs larger than memory stream through it), and
:class:`Profiles` is the dense ``(users, windows, categories)`` NumPy array that drift and change-point
detection work on, built for all users at once or chunk by chunk with :func:`iter_profiles`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

import numpy as np
import polars as pl

from driftrec.data.schema import CATEGORY_SEPARATOR, EVENT_TYPES, TIMESTAMP

logger = logging.getLogger(__name__)

#: Default behaviour weights: more intent, more weight (view < click < cart < purchase).
DEFAULT_WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {"view": 1.0, "click": 2.0, "favourite": 3.0, "cart": 4.0, "purchase": 6.0, "rating": 3.0, "review": 3.0}
)
_UNIT_US: Final[dict[str, int]] = {"h": 3_600_000_000, "d": 86_400_000_000, "w": 7 * 86_400_000_000}
_WINDOW_RE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$")
_MAX_WINDOW_DAYS: Final = 3650.0


def parse_window(window: str) -> int:
    """Length of a window such as ``"7d"``, ``"12h"`` or ``"2w"`` in microseconds."""
    match = _WINDOW_RE.match(window) if isinstance(window, str) else None
    if match is None:
        raise ValueError(f"window must look like '7d', '12h' or '2w' (a number and h/d/w), got {window!r}")
    return round(float(match.group(1)) * _UNIT_US[match.group(2)])


@dataclass(frozen=True)
class ProfileConfig:
    """How events become interest: category depth, behaviour weights, windows and decay.

    ``level`` is the depth in the category path (0 = top level, 1 = ``"Top > Sub"``; shorter paths are
    kept whole). ``window`` is the window length; windows start at ``origin`` (default: midnight UTC of
    the first event) so that all users share the same calendar. ``decay_half_life_days`` turns window
    sums into a decayed running interest. Events whose type has no weight are ignored.
    """

    level: int = 1
    window: str = "7d"
    decay_half_life_days: float | None = None
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    origin: dt.datetime | None = None

    def __post_init__(self) -> None:
        if isinstance(self.level, bool) or not isinstance(self.level, int) or not 0 <= self.level <= 20:
            raise ValueError(f"level must be an integer in [0, 20], got {self.level!r}")
        width = parse_window(self.window)
        if not 0 < width <= _MAX_WINDOW_DAYS * _UNIT_US["d"]:
            raise ValueError(f"window must be in (0, {_MAX_WINDOW_DAYS:g}] days, got {self.window!r}")
        half = self.decay_half_life_days
        if half is not None and not (
            isinstance(half, int | float) and not isinstance(half, bool) and 0 < half <= _MAX_WINDOW_DAYS
        ):
            raise ValueError(
                f"decay_half_life_days must be None or a number in (0, {_MAX_WINDOW_DAYS:g}], got {half!r}"
            )
        if not isinstance(self.weights, Mapping) or not self.weights:
            raise ValueError(
                f"weights must be a non-empty mapping of event type to weight, got {self.weights!r}"
            )
        for name, value in self.weights.items():
            if name not in EVENT_TYPES:
                raise ValueError(f"weights keys must be event types {EVENT_TYPES}, got {name!r}")
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < math.inf:
                raise ValueError(f"weights[{name!r}] must be a finite number >= 0, got {value!r}")
        if max(self.weights.values()) <= 0:
            raise ValueError("weights must give at least one event type a weight > 0")
        if self.origin is not None and (
            not isinstance(self.origin, dt.datetime) or self.origin.tzinfo is None
        ):
            raise ValueError(f"origin must be None or a timezone-aware datetime, got {self.origin!r}")

    @property
    def window_us(self) -> int:
        """Window length in microseconds."""
        return parse_window(self.window)

    @property
    def window_days(self) -> float:
        return self.window_us / _UNIT_US["d"]


def category_at_level(column: str, level: int) -> pl.Expr:
    """Expression cutting a category path ``"A > B > C"`` to its first ``level + 1`` parts."""
    return pl.col(column).str.split(CATEGORY_SEPARATOR).list.head(level + 1).list.join(CATEGORY_SEPARATOR)


def _lazy(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def resolve_origin(events: pl.DataFrame | pl.LazyFrame, config: ProfileConfig) -> dt.datetime:
    """Start of window 0: ``config.origin``, else midnight UTC of the first event."""
    if config.origin is not None:
        return config.origin.astimezone(dt.UTC)
    first = _lazy(events).select(pl.col("ts").min()).collect().item()
    if not isinstance(first, dt.datetime):
        raise ValueError("events are empty: cannot place windows")
    first = first if first.tzinfo is not None else first.replace(tzinfo=dt.UTC)
    midnight: dt.datetime = first.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight


def profile_frame(
    events: pl.DataFrame | pl.LazyFrame,
    items: pl.DataFrame | pl.LazyFrame,
    config: ProfileConfig | None = None,
    *,
    engine: Literal["auto", "in-memory", "streaming"] = "auto",
) -> pl.DataFrame:
    """Window sums of behaviour weight per user and category, in one ``group_by`` (sparse, long).

    Columns: ``user_id, window`` (int, 0-based from the origin), ``window_start, category, weight``
    (sum of behaviour weights), ``n_events``, and with decay ``weight_at_end`` (each event's weight
    decayed to the end of its window, which :class:`Profiles` carries forward). Sorted by user, window.
    Events of items without a category, and event types without a weight, are dropped. Give a
    ``LazyFrame`` (``pl.scan_parquet``) and ``engine="streaming"`` for logs larger than memory.
    """
    cfg = config if config is not None else ProfileConfig()
    origin = resolve_origin(events, cfg)
    origin_us = int(origin.timestamp() * 1_000_000)
    width = cfg.window_us
    weights = {k: float(v) for k, v in cfg.weights.items() if v > 0}
    cats = _lazy(items).select("item_id", category_at_level("category", cfg.level).alias("category"))
    us = pl.col("ts").dt.epoch("us") - origin_us
    lazy = (
        _lazy(events)
        .select("user_id", "item_id", "ts", "event")
        .filter(pl.col("event").is_in(list(weights)))
        .join(cats, on="item_id", how="inner")
        .filter(pl.col("category").is_not_null(), pl.col("ts") >= origin)
        .with_columns(
            window=(us // width).cast(pl.Int32),
            weight=pl.col("event").replace_strict(weights, return_dtype=pl.Float64),
        )
    )
    aggs = [pl.col("weight").sum(), pl.len().alias("n_events")]
    if cfg.decay_half_life_days is not None:
        half_us = cfg.decay_half_life_days * _UNIT_US["d"]
        age = ((pl.col("window").cast(pl.Int64) + 1) * width - us).cast(pl.Float64)
        aggs.append(
            (pl.col("weight") * (-(age / half_us) * math.log(2.0)).exp()).sum().alias("weight_at_end")
        )
    out = (
        lazy.group_by("user_id", "window", "category")
        .agg(*aggs)
        .with_columns(
            window_start=(pl.lit(origin_us) + pl.col("window").cast(pl.Int64) * width)
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC")
            .cast(TIMESTAMP)
        )
        .sort("user_id", "window", "category")
        .collect(engine=engine)
    )
    order = ["user_id", "window", "window_start", "category", "weight", "n_events"]
    return out.select(*order, *[c for c in out.columns if c not in order])


@dataclass(frozen=True, eq=False)
class Profiles:
    """Dense interest of a block of users: ``values[u, w, c]`` is user ``u``'s interest in ``c`` at ``w``.

    Without decay a value is the window's weight sum; with decay it is the running interest at the
    window's end. ``n_events`` always counts the raw events of the window (the evidence behind it).
    """

    user_ids: pl.Series  # (U,) str
    categories: tuple[str, ...]  # (C,)
    window_starts: pl.Series  # (W,) datetime UTC
    values: np.ndarray  # (U, W, C) float64 >= 0
    n_events: np.ndarray  # (U, W) int64
    config: ProfileConfig

    @property
    def shape(self) -> tuple[int, int, int]:
        u, w, c = self.values.shape
        return int(u), int(w), int(c)

    def shares(self) -> np.ndarray:
        """Interest normalised to sum to one per user and window; all zero where a window is empty."""
        total = self.values.sum(axis=2, keepdims=True)
        out: np.ndarray = np.divide(self.values, total, out=np.zeros_like(self.values), where=total > 0)
        return out

    def active(self) -> np.ndarray:
        """(U, W) bool: windows in which the user did something (evidence, whatever the decay)."""
        out: np.ndarray = self.n_events > 0
        return out

    def to_frame(self, *, min_weight: float = 0.0) -> pl.DataFrame:
        """Long frame ``user_id, window, window_start, category, weight`` of cells above ``min_weight``."""
        u, w, c = np.nonzero(self.values > min_weight)
        return pl.DataFrame(
            {
                "user_id": self.user_ids.gather(u),
                "window": pl.Series(w, dtype=pl.Int32),
                "window_start": self.window_starts.gather(w),
                "category": pl.Series(self.categories, dtype=pl.String).gather(c),
                "weight": self.values[u, w, c],
            }
        )


def _decay(values: np.ndarray, at_end: np.ndarray, factor: float) -> np.ndarray:
    """Running interest ``P[w] = factor * P[w-1] + X[w]``: a loop over windows, vectorised over users."""
    out = np.empty_like(values)
    running = np.zeros((values.shape[0], values.shape[2]))
    for w in range(values.shape[1]):
        running = running * factor + at_end[:, w]
        out[:, w] = running
    return out


def iter_profiles(
    frame: pl.DataFrame,
    config: ProfileConfig | None = None,
    *,
    chunk_users: int = 8_192,
    categories: tuple[str, ...] | None = None,
    n_windows: int | None = None,
) -> Iterator[Profiles]:
    """Dense :class:`Profiles` for consecutive blocks of ``chunk_users`` users of a :func:`profile_frame`.

    All blocks share the category list and the window calendar, so memory stays at one block of
    ``chunk_users x windows x categories`` floats whatever the number of users.
    """
    cfg = config if config is not None else ProfileConfig()
    if chunk_users < 1:
        raise ValueError(f"chunk_users must be >= 1, got {chunk_users}")
    if frame.height == 0:
        return
    cats = categories if categories is not None else tuple(frame["category"].unique().sort().to_list())
    n_win = n_windows if n_windows is not None else int(frame["window"].max()) + 1  # type: ignore[arg-type]
    origin_us = (
        int(frame["window_start"][0].timestamp() * 1_000_000) - int(frame["window"][0]) * cfg.window_us
    )
    starts = (
        pl.Series(origin_us + np.arange(n_win, dtype=np.int64) * cfg.window_us, dtype=pl.Int64)
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .cast(TIMESTAMP)
    )
    keyed = frame.sort("user_id", "window", maintain_order=True).with_columns(
        user=pl.col("user_id").rle_id(), cat=pl.col("category").cast(pl.Enum(cats)).to_physical()
    )
    users = keyed["user"].to_numpy()
    firsts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    bounds = np.r_[firsts[::chunk_users], users.shape[0]]
    decay = cfg.decay_half_life_days
    factor = 0.5 ** (cfg.window_days / decay) if decay is not None else 0.0
    for lo, hi in itertools.pairwise(bounds):
        part = keyed.slice(int(lo), int(hi - lo))
        local = part["user"].to_numpy() - users[lo]
        n_users = int(local[-1]) + 1
        win = part["window"].to_numpy().astype(np.int64)
        cell = (local * n_win + win) * len(cats) + part["cat"].to_numpy().astype(np.int64)
        size = n_users * n_win * len(cats)
        values = np.bincount(cell, part["weight"].to_numpy(), minlength=size).reshape(
            n_users, n_win, len(cats)
        )
        counts = np.bincount(local * n_win + win, part["n_events"].to_numpy(), minlength=n_users * n_win)
        if decay is not None:
            at_end = np.bincount(cell, part["weight_at_end"].to_numpy(), minlength=size)
            values = _decay(values, at_end.reshape(values.shape), factor)
        yield Profiles(
            user_ids=part["user_id"].gather(np.flatnonzero(np.r_[True, local[1:] != local[:-1]])),
            categories=cats,
            window_starts=starts,
            values=values,
            n_events=counts.reshape(n_users, n_win).astype(np.int64),
            config=cfg,
        )


def build_profiles(
    events: pl.DataFrame | pl.LazyFrame,
    items: pl.DataFrame | pl.LazyFrame,
    config: ProfileConfig | None = None,
) -> Profiles:
    """Dense profiles of every user (one block); use :func:`iter_profiles` when that does not fit."""
    cfg = config if config is not None else ProfileConfig()
    frame = profile_frame(events, items, cfg)
    if frame.height == 0:
        raise ValueError("no event has both a weighted event type and an item with a category")
    n_users = frame["user_id"].n_unique()
    (profiles,) = iter_profiles(frame, cfg, chunk_users=n_users)
    logger.info("built interest profiles %s (users, windows, categories)", profiles.shape)
    return profiles
