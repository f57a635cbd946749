"""Time-respecting splits: leave-one-out by time and a global temporal split.

The model is fitted on ``train`` only. An ``EvalSet`` pairs, per evaluated user, the history the
model may look at (only events strictly earlier than every target) with the held-out targets.
Nothing after a target's time reaches the model: the tests check this on every split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftrec.data.interactions import Histories, InteractionLog

__all__ = ["EvalSet", "Split", "item_cold_start", "leave_one_out", "temporal_split", "to_microseconds"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class EvalSet:
    """histories[b] is what the model sees for user b; targets[b] the items to find (same user order)."""

    histories: Histories
    targets: Histories

    def __post_init__(self) -> None:
        if not np.array_equal(self.histories.user, self.targets.user):
            raise ValueError("histories and targets must list the same users in the same order")

    def __len__(self) -> int:
        return len(self.histories)


@dataclass(frozen=True)
class Split:
    train: InteractionLog
    valid: EvalSet
    test: EvalSet
    protocol: dict[str, Any] = field(default_factory=dict)


def _rank_from_end(log: InteractionLog) -> NDArray[np.int64]:
    """0 for each user's last event, 1 for the second last, ..."""
    off = log.user_offsets()
    ends = off[1:][log.user]
    return ends - 1 - np.arange(len(log), dtype=np.int64)


def _eval_set(history_log: InteractionLog, target_log: InteractionLog, users: NDArray[np.int64]) -> EvalSet:
    return EvalSet(history_log.histories(users), target_log.histories(users))


def leave_one_out(log: InteractionLog, min_length: int = 3) -> Split:
    """Last event of each user = test target, second last = validation target, the rest = train.

    Users with fewer than ``min_length`` (>= 3) events stay wholly in train and are not evaluated.
    Test histories include the validation event (it precedes the test target), as in SASRec,
    BERT4Rec and RecBole.
    """
    if min_length < 3:
        raise ValueError(f"min_length must be >= 3 for leave-one-out, got {min_length}")
    from_end = _rank_from_end(log)
    lengths = np.bincount(log.user, minlength=log.n_users + 1)
    evaluated = lengths[log.user] >= min_length
    train = log.mask(~evaluated | (from_end >= 2))
    before_test = log.mask(~evaluated | (from_end >= 1))
    users = np.flatnonzero(lengths >= min_length).astype(np.int64)
    users = users[users > 0]
    valid = _eval_set(train, log.mask(evaluated & (from_end == 1)), users)
    test = _eval_set(before_test, log.mask(evaluated & (from_end == 0)), users)
    protocol = {"split": "leave-one-out", "min_length": min_length, "evaluated_users": int(users.size)}
    return Split(train, valid, test, protocol)


def to_microseconds(t: datetime | int) -> int:
    """Datetime (naive = UTC) or microseconds -> microseconds since epoch."""
    if isinstance(t, datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        # Integer arithmetic: ``timestamp() * 1e6`` loses microseconds in float past about 2^53 us.
        return (t - _EPOCH) // timedelta(microseconds=1)
    return int(t)


def _distinct_targets(log: InteractionLog) -> InteractionLog:
    """First occurrence of each (user, item): a target is found once, however often it recurs."""
    key = log.user * (log.n_items + 1) + log.item
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(log), dtype=bool)
    keep[first] = True
    return log.mask(keep)


def temporal_split(
    log: InteractionLog, test_start: datetime | int, valid_start: datetime | int | None = None
) -> Split:
    """Global split at T: train before ``valid_start`` (or T), validate on [valid_start, T), test from T.

    Evaluated users are those with at least one event before the period and one inside it; their
    targets are the distinct items of the period. Users with no earlier events are cold-start and are
    left out of this protocol (say so in results).
    """
    t_test = to_microseconds(test_start)
    t_valid = t_test if valid_start is None else to_microseconds(valid_start)
    if t_valid > t_test:
        raise ValueError("valid_start must not be after test_start")
    train = log.mask(log.ts < t_valid)
    before_test = log.mask(log.ts < t_test)

    def period(history: InteractionLog, start: int, end: int | None) -> EvalSet:
        inside = (log.ts >= start) if end is None else ((log.ts >= start) & (log.ts < end))
        targets = _distinct_targets(log.mask(inside))
        has_history = np.bincount(history.user, minlength=log.n_users + 1) > 0
        has_target = np.bincount(targets.user, minlength=log.n_users + 1) > 0
        users = np.flatnonzero(has_history & has_target).astype(np.int64)
        return _eval_set(history, targets, users)

    valid = period(train, t_valid, t_test)
    test = period(before_test, t_test, None)
    protocol = {
        "split": "global-temporal",
        "valid_start_us": t_valid,
        "test_start_us": t_test,
        "evaluated_users": len(test),
    }
    return Split(train, valid, test, protocol)


def _drop_items(histories: Histories, cold: NDArray[np.bool_]) -> Histories:
    keep = ~cold[histories.items]
    counts = np.bincount(histories.row_index()[keep], minlength=len(histories))
    offsets = np.zeros(len(histories) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    ts = None if histories.ts is None else histories.ts[keep]
    event = None if histories.event is None else histories.event[keep]
    return Histories(histories.user, offsets, histories.items[keep], ts, event)


def item_cold_start(split: Split, cold_items: NDArray[np.int64]) -> Split:
    """Hold ``cold_items`` out of training: the model never sees them, then must rank them.

    Train loses every event of a cold item; validation keeps its users but not cold items (as
    histories or targets); test keeps only users whose target is a cold item, with their histories
    as they are (a shopper may have met a new item elsewhere only through its text). Only a model
    that scores items from their content can find these targets; popularity cannot.
    """
    n_items = split.train.n_items
    cold = np.zeros(n_items + 1, dtype=bool)
    cold[np.asarray(cold_items, dtype=np.int64)] = True
    train = split.train.mask(~cold[split.train.item])
    valid_hist = _drop_items(split.valid.histories, cold)
    valid_tgt = _drop_items(split.valid.targets, cold)
    rows = np.flatnonzero(valid_tgt.lengths() > 0).astype(np.int64)
    valid = EvalSet(valid_hist.take(rows), valid_tgt.take(rows))
    tgt = split.test.targets
    hits = np.bincount(tgt.row_index()[cold[tgt.items]], minlength=len(tgt)) > 0
    test_rows = np.flatnonzero(hits).astype(np.int64)
    test = EvalSet(split.test.histories.take(test_rows), tgt.take(test_rows))
    protocol = {
        **split.protocol,
        "cold_start": "items",
        "cold_items": int(cold.sum()),
        "evaluated_users": len(test),
    }
    return Split(train, valid, test, protocol)
