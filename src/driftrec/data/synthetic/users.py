"""Users' latent interests and how they move: the ground truth the analytics must recover.

Story: every user belongs to a latent *segment* (a persona with its own taste over departments) and
starts with ``n_favourites`` leaf categories drawn from that taste: a dominant one holding
``dominant_share`` of the interest, the others sharing the rest. Over the horizon three kinds of change
are planted, each recorded in the truth frame:

- ``"abrupt"`` migration: at a planted moment the dominant leaf is dropped and a new leaf takes its
  whole weight (a new hobby, a new baby, a move). A user has ``Poisson(migration_rate)`` of them
  (capped at ``max_migrations_per_user``), between 10% and 90% of the horizon and at least a tenth of
  the horizon apart; later migrations start from the previous target.
- ``"gradual"`` evolution: for a ``gradual_fraction`` of users the last favourite fades linearly to
  zero over 15-35% of the horizon while a new leaf rises by the same amount (``ts`` is the start of the
  ramp, ``end_ts`` its end).
- ``"burst"``: with probability ``burst_prob`` a new leaf gets ``burst_strength`` times the rest of the
  interest for ``burst_days`` (a one-off gift hunt); ``from_category`` is the dominant leaf at that
  time and interest returns to it afterwards.

Internally each user has ``n_slots`` interest *slots* (leaf, weight, and a piecewise-linear envelope
that rises over [rise0, rise1] and falls over [fall0, fall1], in seconds from the start). All leaves of
a user's slots are distinct, so the interest in a leaf is the weight of at most one slot, and the
leaves outside the slots are "off-interest" (where noise events land). Interest at time t is the slot
weights times their envelopes, normalised to sum to one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftrec.data.schema import TIMESTAMP
from driftrec.data.synthetic.catalog import Catalog
from driftrec.data.synthetic.config import SyntheticShopConfig

_BLOCK = 65_536  # users per block when drawing leaves (bounds the users x leaves key matrix)


@dataclass(frozen=True, eq=False)
class UserPlans:
    """Per-user interest slots, (U, S) arrays; slot layout: favourites, migration targets, gradual, burst."""

    segment: np.ndarray  # (U,) int64 latent persona
    leaf: np.ndarray  # (U, S) int64, distinct within a row
    weight: np.ndarray  # (U, S) float64
    rise0: np.ndarray  # (U, S) float64 seconds; -inf = active from the start, +inf = never
    rise1: np.ndarray
    fall0: np.ndarray  # +inf = never falls
    fall1: np.ndarray
    migration_ts: np.ndarray  # (U, M) float64 seconds of abrupt migrations, +inf where none
    gradual: np.ndarray  # (U,) bool
    burst: np.ndarray  # (U,) bool

    @property
    def n_users(self) -> int:
        return int(self.leaf.shape[0])

    @property
    def n_slots(self) -> int:
        return int(self.leaf.shape[1])


def _segment_leaf_logits(
    config: SyntheticShopConfig, catalog: Catalog, rng: np.random.Generator
) -> np.ndarray:
    """Log-probability of each leaf for each segment: a Dirichlet taste over departments, smoothed."""
    taste = rng.dirichlet(np.full(config.n_top_categories, 0.5), size=config.n_segments)
    leaf_p = 0.85 * taste[:, catalog.leaf_top] / config.n_sub_categories + 0.15 / catalog.n_leaves
    logits: np.ndarray = np.log(leaf_p)
    return logits


def _distinct_leaves(logits: np.ndarray, segment: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` distinct leaves per user, weighted by the segment's taste (Gumbel top-k, in user blocks)."""
    out = np.empty((segment.shape[0], k), dtype=np.int64)
    for lo in range(0, segment.shape[0], _BLOCK):
        seg = segment[lo : lo + _BLOCK]
        keys = logits[seg] + rng.gumbel(size=(seg.shape[0], logits.shape[1]))
        top = np.argpartition(-keys, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1)
        out[lo : lo + _BLOCK] = np.take_along_axis(top, order, axis=1)
    return out


