"""Point-in-time behaviour features for scoring an impression (user, item, time).

Every statistic is what was known *strictly before* the impression: per group (user, item,
user x item, user x category) the events are sorted by time, cumulative sums are taken, and each
impression picks, by a Polars backward as-of join at ``ts - 1`` microsecond, the last cumulative row
before it. No Python loop runs over events or impressions, and an event at or after an impression's
time can never reach its features (``tests/features`` moves an event past the impression to check).

Inputs are *encoded* frames (integer ids), see :func:`event_frame`:

* events: ``user, item, ts`` (Int64, microseconds), ``event`` (Int8 code into ``EVENT_TYPES``),
  ``value`` (Float64, rating stars etc., null when absent), ``category`` (Int64, 0 = unknown), and
  optionally ``dwell`` (seconds on the page; used when present);
* queries (impressions): ``user, item, ts, category``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.interactions import InteractionLog
from driftrec.data.schema import EVENT_CODE
from driftrec.interests.profiles import DEFAULT_WEIGHTS

__all__ = [
    "BehaviourFeatureConfig",
    "behaviour_features",
    "event_frame",
    "query_frame",
]

_HOUR_US: Final = 3_600_000_000
#: Recency of something that never happened: larger than any real log-hours value.
MISSING_RECENCY: Final = math.log1p(24.0 * 365 * 20)


@dataclass(frozen=True)
class BehaviourFeatureConfig:
    """Which behaviours are counted and how category affinity weighs them.

    ``behaviours``: event names counted per user and per item; ``affinity_weights``: behaviour weights
    of the interest profiles (``driftrec.interests.profiles.DEFAULT_WEIGHTS``), so that the affinity a
    ranker sees is the same quantity the interest analytics report; ``smoothing``: pseudo-counts for
    the click-through and conversion rates.
    """

    behaviours: tuple[str, ...] = ("view", "click", "favourite", "cart", "purchase")
    affinity_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    smoothing: float = 2.0

    def __post_init__(self) -> None:
        unknown = [b for b in self.behaviours if b not in EVENT_CODE]
        if not self.behaviours or unknown:
            raise ValueError(f"behaviours must be non-empty names from {list(EVENT_CODE)}, got {unknown}")
        bad = [k for k in self.affinity_weights if k not in EVENT_CODE]
        if bad:
            raise ValueError(f"affinity_weights has unknown behaviour(s) {bad}")
        if not (isinstance(self.smoothing, int | float) and self.smoothing > 0):
            raise ValueError(f"smoothing must be a number > 0, got {self.smoothing!r}")


def event_frame(
    log: InteractionLog,
    item_category: NDArray[np.integer] | None = None,
    dwell: NDArray[np.floating] | None = None,
) -> pl.DataFrame:
    """The encoded events frame of ``log`` (``category`` from ``item_category[item]``, 0 if None)."""
    category = (
        np.zeros(len(log), dtype=np.int64)
        if item_category is None
        else np.asarray(item_category, dtype=np.int64)[log.item]
    )
    frame = pl.DataFrame(
        {
            "user": log.user,
            "item": log.item,
            "ts": log.ts,
            "event": log.event,
            "value": pl.Series(log.value.astype(np.float64), nan_to_null=True),
            "category": category,
        }
    )
    if dwell is not None:
        frame = frame.with_columns(pl.Series("dwell", np.asarray(dwell, dtype=np.float64), nan_to_null=True))
    return frame


def query_frame(
    user: NDArray[np.integer],
    item: NDArray[np.integer],
    ts: NDArray[np.integer],
    item_category: NDArray[np.integer] | None = None,
) -> pl.DataFrame:
    """Impressions to score, as the encoded frame :func:`behaviour_features` reads."""
    item = np.asarray(item, dtype=np.int64)
    category = np.zeros_like(item) if item_category is None else np.asarray(item_category, np.int64)[item]
    return pl.DataFrame(
        {
            "user": np.asarray(user, dtype=np.int64),
            "item": item,
            "ts": np.asarray(ts, dtype=np.int64),
            "category": category,
        }
    )


def _asof(
    queries: pl.DataFrame, events: pl.DataFrame, by: list[str], sums: dict[str, pl.Expr], prefix: str
) -> pl.DataFrame:
    """Per query row (``_row``): cumulative ``sums`` over events of its group strictly before its ts.

    Also ``<prefix>last_ts`` and ``<prefix>first_ts``: times of the group's last and first earlier event.
    Missing groups (no earlier event) give nulls; callers fill them.
    """
    names = list(sums)
    right = (
        events.select(*by, "ts", *[expr.alias(name) for name, expr in sums.items()])
        .sort([*by, "ts"])
        .with_columns(
            *[pl.col(n).cum_sum().over(by).alias(n) for n in names],
            pl.col("ts").min().over(by).alias(f"{prefix}first_ts"),
            pl.col("ts").alias(f"{prefix}last_ts"),
        )
        # several events at one time: the cumulative row after the last of them
        .group_by([*by, "ts"], maintain_order=True)
        .last()
        .rename({n: f"{prefix}{n}" for n in names})
        .sort("ts")
    )
    left = queries.select("_row", *by, (pl.col("ts") - 1).alias("ts")).sort("ts")
    joined = left.join_asof(right, on="ts", by=by, strategy="backward", check_sortedness=False)
    return joined.drop([*by, "ts"])


def _hours_since(ts: pl.Expr, at: pl.Expr) -> pl.Expr:
    return ((at - ts).cast(pl.Float64) / _HOUR_US).log1p().fill_null(MISSING_RECENCY)


def behaviour_features(
    events: pl.DataFrame,
    queries: pl.DataFrame,
    config: BehaviourFeatureConfig | None = None,
    item_price_level: NDArray[np.floating] | None = None,
) -> pl.DataFrame:
    """One row of Float32 features per query, in query order (see module docstring for the inputs).

    Counts are ``log1p``; recencies are ``log1p(hours)`` (``MISSING_RECENCY`` when nothing happened
    before); rates are smoothed. ``item_price_level`` (static, (n_items + 1,)) is appended as
    ``i_price_level`` (see :func:`driftrec.features.item_stats.item_attributes`).
    """
    cfg = config or BehaviourFeatureConfig()
    q = queries.with_row_index("_row")
    has_dwell = "dwell" in events.columns
    ev = events.with_columns(
        pl.lit(1.0).alias("n"),
        pl.col("value").is_not_null().cast(pl.Float64).alias("_has_value"),
        pl.col("value").fill_null(0.0).alias("_value"),
    )
    counts = {f"n_{b}": (pl.col("event") == EVENT_CODE[b]).cast(pl.Float64) for b in cfg.behaviours}
    rating = (pl.col("event") == EVENT_CODE["rating"]) & pl.col("value").is_not_null()
    side: dict[str, pl.Expr] = {
        "n": pl.col("n"),
        **counts,
        "rating_n": rating.cast(pl.Float64),
        "rating_sum": pl.when(rating).then(pl.col("_value")).otherwise(0.0),
    }
    if has_dwell:
        side["dwell_n"] = pl.col("dwell").is_not_null().cast(pl.Float64)
        side["dwell_sum"] = pl.col("dwell").fill_null(0.0)
    weights = {EVENT_CODE[k]: float(v) for k, v in cfg.affinity_weights.items()}
    weight = pl.col("event").cast(pl.Int64).replace_strict(weights, default=0.0, return_dtype=pl.Float64)

    user = _asof(q, ev, ["user"], {**side, "w": weight}, "u_")
    item = _asof(q, ev, ["item"], side, "i_")
    pair = _asof(q, ev, ["user", "item"], {"n": pl.col("n")}, "ui_")
    cat = _asof(q, ev, ["user", "category"], {"n": pl.col("n"), "w": weight}, "uc_")
    frame = (
        q.select("_row", "ts")
        .join(user, on="_row", how="left")
        .join(item, on="_row", how="left")
        .join(pair, on="_row", how="left")
        .join(cat, on="_row", how="left")
        .sort("_row")
    )
    s = float(cfg.smoothing)
    out: list[pl.Expr] = []
    for p in ("u_", "i_"):
        n = pl.col(f"{p}n").fill_null(0.0)
        out.append(n.log1p().alias(f"{p}events"))
        for b in cfg.behaviours:
            out.append(pl.col(f"{p}n_{b}").fill_null(0.0).log1p().alias(f"{p}{b}s"))
        views = pl.col(f"{p}n_view").fill_null(0.0) if "view" in cfg.behaviours else n
        if "click" in cfg.behaviours:
            clicks = pl.col(f"{p}n_click").fill_null(0.0)
            out.append(((clicks + 0.1 * s) / (views + s)).alias(f"{p}click_rate"))
        if "purchase" in cfg.behaviours:
            buys = pl.col(f"{p}n_purchase").fill_null(0.0)
            out.append(((buys + 0.02 * s) / (views + s)).alias(f"{p}buy_rate"))
        rated = pl.col(f"{p}rating_n").fill_null(0.0)
        mean = pl.col(f"{p}rating_sum").fill_null(0.0) / rated
        out.append(pl.when(rated > 0).then(mean).otherwise(0.0).alias(f"{p}rating_mean"))
        out.append(rated.log1p().alias(f"{p}ratings"))
        if has_dwell:
            dn = pl.col(f"{p}dwell_n").fill_null(0.0)
            dwell = pl.col(f"{p}dwell_sum").fill_null(0.0) / dn
            out.append(pl.when(dn > 0).then(dwell.log1p()).otherwise(0.0).alias(f"{p}dwell_mean"))
        out.append(_hours_since(pl.col(f"{p}last_ts"), pl.col("ts")).alias(f"{p}recency"))
        out.append(_hours_since(pl.col(f"{p}first_ts"), pl.col("ts")).alias(f"{p}age"))
    out.append(pl.col("ui_n").fill_null(0.0).log1p().alias("ui_events"))
    out.append(_hours_since(pl.col("ui_last_ts"), pl.col("ts")).alias("ui_recency"))
    out.append(pl.col("uc_n").fill_null(0.0).log1p().alias("uc_events"))
    u_w = pl.col("u_w").fill_null(0.0)
    c_w = pl.col("uc_w").fill_null(0.0)
    out.append(pl.when(u_w > 0).then(c_w / u_w).otherwise(0.0).alias("uc_affinity"))
    out.append(_hours_since(pl.col("uc_last_ts"), pl.col("ts")).alias("uc_recency"))
    result = frame.select(out)
    if item_price_level is not None:
        levels = np.asarray(item_price_level, dtype=np.float64)[queries.get_column("item").to_numpy()]
        result = result.with_columns(pl.Series("i_price_level", levels))
    return result.cast(pl.Float32)
