"""Migration events: when a user's interest moved from one category to another, and how.

Per user, the window x category profile is segmented by change-point detection (``ruptures`` Binseg or
Pelt) with a multinomial cost: a segment is explained by one category distribution, and a change point
is worth its penalty when splitting the history into two distributions explains the events better.

Choices that matter, and why:

- Only *active* windows enter the signal, each with mass ``(weighted events) ** mass_exponent``.
  Events come in sessions (a shopper views six items of one category in ten minutes); counting them as
  independent draws (exponent 1) makes every session look like a change, while one observation per
  window (exponent 0) throws away that a busy day says more than a single view. The square root
  between the two separates planted migrations from wobble best on the synthetic shop's tuning seeds.
- A change point becomes a *migration* only if a category gains at least ``min_share`` of the interest
  (``to_category``; the one that loses most is ``from_category``) and held at most ``max_overlap``
  before: interest moved somewhere new. This separates "moved from A to B" from the ordinary wobble
  between a user's several standing interests.
- The segmentation puts a boundary where the whole distribution changes most, and in a sparse log
  days holding only standing interests can sit on either side of it. With ``refine_timing`` a
  one-step change is judged and dated at the split that brackets the move best: after the last window
  holding the from-category and before the first holding the to-category, ``ts`` in the middle of that
  gap, not in the middle of whatever gap the boundary fell into.
- Ratings and reviews are written days after the purchase; at their own time they speak for an
  interest the user may have left. :func:`find_migrations` dates them at the purchase of the same item
  (``feedback_at_purchase``; feedback without a purchase in the log keeps its time).
- Two options were tried and are off by default because they cost more than they gave on the tuning
  seed: ``burst_max_days`` drops an excursion that reverts within that many days (``A -> B`` then
  ``B -> A``, or a to-category that stops showing although the user stays active: a burst, not a new
  taste; in a sparse log many real moves look like that too), and ``max_targets > 1`` reports every
  new category that rose at one change point.
- Consecutive change points moving interest the same way are one migration seen as a staircase
  (``ts`` its first step, ``end_ts`` its last). ``kind`` is ``"gradual"`` when the staircase, the time
  in which both categories keep alternating as the stronger one, or the span of windows where both
  hold a quarter of the interest (a handover), reaches ``gradual_min_days``;
  otherwise ``"abrupt"``.
- For millions of users a vectorised pre-filter computes, for all users of a block at once, the gain of
  the best single split; Binseg's first step is exactly that test, so users below the penalty are skipped
  without changing Binseg's answer (for Pelt the filter is a close, not exact, shortcut).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import polars as pl
import ruptures as rpt
from ruptures.base import BaseCost
from ruptures.costs import NotEnoughPoints

from driftrec.data.schema import TIMESTAMP
from driftrec.interests.drift import js_divergence
from driftrec.interests.profiles import ProfileConfig, Profiles, iter_profiles, profile_frame

logger = logging.getLogger(__name__)

METHODS = ("binseg", "pelt")
PENALTY_SCALES = ("log_n", "constant")
_DAY_US = 86_400_000_000
_FEEDBACK = ("rating", "review")  # written after the purchase; see feedback_at_purchase
_MIXED_SHARE = 0.25  # a window where both categories hold this much is part of a handover
MIGRATION_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "ts": TIMESTAMP,
    "end_ts": TIMESTAMP,
    "from_category": pl.String(),
    "to_category": pl.String(),
    "magnitude": pl.Float64(),
    "jsd": pl.Float64(),
    "kind": pl.String(),
    "n_before": pl.Int64(),
    "n_after": pl.Int64(),
}


def _number(name: str, value: object, low: float, high: float, *, low_open: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = (v > low if low_open else v >= low) and v <= high
    if not ok:
        raise ValueError(
            f"{name} must be a number in {'(' if low_open else '['}{low:g}, {high:g}], got {value!r}"
        )


@dataclass(frozen=True)
class DetectionConfig:
    """Change-point search and the rules that turn change points into migrations.

    Defaults were tuned on synthetic-shop seed 100 (see ``benchmarks/migration.py``), never on the seeds
    that are reported. ``penalty`` is in nats of the multinomial likelihood of the windows (each of mass
    ``(weighted events) ** mass_exponent``), times ``ln(active windows)`` with ``penalty_scale="log_n"``
    (a BIC-like penalty: long histories offer more split positions for chance to exploit); ``min_size``
    counts active windows per segment. ``refine_timing``, ``feedback_at_purchase``, ``burst_max_days``
    and ``max_targets`` are described in the module docstring.
    """

    def penalty_for(self, n_active: np.ndarray) -> np.ndarray:
        """Penalty per user for ``n_active`` active windows."""
        n = np.asarray(n_active, dtype=np.float64)
        if self.penalty_scale == "constant":
            return np.full(n.shape, self.penalty)
        out: np.ndarray = self.penalty * np.log(np.maximum(n, 2.0))
        return out

    method: Literal["binseg", "pelt"] = "binseg"
    penalty: float = 3.5
    penalty_scale: Literal["log_n", "constant"] = "log_n"
    mass_exponent: float = 0.5
    min_size: int = 1
    min_share: float = 0.2
    max_overlap: float = 0.1
    gradual_min_days: float = 7.0
    prefilter: bool = True
    refine_timing: bool = True
    burst_max_days: float = 0.0
    max_targets: int = 1
    feedback_at_purchase: bool = True

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        _number("penalty", self.penalty, 0.0, 1e6, low_open=True)
        if self.penalty_scale not in PENALTY_SCALES:
            raise ValueError(f"penalty_scale must be one of {PENALTY_SCALES}, got {self.penalty_scale!r}")
        if (
            isinstance(self.min_size, bool)
            or not isinstance(self.min_size, int)
            or not 1 <= self.min_size <= 1000
        ):
            raise ValueError(f"min_size must be an integer in [1, 1000], got {self.min_size!r}")
        _number("mass_exponent", self.mass_exponent, 0.0, 1.0)
        _number("min_share", self.min_share, 0.0, 1.0)
        _number("max_overlap", self.max_overlap, 0.0, 1.0)
        _number("gradual_min_days", self.gradual_min_days, 0.0, 3650.0)
        _number("burst_max_days", self.burst_max_days, 0.0, 3650.0)
        if (
            isinstance(self.max_targets, bool)
            or not isinstance(self.max_targets, int)
            or self.max_targets < 1
        ):
            raise ValueError(f"max_targets must be an integer >= 1, got {self.max_targets!r}")
        for name in ("prefilter", "refine_timing", "feedback_at_purchase"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")


class MultinomialCost(BaseCost):  # type: ignore[misc]
    """Negative log-likelihood of a segment's category counts under its own multinomial (ruptures cost).

    ``error(a, b) = N log N - sum_c n_c log n_c`` with ``n`` the summed rows ``a..b-1`` and ``N = sum n``.
    For signals up to ``table_rows`` rows every segment's cost is computed at ``fit`` in one NumPy pass,
    so ruptures' many ``error`` calls are table look-ups; longer signals use cumulative sums per call.
    """

    model = "multinomial"
    min_size = 1

    def __init__(self, table_rows: int = 256) -> None:
        self.signal: np.ndarray | None = None
        self.table_rows = table_rows
        self._cum = np.zeros((1, 1))
        self._table: list[list[float]] | None = None

    def fit(self, signal: np.ndarray) -> MultinomialCost:
        data = signal.reshape(-1, 1) if signal.ndim == 1 else signal
        self.signal = data
        self._cum = np.vstack([np.zeros((1, data.shape[1])), np.cumsum(data, axis=0)])
        self._table = None
        if data.shape[0] <= self.table_rows:
            counts = np.maximum(self._cum[None, :, :] - self._cum[:, None, :], 0.0)  # [start, end, c]
            self._table = _nll(counts).tolist()
        return self

    def error(self, start: int, end: int) -> float:
        if end - start < self.min_size:
            raise NotEnoughPoints
        if self._table is not None:
            return float(self._table[start][end])
        counts = self._cum[end] - self._cum[start]
        total = float(counts.sum())
        if total <= 0.0:
            return 0.0
        positive = counts[counts > 1e-12]
        return total * math.log(total) - float((positive * np.log(positive)).sum())


def _nll(counts: np.ndarray) -> np.ndarray:
    """Multinomial NLL of count vectors along the last axis (vectorised twin of ``MultinomialCost``)."""
    total = counts.sum(axis=-1)
    xlogx = np.where(counts > 0, counts * np.log(np.where(counts > 0, counts, 1.0)), 0.0).sum(axis=-1)
    out: np.ndarray = np.where(total > 0, total * np.log(np.where(total > 0, total, 1.0)), 0.0) - xlogx
    return out


def best_split_gain(unit: np.ndarray, active: np.ndarray, min_size: int) -> np.ndarray:
    """(U,) largest cost drop of one split, each side holding >= ``min_size`` active windows.

    ``unit`` is (U, W, C), the windows' category masses (any non-negative rows). Loops over the W split
    positions, vectorised over users, so memory stays at a few (U, C) arrays besides the input.
    """
    n_users, n_windows, _ = unit.shape
    total = unit.sum(axis=1)
    whole = _nll(total)
    n_active = active.sum(axis=1)
    left = np.zeros_like(total)
    left_n = np.zeros(n_users, dtype=np.int64)
    best = np.full(n_users, -np.inf)
    for w in range(1, n_windows):
        left += unit[:, w - 1]
        left_n += active[:, w - 1]
        ok = (left_n >= min_size) & (n_active - left_n >= min_size) & active[:, w]
        if ok.any():
            gain = whole[ok] - _nll(left[ok]) - _nll(total[ok] - left[ok])
            best[ok] = np.maximum(best[ok], gain)
    return best


def _change_points(signal: np.ndarray, config: DetectionConfig, penalty: float) -> list[int]:
    """Indices (into the rows of ``signal``) where a new segment starts, by ruptures."""
    if signal.shape[0] < 2 * config.min_size:
        return []
    estimator = rpt.Binseg if config.method == "binseg" else rpt.Pelt
    algo = estimator(custom_cost=MultinomialCost(), min_size=config.min_size, jump=1)
    bkps: list[int] = algo.fit(signal).predict(pen=penalty)
    return [int(b) for b in bkps[:-1]]


class _Change(NamedTuple):
    window: float  # position of ts in windows from the first (fractional: the middle of a gap)
    end_window: float  # position of end_ts (== window for a single step)
    frm: int  # column of the signal
    to: int
    magnitude: float
    before: np.ndarray  # shares before, over the signal's columns
    after: np.ndarray
    kind: str
    n_before: int
    n_after: int


def _boundary(windows: np.ndarray, t: int) -> float:
    """Position (in windows) of the middle of the gap between active rows ``t - 1`` and ``t``.

    The gap runs from the end of window ``windows[t - 1]`` to the start of ``windows[t]``; for
    consecutive windows that is the start of ``windows[t]``.
    """
    return (int(windows[t - 1]) + 1 + int(windows[t])) / 2


def _refined_row(rows: np.ndarray, frm: int, to: int) -> tuple[int, int]:
    """Rows ``(last, first)`` that bracket the move from ``frm`` to ``to`` best.

    The split maximises the from-mass before it plus the to-mass after it (the cumulative sum of
    ``from - to``), so the change sits after the old interest was last seen and before the new one
    first shows, not wherever rows holding only standing interests put the segmentation's boundary.
    ``last`` is the row before the split; ``first`` the first row at or after it that holds either
    category (the rows between hold neither, so the move happened somewhere in that gap).
    """
    lead = np.cumsum(rows[:-1, frm] - rows[:-1, to])
    split = int(lead.argmax()) + 1
    decisive = np.flatnonzero((rows[split:, frm] > 0) | (rows[split:, to] > 0))
    first = split + int(decisive[0]) if decisive.size else split
    return split - 1, first


def _shares(signal: np.ndarray, a: int, t0: int, t1: int, b: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Shares of rows ``a..t0-1`` and ``t1..b-1`` (a staircase in between left out), the categories that
    gain most (to) and lose most (from)."""
    before, after = signal[a:t0].sum(axis=0), signal[t1:b].sum(axis=0)
    p, q = before / before.sum(), after / after.sum()
    delta = q - p
    return p, q, int(delta.argmax()), int(delta.argmin())