def plan_users(config: SyntheticShopConfig, catalog: Catalog, rng: np.random.Generator) -> UserPlans:
    """Draw segments, favourites and all planted changes for every user (pure given ``rng``)."""
    n_users, n_fav, n_mig = config.n_users, config.n_favourites, config.max_migrations_per_user
    n_slots, horizon = config.n_slots, config.horizon_seconds
    g_slot, b_slot = n_fav + n_mig, n_fav + n_mig + 1
    segment = rng.integers(0, config.n_segments, n_users)
    leaf = _distinct_leaves(_segment_leaf_logits(config, catalog, rng), segment, n_slots, rng)

    weight = np.zeros((n_users, n_slots))
    weight[:, 0] = config.dominant_share
    weight[:, 1:n_fav] = (1.0 - config.dominant_share) * rng.dirichlet(np.full(n_fav - 1, 2.0), size=n_users)
    weight[:, n_fav:g_slot] = config.dominant_share
    weight[:, g_slot] = weight[:, n_fav - 1]
    weight[:, b_slot] = config.burst_strength

    rise0 = np.full((n_users, n_slots), np.inf)
    rise0[:, :n_fav] = -np.inf
    rise1 = rise0.copy()
    fall0 = np.full((n_users, n_slots), np.inf)
    fall1 = fall0.copy()

    # abrupt migrations: sorted times in [0.1H, 0.9H] at least 0.1H apart
    n_migrations = np.minimum(rng.poisson(config.migration_rate, n_users), n_mig)
    gap = 0.1 * horizon
    window = 0.8 * horizon - np.maximum(n_migrations - 1, 0) * gap
    draws = rng.random((n_users, n_mig)) * window[:, None]
    draws[np.arange(n_mig)[None, :] >= n_migrations[:, None]] = np.inf
    migration_ts = np.round(np.sort(draws, axis=1) + 0.1 * horizon + np.arange(n_mig) * gap)
    if n_mig:
        # the dominant slot chain: favourite 0 -> target 0 -> target 1 -> ...
        fall0[:, 0] = fall1[:, 0] = migration_ts[:, 0]
        rise0[:, n_fav:g_slot] = rise1[:, n_fav:g_slot] = migration_ts
        fall0[:, n_fav : g_slot - 1] = fall1[:, n_fav : g_slot - 1] = migration_ts[:, 1:]

    # gradual: last favourite fades while the gradual slot rises, over the same ramp
    gradual = (rng.random(n_users) < config.gradual_fraction) & (weight[:, n_fav - 1] > 0)
    ramp = rng.uniform(0.15, 0.35, n_users) * horizon
    ramp_start = np.round(0.05 * horizon + rng.random(n_users) * (0.9 * horizon - ramp))
    ramp_end = np.round(ramp_start + ramp)
    fall0[gradual, n_fav - 1] = ramp_start[gradual]
    fall1[gradual, n_fav - 1] = ramp_end[gradual]
    rise0[gradual, g_slot] = ramp_start[gradual]
    rise1[gradual, g_slot] = ramp_end[gradual]

    # burst: a short, abrupt on/off bump
    burst = rng.random(n_users) < config.burst_prob
    length = min(config.burst_days * 86_400.0, 0.5 * horizon)
    burst_start = np.round(0.05 * horizon + rng.random(n_users) * (0.9 * horizon - length))
    rise0[burst, b_slot] = rise1[burst, b_slot] = burst_start[burst]
    fall0[burst, b_slot] = fall1[burst, b_slot] = np.round(burst_start[burst] + length)

    return UserPlans(segment, leaf, weight, rise0, rise1, fall0, fall1, migration_ts, gradual, burst)


def envelope(t: np.ndarray, r0: np.ndarray, r1: np.ndarray, f0: np.ndarray, f1: np.ndarray) -> np.ndarray:
    """Piecewise-linear on/off factor in [0, 1]; zero-width ramps are steps (on strictly after the time)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rise = np.clip((t - r0) / np.fmax(r1 - r0, 1e-9), 0.0, 1.0)
        fall = np.clip((t - f0) / np.fmax(f1 - f0, 1e-9), 0.0, 1.0)
    out: np.ndarray = rise * (1.0 - fall)
    return out


def slot_weights(plans: UserPlans, users: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Unnormalised interest per slot, (V, S), for users ``users`` (V,) at seconds ``t`` (V,).

    Loops over the few slots, not over rows, so memory stays at a handful of (V,) arrays.
    """
    out = np.empty((users.shape[0], plans.n_slots))
    for s in range(plans.n_slots):
        out[:, s] = plans.weight[users, s] * envelope(
            t, plans.rise0[users, s], plans.rise1[users, s], plans.fall0[users, s], plans.fall1[users, s]
        )
    return out


