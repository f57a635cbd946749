"""The event log: sessions of views, the funnel behind them, ratings and reviews, drawn block by block.

Story: each user has a log-normal activity level (a few heavy shoppers, many light ones) that sets
their number of views, grouped into sessions that start at uniform times over the horizon; views in a
session are tens of seconds apart. Each view picks an interest slot by the user's interest *at that
moment* (so planted migrations show in the log), and with probability ``session_focus`` a view stays
in the session's first slot, which makes sessions topical. With probability ``noise`` the view instead
lands on a uniform leaf outside the user's interests. The item is drawn within the leaf by popularity;
the funnel of :mod:`~driftrec.data.synthetic.behaviour` then adds clicks, carts and purchases seconds to
minutes later, and purchases may be rated and reviewed hours to days later (dropped past the horizon).

Users are processed in blocks of about 400k views, each block with its own random stream, so memory
is bounded by one block plus the output and the log is identical for a seed whatever the machine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import polars as pl

from driftrec.data.schema import EVENT_CODE, EVENT_TYPES, TIMESTAMP
from driftrec.data.synthetic.behaviour import (
    expected_events_per_view,
    funnel_probabilities,
    satisfaction_stars,
)
from driftrec.data.synthetic.text import review_texts
from driftrec.data.synthetic.users import slot_weights
from driftrec.data.synthetic.world import STREAM_EVENTS, World, stream

logger = logging.getLogger(__name__)

VIEWS_PER_BLOCK = 400_000
VIEW_GAP_MEAN_S = 45.0
SESSION_TAIL_S = 3_600.0  # sessions start early enough to end before the horizon, usually
_DAY_S = 86_400.0
_STEP_DELAYS_S = ((2.0, 30.0), (10.0, 180.0), (30.0, 900.0))  # view->click, click->cart, cart->purchase


def views_per_user_mean(world: World) -> float:
    """Mean views per user so that all behaviours together reach ``events_per_user_mean``."""
    return world.config.events_per_user_mean / expected_events_per_view(world.config)


def users_per_block(world: World) -> int:
    """Users per block: a function of the config only, so blocks (and the log) are reproducible."""
    return max(1, int(VIEWS_PER_BLOCK // max(views_per_user_mean(world), 1.0)))


def _sessions(
    world: World, n_users: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Views as (local user, block-local session, seconds), sorted by session, plus the session count."""
    cfg, horizon = world.config, world.config.horizon_seconds
    sigma = cfg.activity_sigma
    lam = views_per_user_mean(world) * np.exp(sigma * rng.standard_normal(n_users) - sigma**2 / 2)
    n_views = 1 + rng.poisson(np.maximum(lam - 1.0, 0.0))
    n_sess = np.minimum(n_views, 1 + rng.poisson((n_views - 1) / cfg.session_length_mean))
    n_total, k_total = int(n_views.sum()), int(n_sess.sum())

    user = np.repeat(np.arange(n_users, dtype=np.int64), n_views)
    pos = np.arange(n_total, dtype=np.int64) - (np.cumsum(n_views) - n_views)[user]
    k = n_sess[user]
    # the first k views open the k sessions (none is empty), the rest join one at random
    local = np.where(pos < k, pos, np.minimum((rng.random(n_total) * k).astype(np.int64), k - 1))
    session = (np.cumsum(n_sess) - n_sess)[user] + local
    order = np.argsort(session, kind="stable")
    user, session = user[order], session[order]

    starts = rng.random(k_total) * max(horizon - SESSION_TAIL_S, 0.5 * horizon)
    gaps = rng.exponential(VIEW_GAP_MEAN_S, n_total)
    first = np.ones(n_total, dtype=bool)
    first[1:] = session[1:] != session[:-1]
    gaps[first] = 0.0
    elapsed = np.cumsum(gaps)
    first_index = np.maximum.accumulate(np.where(first, np.arange(n_total), 0))
    t = starts[session] + elapsed - elapsed[first_index]
    return user, session, t, k_total