def _runs(signal: np.ndarray, bounds: list[int]) -> list[list[int]]:
    """Group consecutive change points (indices into ``bounds``) that move interest the same way."""
    runs: list[list[int]] = []
    last: tuple[int, int] | None = None
    for i in range(1, len(bounds) - 1):
        _, _, to, frm = _shares(signal, bounds[i - 1], bounds[i], bounds[i], bounds[i + 1])
        if runs and last == (to, frm):
            runs[-1].append(i)
        else:
            runs.append([i])
        last = (to, frm)
    return runs


def _drop_bursts(changes: list[_Change], burst_max_days: float, window_days: float) -> list[_Change]:
    """Leave out excursions: a move to a category and back within ``burst_max_days`` is a burst.

    ``A -> B`` followed by ``B -> A`` (same categories, reversed) that soon is not a change of taste;
    both steps go. Every other change is kept.
    """
    if burst_max_days <= 0 or len(changes) < 2:
        return changes
    drop: set[int] = set()
    for i in range(len(changes) - 1):
        out, back = changes[i], changes[i + 1]
        reverts = (out.frm, out.to) == (back.to, back.frm)
        if reverts and (back.window - out.end_window) * window_days <= burst_max_days and i not in drop:
            drop.update((i, i + 1))
    return [c for i, c in enumerate(changes) if i not in drop]


