"""How each interest lives: rise, peak and fade of a user's categories, bursts, and platform popularity.

Migration (:mod:`driftrec.interests.migration`) asks *when did interest move*; evolution asks *what shape
did each interest have*. Everything works on whole ``(users, windows, categories)`` arrays at once:

- :func:`smoothed_shares` turns window shares into a trajectory: silent windows carry the last observed
  interest forward (a shopper who pauses has not lost interest), then a trailing mean over ``smooth``
  windows takes out the session-level wobble.
- :func:`stages` labels every (user, window, category) as ``absent``, ``rise``, ``peak``, ``fade`` or
  ``steady`` relative to that trajectory's own maximum: it is the shape of *this* interest that matters,
  not its size next to the user's other interests.
- :func:`find_bursts` finds jumps at a moment: a category whose share jumps by ``burst_jump`` over its
  recent level for at most ``burst_max_windows`` active windows and then falls back. A jump that stays
  is a migration, not a burst.
- :func:`popularity_curves` is the platform view: weight, share and active users per category and window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import polars as pl

from driftrec.interests.profiles import ProfileConfig, Profiles, profile_frame

STAGES: Final = ("absent", "rise", "peak", "fade", "steady")
_ABSENT, _RISE, _PEAK, _FADE, _STEADY = range(len(STAGES))


def _check(name: str, value: object, low: float, high: float, *, integer: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer:
        ok = isinstance(value, int)
    if not ok or not low <= float(value) <= high:  # type: ignore[arg-type]
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {kind} in [{low:g}, {high:g}], got {value!r}")


@dataclass(frozen=True)
class EvolutionConfig:
    """Thresholds that cut a trajectory into stages and find bursts.

    ``smooth`` is the trailing-mean width in windows; ``present_share`` the share below which a category
    is ``absent``; ``peak_fraction`` how close to its own maximum a trajectory must be to be at its
    ``peak``; a trajectory whose range stays under ``steady_range`` of its maximum is ``steady``.
    A burst needs a jump of ``burst_jump`` (share) above the mean of the ``burst_lookback`` active windows
    before it, lasting at most ``burst_max_windows`` active windows, after which the share comes back
    below ``baseline + burst_jump / 2``. The category must have been minor before (baseline at most
    ``burst_max_baseline``: a burst is a *new* interest flaring up) and every burst window must hold at
    least ``burst_min_events`` events, so that one stray click on a quiet day is not a burst.
    """

    smooth: int = 3
    present_share: float = 0.05
    peak_fraction: float = 0.8
    steady_range: float = 0.5
    burst_jump: float = 0.5
    burst_lookback: int = 3
    burst_max_windows: int = 2
    burst_max_baseline: float = 0.2
    burst_min_events: int = 3

    def __post_init__(self) -> None:
        _check("smooth", self.smooth, 1, 10_000, integer=True)
        _check("present_share", self.present_share, 0.0, 1.0)
        _check("peak_fraction", self.peak_fraction, 0.0, 1.0)
        _check("steady_range", self.steady_range, 0.0, 1.0)
        _check("burst_jump", self.burst_jump, 1e-9, 1.0)
        _check("burst_lookback", self.burst_lookback, 1, 10_000, integer=True)
        _check("burst_max_windows", self.burst_max_windows, 1, 10_000, integer=True)
        _check("burst_max_baseline", self.burst_max_baseline, 0.0, 1.0)
        _check("burst_min_events", self.burst_min_events, 0, 1_000_000, integer=True)


def _forward_fill(shares: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Silent windows take the shares of the user's last active window (zero before the first)."""
    n_users, n_windows, _ = shares.shape
    index = np.where(active, np.arange(n_windows)[None, :], -1)
    last = np.maximum.accumulate(index, axis=1)
    filled = shares[np.arange(n_users)[:, None], np.maximum(last, 0)]
    out: np.ndarray = np.where((last >= 0)[:, :, None], filled, 0.0)
    return out


