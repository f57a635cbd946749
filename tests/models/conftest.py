"""Tiny logs whose right answers are known, shared by the model tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import pytest

from driftrec.data.interactions import Histories, InteractionLog

HOUR_US = 3_600 * 1_000_000
DAY_US = 24 * HOUR_US

Row = tuple[int, int, float]  # (user, item, time in hours)


def build_log(rows: Sequence[Row], n_users: int | None = None, n_items: int | None = None) -> InteractionLog:
    """An InteractionLog from (user, item, hours) rows, sorted by (user, time) like the encoder does."""
    users = np.array([r[0] for r in rows], dtype=np.int64)
    items = np.array([r[1] for r in rows], dtype=np.int64)
    ts = np.array([round(r[2] * HOUR_US) for r in rows], dtype=np.int64)
    order = np.lexsort((ts, users))
    return InteractionLog(
        users[order],
        items[order],
        ts[order],
        np.zeros(len(rows), dtype=np.int8),
        np.full(len(rows), np.nan, dtype=np.float32),
        int(n_users if n_users is not None else users.max()),
        int(n_items if n_items is not None else items.max()),
    )


@pytest.fixture
def make_log() -> Callable[..., InteractionLog]:
    return build_log


CYCLE_USERS = 24
CYCLE_ITEMS = 12


class Cycle(NamedTuple):
    log: InteractionLog
    histories: Histories  # every user's training sequence, user ids set
    held_out: np.ndarray  # (n_users,) the item each user must get first


@pytest.fixture(scope="session")
def cycle() -> Cycle:
    """Even users see only even items, odd users only odd ones, five of six in a fixed cycle.

    User u starts at position ((u - 1) // 2) % 6 of their group's cycle; the held-out item is the
    sixth, which is also the next in the cycle after their last item. So with seen items
    excluded, any collaborative or sequential model must rank it first: it is the only unseen
    item of the user's group. Every item has the same popularity, so popularity cannot know.
    """
    rows: list[Row] = []
    held_out = np.zeros(CYCLE_USERS, dtype=np.int64)
    for u in range(1, CYCLE_USERS + 1):
        group = list(range(2, CYCLE_ITEMS + 1, 2)) if u % 2 == 0 else list(range(1, CYCLE_ITEMS + 1, 2))
        start = ((u - 1) // 2) % 6
        for k in range(5):
            rows.append((u, group[(start + k) % 6], 24.0 * u + k))
        held_out[u - 1] = group[(start + 5) % 6]
    log = build_log(rows, CYCLE_USERS, CYCLE_ITEMS)
    return Cycle(log, log.histories(), held_out)


@pytest.fixture(scope="session")
def popular() -> InteractionLog:
    """Users 1..12 (days 1..12) take items 1..13-u, so item i has 13 - i of them; users 13..15
    (days 20..22) take only items 12 and 11. All-time order: 1, 2, ..., 9, then 11 and 12 tie
    (4 each) above 10 (3). In the last 5 days only 12 (3 events) and 11 (2 events) occur.
    """
    rows: list[Row] = []
    for u in range(1, 13):
        rows += [(u, i, 24.0 * u + i / 100) for i in range(1, 14 - u)]
    for u, items in ((13, (12, 11)), (14, (12, 11)), (15, (12,))):
        rows += [(u, i, 24.0 * (u + 7) + k) for k, i in enumerate(items)]
    return build_log(rows, 15, 12)