def _targets(p: np.ndarray, q: np.ndarray, top: int, config: DetectionConfig) -> list[int]:
    """Columns that interest moved to: new enough before (``<= max_overlap``), gaining ``>= min_share``.

    With ``max_targets == 1`` only the largest gainer may qualify. More targets cover a change point
    where two new interests rise together (a new hobby while another one ramps up).
    """
    gain = q - p
    if config.max_targets == 1:
        ok = gain[top] >= config.min_share and p[top] <= config.max_overlap
        return [top] if ok else []
    new = np.flatnonzero((gain >= config.min_share) & (p <= config.max_overlap))
    return [int(c) for c in new[np.argsort(-gain[new], kind="stable")][: config.max_targets]]


def _normalised(rows: np.ndarray) -> np.ndarray:
    total = rows.sum(axis=0)
    out: np.ndarray = total / total.sum()
    return out


def _refined_targets(
    rows: np.ndarray, p: np.ndarray, q: np.ndarray, frm: int, config: DetectionConfig
) -> list[tuple[int, int, int, np.ndarray, np.ndarray]]:
    """Targets of a one-step change judged at their own split: ``(to, last, first, before, after)``.

    The segmentation puts its boundary where the whole distribution changes most; rows holding only
    standing interests can sit on the wrong side of it, so that the new category seems to have been
    there before. Each of the ``max_targets`` largest gainers is moved to the split that brackets
    ``frm -> to`` best (:func:`_refined_row`) and kept if it is new before that split
    (``<= max_overlap``) and gains ``min_share`` across it; ``before``/``after`` leave the rows in
    the gap between out.
    """
    gain = q - p
    order = np.argsort(-gain, kind="stable")[: config.max_targets]
    out = []
    for to in (int(c) for c in order if gain[c] > 0 and c != frm):
        last, first = _refined_row(rows, frm, to)
        before, after = _normalised(rows[: last + 1]), _normalised(rows[first:])
        if after[to] - before[to] >= config.min_share and before[to] <= config.max_overlap:
            out.append((to, last, first, before, after))
    return out