def trailing_mean(values: np.ndarray, width: int, axis: int = 1) -> np.ndarray:
    """Mean of the last ``width`` entries along ``axis`` (fewer at the start), by cumulative sums."""
    if width == 1:
        return values
    cum = np.cumsum(values, axis=axis)
    shifted = np.zeros_like(cum)
    n = values.shape[axis]
    src = [slice(None)] * values.ndim
    dst = [slice(None)] * values.ndim
    src[axis], dst[axis] = slice(0, max(n - width, 0)), slice(width, n)
    shifted[tuple(dst)] = cum[tuple(src)]
    counts = np.minimum(np.arange(1, n + 1), width).astype(np.float64)
    shape = [1] * values.ndim
    shape[axis] = n
    out: np.ndarray = (cum - shifted) / counts.reshape(shape)
    return out


def smoothed_shares(profiles: Profiles, config: EvolutionConfig | None = None) -> np.ndarray:
    """(U, W, C) interest trajectories: forward-filled shares, trailing mean over ``smooth`` windows.

    Windows before a user's first activity are zero and left out of the mean, so a late joiner's
    trajectory starts at its first observed level instead of ramping up from nothing.
    """
    cfg = config if config is not None else EvolutionConfig()
    filled = _forward_fill(profiles.shares(), profiles.active())
    if cfg.smooth == 1:
        return filled
    started = _started(profiles).astype(np.float64)
    count = trailing_mean(started, cfg.smooth)[:, :, None]
    total = trailing_mean(filled, cfg.smooth)
    out: np.ndarray = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return out


def stage_array(
    trajectory: np.ndarray, config: EvolutionConfig | None = None, started: np.ndarray | None = None
) -> np.ndarray:
    """Stage codes (indices into :data:`STAGES`) of trajectories shaped ``(..., W, C)``.

    The *peak period* runs from the first to the last window within ``peak_fraction`` of the
    trajectory's maximum (dips in between stay part of it, so noise does not end a peak early); before
    it the interest is rising, after it fading; under ``present_share`` it is absent. A trajectory whose
    relative range ``(max - min) / max`` stays under ``steady_range`` is steady. ``started`` (shaped like
    the trajectory without its last axis) marks windows after the user's first activity; the minimum is
    taken over those only, and earlier windows are absent: a shopper who joins late has not "risen".
    """
    cfg = config if config is not None else EvolutionConfig()
    t = np.asarray(trajectory, dtype=np.float64)
    n_windows = t.shape[-2]
    top = t.max(axis=-2, keepdims=True)
    on = np.ones(t.shape[:-1], dtype=bool) if started is None else np.asarray(started, dtype=bool)
    low = np.where(on[..., None], t, np.inf).min(axis=-2, keepdims=True)
    w = np.arange(n_windows).reshape((n_windows, 1))
    high = t >= cfg.peak_fraction * top
    first_high = np.argmax(high, axis=-2)[..., None, :]
    last_high = n_windows - 1 - np.argmax(high[..., ::-1, :], axis=-2)[..., None, :]
    out = np.full(t.shape, _PEAK, dtype=np.int8)
    out[np.broadcast_to(w < first_high, t.shape)] = _RISE
    out[np.broadcast_to(w > last_high, t.shape)] = _FADE
    steady = (top - low) < cfg.steady_range * top
    out[np.broadcast_to(steady, t.shape)] = _STEADY
    out[(t < cfg.present_share) | ~on[..., None]] = _ABSENT
    return out


def _started(profiles: Profiles) -> np.ndarray:
    """(U, W) True from each user's first active window on."""
    out: np.ndarray = np.logical_or.accumulate(profiles.active(), axis=1)
    return out


def stages(profiles: Profiles, config: EvolutionConfig | None = None) -> np.ndarray:
    """(U, W, C) stage codes of every user's smoothed trajectories (see :func:`stage_array`)."""
    return stage_array(smoothed_shares(profiles, config), config, _started(profiles))