def leaf_interest(plans: UserPlans, user: int, t: float, n_leaves: int) -> np.ndarray:
    """One user's normalised interest over all leaves at second ``t``."""
    w = slot_weights(plans, np.array([user]), np.array([float(t)]))[0]
    vec = np.zeros(n_leaves)
    np.add.at(vec, plans.leaf[user], w)
    total = vec.sum()
    return vec / total if total > 0 else vec


def _to_ts(start: dt.datetime, seconds: np.ndarray) -> pl.Series:
    micros = np.round(seconds * 1e6).astype(np.int64) + int(start.timestamp() * 1_000_000)
    return (
        pl.Series(micros, dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").cast(TIMESTAMP)
    )


def truth_frame(
    config: SyntheticShopConfig, plans: UserPlans, catalog: Catalog, user_ids: pl.Series
) -> pl.DataFrame:
    """The planted changes: a row per abrupt migration, gradual evolution and burst, by user and time.

    Columns: ``user_id, ts, end_ts, from_category, to_category, kind, share`` where ``share`` is the
    fraction of the user's interest that moves (before normalisation for bursts: ``w / (1 + w)``).
    """
    n_fav, n_mig = config.n_favourites, config.max_migrations_per_user
    g_slot, b_slot = n_fav + n_mig, n_fav + n_mig + 1
    users_col: list[np.ndarray] = []
    start_s: list[np.ndarray] = []
    end_s: list[np.ndarray] = []
    from_leaf: list[np.ndarray] = []
    to_leaf: list[np.ndarray] = []
    kind: list[np.ndarray] = []
    share: list[np.ndarray] = []

    def add(
        u: np.ndarray, a: np.ndarray, b: np.ndarray, f: np.ndarray, to: np.ndarray, k: str, w: np.ndarray
    ) -> None:
        users_col.append(u)
        start_s.append(a)
        end_s.append(b)
        from_leaf.append(f)
        to_leaf.append(to)
        kind.append(np.full(u.shape[0], k, dtype=object))
        share.append(w)

    for j in range(n_mig):
        u = np.flatnonzero(np.isfinite(plans.migration_ts[:, j]))
        src = 0 if j == 0 else n_fav + j - 1
        tau = plans.migration_ts[u, j]
        add(u, tau, tau, plans.leaf[u, src], plans.leaf[u, n_fav + j], "abrupt", plans.weight[u, 0])
    u = np.flatnonzero(plans.gradual)
    add(
        u,
        plans.rise0[u, g_slot],
        plans.rise1[u, g_slot],
        plans.leaf[u, n_fav - 1],
        plans.leaf[u, g_slot],
        "gradual",
        plans.weight[u, g_slot],
    )
    u = np.flatnonzero(plans.burst)
    b0 = plans.rise0[u, b_slot]
    done = (
        (plans.migration_ts[u] <= b0[:, None]).sum(axis=1) if n_mig else np.zeros(u.shape[0], dtype=np.int64)
    )
    dominant_slot = np.where(done == 0, 0, n_fav + done - 1)
    add(
        u,
        b0,
        plans.fall0[u, b_slot],
        plans.leaf[u, dominant_slot],
        plans.leaf[u, b_slot],
        "burst",
        np.full(u.shape[0], config.burst_strength / (1.0 + config.burst_strength)),
    )

    cats = pl.Series(catalog.categories, dtype=pl.String)
    all_users = np.concatenate(users_col)
    start = config.start_datetime()
    frame = pl.DataFrame(
        {
            "user_id": user_ids.gather(all_users),
            "ts": _to_ts(start, np.concatenate(start_s)),
            "end_ts": _to_ts(start, np.concatenate(end_s)),
            "from_category": cats.gather(np.concatenate(from_leaf)),
            "to_category": cats.gather(np.concatenate(to_leaf)),
            "kind": pl.Series(np.concatenate(kind).tolist(), dtype=pl.String),
            "share": np.concatenate(share).astype(np.float64),
        }
    )
    return frame.sort("user_id", "ts", "kind")


def segments_frame(plans: UserPlans, catalog: Catalog, user_ids: pl.Series) -> pl.DataFrame:
    """Each user's latent segment and initial dominant leaf (the ground truth of segmentation)."""
    return pl.DataFrame(
        {
            "user_id": user_ids,
            "segment": plans.segment.astype(np.int64),
            "start_category": pl.Series(catalog.categories, dtype=pl.String).gather(plans.leaf[:, 0]),
        }
    )