def _reverts(rows: np.ndarray, wins: np.ndarray, split: int, to: int, span: float) -> bool:
    """A burst: ``to`` shows only within ``span`` windows of its first appearance after ``split``, and
    the user was active later without it."""
    after, after_wins = rows[split:, to], wins[split:]
    shown = np.flatnonzero(after > 0)
    if not shown.size:
        return False
    later = after_wins > after_wins[shown[0]] + span
    return bool(later.any()) and not bool((after[later] > 0).any())


def _change(
    signal: np.ndarray,
    windows: np.ndarray,
    bounds: tuple[int, int, int, int],
    frm: int,
    to: int,
    p: np.ndarray,
    q: np.ndarray,
    config: DetectionConfig,
    window_days: float,
) -> _Change | None:
    """One migration ``frm -> to`` around the change rows ``t0..t1`` (segments ``a..b``), or None for
    a burst."""
    a, t0, t1, b = bounds
    rows, wins = signal[a:b], windows[a:b]
    if config.burst_max_days > 0 and _reverts(rows, wins, t1 - a, to, config.burst_max_days / window_days):
        return None
    to_wins, from_wins = wins[rows[:, to] > rows[:, frm]], wins[rows[:, frm] > rows[:, to]]
    overlap = (from_wins[-1] - to_wins[0]) * window_days if to_wins.size and from_wins.size else 0.0
    shares = rows / rows.sum(axis=1, keepdims=True)
    mixed_wins = wins[(shares[:, to] >= _MIXED_SHARE) & (shares[:, frm] >= _MIXED_SHARE)]
    mixed = (mixed_wins[-1] - mixed_wins[0]) * window_days if mixed_wins.size else 0.0
    start, end = _boundary(windows, t0), _boundary(windows, t1)
    spread = max(float(overlap), float(mixed), (end - start) * window_days)
    kind = "gradual" if config.gradual_min_days > 0 and spread >= config.gradual_min_days else "abrupt"
    return _Change(start, end, frm, to, float(q[to] - p[to]), p, q, kind, t0 - a, b - t1)