def trajectory_summary(profiles: Profiles, config: EvolutionConfig | None = None) -> pl.DataFrame:
    """One row per (user, category) ever present: when it rose, peaked and faded, and where it is now.

    Columns ``user_id, category, rise_ts`` (first window present), ``peak_ts, peak_share, fade_ts``
    (first window after the peak where it is fading, null if it never faded), ``last_ts`` (last window
    present), ``stage_now`` (stage at the last window) and ``windows_present``.
    """
    cfg = config if config is not None else EvolutionConfig()
    traj = smoothed_shares(profiles, cfg)
    code = stage_array(traj, cfg, _started(profiles))
    present = code != _ABSENT
    u, c = np.nonzero(present.any(axis=1))
    n_windows = traj.shape[1]
    rise = np.argmax(present, axis=1)[u, c]
    last = (n_windows - 1 - np.argmax(present[:, ::-1], axis=1))[u, c]
    peak = np.argmax(traj, axis=1)[u, c]
    fading = code == _FADE
    has_fade = fading.any(axis=1)[u, c]
    fade = np.argmax(fading, axis=1)[u, c]
    starts = profiles.window_starts
    cats = pl.Series(profiles.categories, dtype=pl.String)
    return pl.DataFrame(
        {
            "user_id": profiles.user_ids.gather(u),
            "category": cats.gather(c),
            "rise_ts": starts.gather(rise),
            "peak_ts": starts.gather(peak),
            "peak_share": traj[u, peak, c],
            "fade_ts": starts.gather(fade),
            "last_ts": starts.gather(last),
            "stage_now": pl.Series(STAGES, dtype=pl.String).gather(code[u, -1, c]),
            "windows_present": present.sum(axis=1)[u, c].astype(np.int64),
        }
    ).with_columns(pl.when(pl.Series(has_fade)).then(pl.col("fade_ts")).alias("fade_ts"))


