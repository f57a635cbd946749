"""Logs for the offline RL protocol: keep the behaviours that carry a reward, trim, encode, split users.

Users (not time) are split into train / validation / test, as SQN splits sessions: a test user's whole
sequence is unseen in training and every one of its events is a next-item target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from driftrec.data.cleaning import drop_duplicates, k_core
from driftrec.data.interactions import InteractionLog, encode_events

__all__ = ["ACTION_EVENTS", "OfflineSplit", "prepare_log", "split_users"]

#: Behaviours that are actions of the next-item protocol (ratings and reviews follow a purchase).
ACTION_EVENTS = ("view", "click", "favourite", "cart", "purchase")


@dataclass(frozen=True)
class OfflineSplit:
    train: InteractionLog
    valid: InteractionLog
    test: InteractionLog


def prepare_log(
    events: pl.DataFrame,
    *,
    user_k: int = 5,
    item_k: int = 3,
    max_users: int = 0,
    seed: int = 0,
    event_types: tuple[str, ...] = ACTION_EVENTS,
) -> tuple[InteractionLog, dict[str, int]]:
    """Action events, exact duplicates dropped, at most ``max_users`` random users (0 = all), then the
    (user_k, item_k)-core; returns the encoded log and its size for the result's protocol."""
    if user_k < 0 or item_k < 0 or max_users < 0:
        raise ValueError(f"user_k, item_k and max_users must be >= 0, got {user_k}, {item_k}, {max_users}")
    events = events.filter(pl.col("event").is_in(list(event_types)))
    events, _ = drop_duplicates(events)
    if max_users:
        users = events.get_column("user_id").unique().sort()
        if users.len() > max_users:
            rng = np.random.default_rng(seed)
            keep = users.gather(np.sort(rng.choice(users.len(), max_users, replace=False)))
            events = events.filter(pl.col("user_id").is_in(keep.implode()))
    events, _ = k_core(events, user_k, item_k)
    if events.is_empty():
        raise ValueError("no events left after selecting actions and the k-core")
    log, _, _ = encode_events(events)
    facts = {
        "events": len(log),
        "users": log.n_users,
        "items": log.n_items,
        "purchases": int((events.get_column("event") == "purchase").sum()),
    }
    return log, facts


def split_users(log: InteractionLog, valid: float = 0.1, test: float = 0.2, seed: int = 0) -> OfflineSplit:
    """Random disjoint user sets; the id spaces stay those of ``log``."""
    if not (0 < valid < 1 and 0 < test < 1 and valid + test < 1):
        raise ValueError(f"valid and test must be shares in (0, 1) summing below 1, got {valid}, {test}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(np.arange(1, log.n_users + 1))
    n_test, n_valid = round(test * log.n_users), round(valid * log.n_users)
    part = np.zeros(log.n_users + 1, dtype=np.int8)
    part[order[:n_test]] = 2
    part[order[n_test : n_test + n_valid]] = 1
    which = part[log.user]
    return OfflineSplit(log.mask(which == 0), log.mask(which == 1), log.mask(which == 2))