def _describe(
    signal: np.ndarray, windows: np.ndarray, bkps: list[int], config: DetectionConfig, window_days: float
) -> list[_Change]:
    """Turn change points into migrations.

    Consecutive change points that move interest the same way (same from and to categories) are one
    migration seen as a staircase: it starts at the first step, ends at the last, and is judged on the
    segments outside the staircase. With ``refine_timing`` the start moves to the middle of the gap
    between the last window holding the from-category and the first holding the to-category.
    """
    bounds = [0, *bkps, signal.shape[0]]
    out = []
    for run in _runs(signal, bounds):
        a, t0, t1, b = bounds[run[0] - 1], bounds[run[0]], bounds[run[-1]], bounds[run[-1] + 1]
        p, q, top, frm = _shares(signal, a, t0, t1, b)
        if config.refine_timing and t0 == t1:
            rows, wins = signal[a:b], windows[a:b]
            for to, last, first, before, after in _refined_targets(rows, p, q, frm, config):
                change = _change(signal, windows, (a, t0, t1, b), frm, to, before, after, config, window_days)
                if change is not None:
                    mid = (int(wins[last]) + 1 + int(wins[first])) / 2
                    out.append(
                        change._replace(window=mid, end_window=mid, n_before=last + 1, n_after=b - a - first)
                    )
            continue
        for to in _targets(p, q, top, config):
            change = _change(signal, windows, (a, t0, t1, b), frm, to, p, q, config, window_days)
            if change is not None:
                out.append(change)
    return _drop_bursts(out, config.burst_max_days, window_days)