def _compact(shares: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Active windows of every user moved to the left (padding after): shares, window index, valid."""
    order = np.argsort(~active, axis=1, kind="stable")
    valid = np.take_along_axis(active, order, axis=1)
    packed = np.take_along_axis(shares, order[:, :, None], axis=1)
    return packed, order, valid


def find_bursts(profiles: Profiles, config: EvolutionConfig | None = None) -> pl.DataFrame:
    """Short jumps of one category's share that come back down: ``user_id, category, ts, end_ts``,
    ``share`` (mean share during the burst), ``baseline`` (mean over the windows before), ``jump``
    and ``n_windows`` (active windows the burst lasted).

    Works on active windows only, so a burst is the same whether the user paused a day or a month.
    """
    cfg = config if config is not None else EvolutionConfig()
    packed, order, valid = _compact(profiles.shares(), profiles.active())
    events = np.take_along_axis(profiles.n_events, order, axis=1)
    n_users, n_windows, n_cats = packed.shape
    look = cfg.burst_lookback
    vf = valid.astype(np.float64)[:, :, None]
    cum = np.concatenate([np.zeros((n_users, 1, n_cats)), np.cumsum(packed * vf, axis=1)], axis=1)
    cnt = np.concatenate([np.zeros((n_users, 1, 1)), np.cumsum(vf, axis=1)], axis=1)

    def span_mean(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean of packed rows ``lo..hi-1`` (clipped) per (user, start, category) and the row count."""
        lo, hi = np.clip(lo, 0, n_windows), np.clip(hi, 0, n_windows)
        total = np.take(cum, hi, axis=1) - np.take(cum, lo, axis=1)
        count = np.take(cnt, hi, axis=1) - np.take(cnt, lo, axis=1)
        return np.divide(total, count, out=np.zeros_like(total), where=count > 0), count

    w = np.arange(n_windows)
    before, n_before = span_mean(w - look, w)
    found = np.zeros(packed.shape, dtype=bool)
    length = np.zeros(packed.shape, dtype=np.int64)
    level = np.zeros(packed.shape)
    high = np.ones(packed.shape, dtype=bool)
    for k in range(1, cfg.burst_max_windows + 1):
        row = np.minimum(w + k - 1, n_windows - 1)
        in_range = (w + k - 1 < n_windows)[None, :, None] & np.take(valid, row, axis=1)[:, :, None]
        enough = (np.take(events, row, axis=1) >= cfg.burst_min_events)[:, :, None]
        high &= in_range & enough & (np.take(packed, row, axis=1) - before >= cfg.burst_jump)
        after, n_after = span_mean(w + k, w + k + look)
        during, _ = span_mean(w, w + k)
        hit = high & ~found & (n_before > 0) & (n_after > 0) & (after < before + cfg.burst_jump / 2)
        hit &= before <= cfg.burst_max_baseline
        found |= hit
        length[hit] = k
        level[hit] = during[hit]
    # a start inside an earlier burst of the same category is the same burst
    for k in range(1, cfg.burst_max_windows):
        shifted = np.zeros_like(found)
        shifted[:, k:] = found[:, :-k] & (length[:, :-k] > k)
        found &= ~shifted
    u, s, c = np.nonzero(found)
    first = order[u, s]
    lastw = order[u, s + length[u, s, c] - 1]
    starts = profiles.window_starts
    return pl.DataFrame(
        {
            "user_id": profiles.user_ids.gather(u),
            "category": pl.Series(profiles.categories, dtype=pl.String).gather(c),
            "ts": starts.gather(first),
            "end_ts": starts.gather(lastw),
            "share": level[u, s, c],
            "baseline": before[u, s, c],
            "jump": level[u, s, c] - before[u, s, c],
            "n_windows": length[u, s, c],
        }
    ).sort("user_id", "ts", "category")


def popularity_curves(
    events: pl.DataFrame | pl.LazyFrame,
    items: pl.DataFrame | pl.LazyFrame,
    config: ProfileConfig | None = None,
) -> pl.DataFrame:
    """Platform-level popularity per window and category: ``window, window_start, category, weight,
    share`` (of all weight in that window), ``n_events`` and ``n_users`` (users active in the category).

    One group-by over the sparse profile frame, so it scales with the log, not with users x windows.
    """
    frame = profile_frame(events, items, config if config is not None else ProfileConfig())
    return curves_from_frame(frame)


def curves_from_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """:func:`popularity_curves` from an existing :func:`~driftrec.interests.profile_frame`."""
    return (
        frame.group_by("window", "window_start", "category")
        .agg(pl.col("weight").sum(), pl.col("n_events").sum(), pl.col("user_id").n_unique().alias("n_users"))
        .with_columns(share=pl.col("weight") / pl.col("weight").sum().over("window"))
        .sort("window", "category")
        .select("window", "window_start", "category", "weight", "share", "n_events", "n_users")
    )


def popularity_stages(curves: pl.DataFrame, config: EvolutionConfig | None = None) -> pl.DataFrame:
    """Stage of every category's platform share at every window (trailing-mean smoothed), long form."""
    cfg = config if config is not None else EvolutionConfig(present_share=0.0)
    wide = (
        curves.pivot(on="category", index="window_start", values="share", sort_columns=True)
        .sort("window_start")
        .fill_null(0.0)
    )
    cats = [c for c in wide.columns if c != "window_start"]
    values = trailing_mean(wide.select(cats).to_numpy()[None], cfg.smooth)[0]
    code = stage_array(values, cfg)
    return pl.DataFrame(
        {
            "window_start": np.repeat(wide["window_start"].to_numpy(), len(cats)),
            "category": cats * wide.height,
            "smoothed_share": values.reshape(-1),
            "stage": pl.Series(STAGES, dtype=pl.String).gather(code.reshape(-1)),
        }
    ).with_columns(pl.col("window_start").cast(curves.schema["window_start"]))