def _interest_draws(
    world: World,
    users: np.ndarray,
    session: np.ndarray,
    t: np.ndarray,
    n_sessions: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Leaf and affinity of each view (views sorted by session and time, ``users`` global ids)."""
    cfg, plans = world.config, world.plans
    n = users.shape[0]
    weights = slot_weights(plans, users, t)
    cum = np.cumsum(weights, axis=1)
    r = rng.random(n) * cum[:, -1]
    slot = np.minimum((cum <= r[:, None]).sum(axis=1), plans.n_slots - 1)

    first = np.ones(n, dtype=bool)
    first[1:] = session[1:] != session[:-1]
    session_slot = np.zeros(n_sessions, dtype=np.int64)
    session_slot[session[first]] = slot[first]
    stay = (rng.random(n) < cfg.session_focus) & ~first
    slot = np.where(stay, session_slot[session], slot)

    rows = np.arange(n)
    affinity = weights[rows, slot] / weights.max(axis=1)
    leaf = plans.leaf[users, slot]

    noisy = np.flatnonzero(rng.random(n) < cfg.noise)
    off = rng.integers(0, world.catalog.n_leaves - plans.n_slots, noisy.shape[0])
    excluded = np.sort(plans.leaf[users[noisy]], axis=1)
    for j in range(plans.n_slots):  # map to the off-th leaf that is not one of the user's slots
        off += off >= excluded[:, j]
    leaf[noisy] = off
    affinity[noisy] = 0.0
    return leaf, affinity


def _block(
    world: World, lo: int, hi: int, rng: np.random.Generator, session_base: int
) -> tuple[pl.DataFrame, int]:
    """All events of users ``lo..hi-1`` sorted by user, time and funnel order; also the session count."""
    cfg, cat = world.config, world.catalog
    horizon = cfg.horizon_seconds
    local, session, t, n_sessions = _sessions(world, hi - lo, rng)
    leaf, affinity = _interest_draws(world, local + lo, session, t, n_sessions, rng)
    item = cat.sample_items(leaf, rng.random((leaf.shape[0],)))

    p_click, p_cart, p_purchase = funnel_probabilities(affinity, cat.item_price_ratio[item], cfg)
    u = rng.random((3, item.shape[0]))
    clicked = u[0] < p_click
    carted = clicked & (u[1] < p_cart)
    bought = carted & (u[2] < p_purchase)
    t_click = t + rng.uniform(*_STEP_DELAYS_S[0], item.shape[0])
    t_cart = t_click + rng.uniform(*_STEP_DELAYS_S[1], item.shape[0])
    t_buy = t_cart + rng.uniform(*_STEP_DELAYS_S[2], item.shape[0])
    ci, ki, pi = np.flatnonzero(clicked), np.flatnonzero(carted), np.flatnonzero(bought)

    stars = satisfaction_stars(affinity[pi], cat.item_quality[item[pi]], rng)
    t_rate = t_buy[pi] + 3_600.0 + rng.exponential(3 * _DAY_S, pi.shape[0])
    t_review = t_buy[pi] + 3_600.0 + rng.exponential(3 * _DAY_S, pi.shape[0])
    rated = (rng.random(pi.shape[0]) < cfg.rating_prob) & (t_rate < horizon)
    reviewed = (rng.random(pi.shape[0]) < cfg.review_prob) & (t_review < horizon)
    ri, vi = pi[rated], pi[reviewed]
    texts = review_texts(cat.text, cat.item_leaf[item[vi]], stars[reviewed], rng)

    parts = [np.arange(item.shape[0]), ci, ki, pi, ri, vi]  # row of the originating view
    codes = [EVENT_CODE[e] for e in ("view", "click", "cart", "purchase", "rating", "review")]
    src = np.concatenate(parts)
    code = np.concatenate([np.full(p.shape[0], c, dtype=np.int64) for p, c in zip(parts, codes, strict=True)])
    seconds = np.concatenate([t, t_click[ci], t_cart[ki], t_buy[pi], t_rate[rated], t_review[reviewed]])
    nan = np.full(item.shape[0] + ci.shape[0] + ki.shape[0], np.nan)
    value = np.concatenate([nan, cat.item_price[item[pi]], stars[rated], stars[reviewed]]).astype(np.float64)
    in_session = ri.shape[0] + vi.shape[0]
    sess = np.concatenate([session[src[: src.shape[0] - in_session]] + session_base, np.full(in_session, -1)])
    review_row = np.full(src.shape[0], -1, dtype=np.int64)
    review_row[src.shape[0] - vi.shape[0] :] = np.arange(vi.shape[0])

    micros = np.floor(np.clip(seconds, 0.0, horizon - 1e-6) * 1e6).astype(np.int64)
    user = local[src]
    order = np.lexsort((code, micros, user))
    start_us = int(cfg.start_datetime().timestamp() * 1_000_000)
    numeric = pl.DataFrame(
        {
            "sess": sess[order],
            "review": review_row[order],
        }
    )
    helpers = numeric.select(
        session_id=pl.when(pl.col("sess") >= 0).then(pl.format("s{}", pl.col("sess"))),
        review=pl.when(pl.col("review") >= 0).then(pl.col("review")),
    )
    frame = pl.DataFrame(
        {
            "user_id": world.user_ids.gather(user[order] + lo),
            "item_id": cat.item_ids.gather(item[src[order]]),
            "ts": pl.Series(micros[order] + start_us, dtype=pl.Int64)
            .cast(pl.Datetime("us", "UTC"))
            .cast(TIMESTAMP),
            "event": pl.Series(EVENT_TYPES, dtype=pl.String).gather(code[order]),
            "value": pl.Series(value[order], dtype=pl.Float64, nan_to_null=True),
            "text": texts.gather(helpers["review"]),
            "session_id": helpers["session_id"],
        }
    )
    return frame, n_sessions


def iter_event_blocks(world: World) -> Iterator[pl.DataFrame]:
    """Canonical event frames, one per block of users, in user order (so their concatenation is sorted).

    Lets callers stream very large logs to disk without holding them whole.
    """
    step = users_per_block(world)
    session_base = 0
    for index, lo in enumerate(range(0, world.config.n_users, step)):
        hi = min(lo + step, world.config.n_users)
        frame, n_sessions = _block(
            world, lo, hi, stream(world.config.seed, STREAM_EVENTS, index), session_base
        )
        session_base += n_sessions
        logger.debug("synthetic events block %d: users %d-%d, %d events", index, lo, hi - 1, frame.height)
        yield frame