def detect_migrations(profiles: Profiles, config: DetectionConfig | None = None) -> pl.DataFrame:
    """Migrations of every user of one profile block, as a frame in :data:`MIGRATION_SCHEMA` order.

    ``ts`` is the middle of the gap between the last active window before the change and the first
    after it (with ``refine_timing``, for a single step: between the last window holding the
    from-category and the first holding the to-category); ``end_ts`` is the same for the last step of
    a staircase, equal to ``ts`` for a single step. ``magnitude`` is the share of interest the
    to-category gained, ``jsd`` the Jensen-Shannon divergence (bits) between before and after,
    ``n_before``/``n_after`` the active windows behind each side. Profiles must be undecayed window
    sums (decay smears changes).
    """
    cfg = config if config is not None else DetectionConfig()
    if profiles.config.decay_half_life_days is not None:
        raise ValueError("detect_migrations needs window sums: build profiles with decay_half_life_days=None")
    total = profiles.values.sum(axis=2, keepdims=True)
    active = total[:, :, 0] > 0
    unit = np.divide(profiles.values, total, out=np.zeros_like(profiles.values), where=total > 0)
    if cfg.mass_exponent > 0:
        unit *= np.where(total > 0, total, 1.0) ** cfg.mass_exponent
    n_active = active.sum(axis=1)
    penalties = cfg.penalty_for(n_active)
    candidates = n_active >= 2 * cfg.min_size
    if cfg.prefilter and candidates.any():
        idx = np.flatnonzero(candidates)
        gains = best_split_gain(unit[idx], active[idx], cfg.min_size)
        candidates[idx] = gains > penalties[idx] - 1e-9  # slack: float noise must not drop a tie
    origin_us = int(profiles.window_starts.dt.epoch("us")[0]) if profiles.window_starts.len() else 0
    window_us, window_days = profiles.config.window_us, profiles.config.window_days
    cols: dict[str, list[Any]] = {name: [] for name in MIGRATION_SCHEMA}
    touched = profiles.values.sum(axis=1) > 0  # (U, C) categories each user ever weighted
    befores: list[np.ndarray] = []
    afters: list[np.ndarray] = []
    for u in np.flatnonzero(candidates):
        windows = np.flatnonzero(active[u])
        used = np.flatnonzero(touched[u])
        signal = unit[u, windows][:, used]
        bkps = _change_points(signal, cfg, float(penalties[u]))
        for change in _describe(signal, windows, bkps, cfg, window_days):
            cols["user_id"].append(profiles.user_ids[int(u)])
            cols["ts"].append(origin_us + round(change.window * window_us))
            cols["end_ts"].append(origin_us + round(change.end_window * window_us))
            cols["from_category"].append(profiles.categories[used[change.frm]])
            cols["to_category"].append(profiles.categories[used[change.to]])
            cols["magnitude"].append(change.magnitude)
            befores.append(np.bincount(used, change.before, minlength=len(profiles.categories)))
            afters.append(np.bincount(used, change.after, minlength=len(profiles.categories)))
            cols["kind"].append(change.kind)
            cols["n_before"].append(change.n_before)
            cols["n_after"].append(change.n_after)
    logger.debug("change-point search on %d of %d users", int(candidates.sum()), candidates.shape[0])
    if befores:
        cols["jsd"] = js_divergence(np.stack(befores), np.stack(afters)).tolist()
    frame = pl.DataFrame(cols, schema={**MIGRATION_SCHEMA, "ts": pl.Int64(), "end_ts": pl.Int64()})
    as_time = [
        pl.col(c).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").cast(TIMESTAMP)
        for c in ("ts", "end_ts")
    ]
    return frame.with_columns(*as_time)


def feedback_at_purchase(events: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Ratings and reviews dated at the user's first purchase of the item, where there is one.

    Feedback is written hours to days after the purchase, so at its own time it speaks for an interest
    the user may already have left and drags a change point past the move. Feedback without a purchase
    of the item in the log (a ratings-only log) keeps its time.
    """
    lazy = events.lazy() if isinstance(events, pl.DataFrame) else events
    feedback = pl.col("event").is_in(_FEEDBACK)
    bought = (
        lazy.filter(pl.col("event") == "purchase")
        .group_by("user_id", "item_id")
        .agg(pl.col("ts").min().alias("_bought"))
    )
    moved = (
        lazy.filter(feedback)
        .join(bought, on=["user_id", "item_id"], how="left")
        .with_columns(
            ts=pl.when(pl.col("_bought") <= pl.col("ts")).then(pl.col("_bought")).otherwise(pl.col("ts"))
        )
        .drop("_bought")
    )
    return pl.concat([lazy.filter(~feedback), moved])


def find_migrations(
    events: pl.DataFrame | pl.LazyFrame,
    items: pl.DataFrame | pl.LazyFrame,
    profile_config: ProfileConfig | None = None,
    detection_config: DetectionConfig | None = None,
    *,
    chunk_users: int = 8_192,
) -> pl.DataFrame:
    """Events to migrations: daily window sums by default, then :func:`detect_migrations` block by block.

    With ``feedback_at_purchase`` (default) ratings and reviews count at the purchase they follow.
    """
    pcfg = profile_config if profile_config is not None else ProfileConfig(window="1d")
    dcfg = detection_config if detection_config is not None else DetectionConfig()
    began = time.perf_counter()
    frame = profile_frame(feedback_at_purchase(events) if dcfg.feedback_at_purchase else events, items, pcfg)
    categories = tuple(frame["category"].unique().sort().to_list())
    n_windows = int(frame["window"].max()) + 1 if frame.height else 0  # type: ignore[arg-type]
    parts = [
        detect_migrations(block, dcfg)
        for block in iter_profiles(
            frame, pcfg, chunk_users=chunk_users, categories=categories, n_windows=n_windows
        )
    ]
    out = pl.concat(parts) if parts else pl.DataFrame(schema=MIGRATION_SCHEMA)
    logger.info(
        "found %d migrations among %d users in %.1fs",
        out.height,
        frame["user_id"].n_unique(),
        time.perf_counter() - began,
    )
    return out


def migration_matrix(
    migrations: pl.DataFrame,
    segments: pl.DataFrame | None = None,
    *,
    segment_column: str = "segment",
    value: Literal["count", "magnitude"] = "count",
) -> pl.DataFrame:
    """Platform-level from -> to flows: ``segment, from_category, to_category, flow, share``.

    ``flow`` counts migrations (or sums their magnitude); ``share`` is the flow over everything leaving
    ``from_category`` in that segment. ``segment`` is ``"all"`` for the whole platform; with ``segments``
    (``user_id`` plus ``segment_column``) every segment's matrix follows. Users without a segment are
    only in ``"all"``.
    """
    if value not in ("count", "magnitude"):
        raise ValueError(f"value must be 'count' or 'magnitude', got {value!r}")
    flow = pl.len().cast(pl.Float64) if value == "count" else pl.col("magnitude").sum()
    keys = ["segment", "from_category", "to_category"]
    parts = [migrations.with_columns(segment=pl.lit("all"))]
    if segments is not None:
        seg = segments.select("user_id", pl.col(segment_column).cast(pl.String).alias("segment"))
        parts.append(migrations.join(seg, on="user_id", how="inner"))
    grouped = pl.concat([p.select("segment", "from_category", "to_category", "magnitude") for p in parts])
    return (
        grouped.group_by(keys)
        .agg(flow.alias("flow"))
        .with_columns(share=pl.col("flow") / pl.col("flow").sum().over("segment", "from_category"))
        .sort(keys)
    )


def matrix_array(
    matrix: pl.DataFrame, categories: list[str] | None = None, *, segment: str = "all", column: str = "flow"
) -> tuple[np.ndarray, list[str]]:
    """Dense (C, C) array ``[from, to]`` of one segment of :func:`migration_matrix`, with its labels."""
    part = matrix.filter(pl.col("segment") == segment)
    cats = categories or sorted(set(part["from_category"].to_list()) | set(part["to_category"].to_list()))
    index = {c: i for i, c in enumerate(cats)}
    out = np.zeros((len(cats), len(cats)))
    for frm, to, v in part.select("from_category", "to_category", column).iter_rows():
        if frm in index and to in index:
            out[index[frm], index[to]] = v
    return out, cats
