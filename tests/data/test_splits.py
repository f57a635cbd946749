"""Splits never let a future event into what the model sees (leave-one-out and global temporal)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftrec.data.interactions import Histories, InteractionLog, encode_events
from driftrec.data.splits import EvalSet, leave_one_out, temporal_split, to_microseconds

N_USERS, N_ITEMS = 6, 8
EVENTS = st.lists(
    st.tuples(st.integers(1, N_USERS), st.integers(1, N_ITEMS), st.integers(0, 20)), max_size=60
)


def _log(events: list[tuple[int, int, int]]) -> InteractionLog:
    """Encoded log sorted by (user, ts), ties in input order (what encode_events produces)."""
    arr = np.array(events, dtype=np.int64).reshape(-1, 3)
    order = np.lexsort((arr[:, 2], arr[:, 0]))  # lexsort is stable
    arr = arr[order]
    n = arr.shape[0]
    return InteractionLog(
        arr[:, 0].copy(),
        arr[:, 1].copy(),
        arr[:, 2].copy(),
        np.zeros(n, dtype=np.int8),
        np.arange(n, dtype=np.float32),  # the row's position in the sorted log
        N_USERS,
        N_ITEMS,
    )


def _rows(h: Histories) -> list[list[int]]:
    return [h.sequence(b).tolist() for b in range(len(h))]


def _user_rows(log: InteractionLog, u: int) -> np.ndarray:
    return np.flatnonzero(log.user == u)


# --- leave-one-out ---------------------------------------------------------------------------


def test_leave_one_out_hand_case() -> None:
    t = [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3, 4)]
    frame = pl.DataFrame(
        {
            "user_id": ["A", "A", "B", "A", "C", "B", "C", "A", "C"],
            "item_id": ["i1", "i2", "i5", "i3", "i2", "i6", "i3", "i4", "i1"],
            # C's three events share one timestamp: file order decides (i2, i3, i1)
            "ts": [t[0], t[1], t[0], t[2], t[0], t[1], t[0], t[3], t[0]],
            "event": ["view"] * 9,
        }
    )
    log, users, items = encode_events(frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("value")))
    assert users.ids.to_list() == ["A", "B", "C"]
    assert items.ids.to_list() == ["i1", "i2", "i5", "i3", "i6", "i4"]
    i1, i2, i5, i3, i6, i4 = 1, 2, 3, 4, 5, 6
    split = leave_one_out(log)
    # B has 2 events: wholly in train, not evaluated
    np.testing.assert_array_equal(split.valid.histories.user, [1, 3])
    np.testing.assert_array_equal(split.test.histories.user, [1, 3])
    assert _rows(split.train.histories()) == [[i1, i2], [i5, i6], [i2]]
    assert _rows(split.valid.histories) == [[i1, i2], [i2]]
    assert _rows(split.valid.targets) == [[i3], [i3]]
    # test histories include the validation item
    assert _rows(split.test.histories) == [[i1, i2, i3], [i2, i3]]
    assert _rows(split.test.targets) == [[i4], [i1]]
    assert split.protocol == {"split": "leave-one-out", "min_length": 3, "evaluated_users": 2}


@settings(max_examples=80, deadline=None)
@given(events=EVENTS, min_length=st.integers(3, 5))
def test_leave_one_out_property(events: list[tuple[int, int, int]], min_length: int) -> None:
    log = _log(events)
    split = leave_one_out(log, min_length)
    train = split.train
    assert (train.n_users, train.n_items) == (N_USERS, N_ITEMS)
    evaluated = [u for u in range(1, N_USERS + 1) if _user_rows(log, u).size >= min_length]
    for es in (split.valid, split.test):
        np.testing.assert_array_equal(es.histories.user, evaluated)
        np.testing.assert_array_equal(es.targets.lengths(), np.ones(len(evaluated)))
    for u in range(1, N_USERS + 1):
        rows = _user_rows(log, u)  # the user's events in time order (ties: input order)
        train_pos = train.value[train.user == u]  # positions in the sorted log
        if u not in evaluated:  # short users stay wholly in train
            np.testing.assert_array_equal(train_pos, rows)
            continue
        b = evaluated.index(u)
        valid_pos, test_pos = rows[-2], rows[-1]
        # train = every event strictly before the validation target in (ts, order)
        np.testing.assert_array_equal(train_pos, rows[:-2])
        assert (log.ts[rows[:-2]] <= log.ts[valid_pos]).all() and log.ts[valid_pos] <= log.ts[test_pos]
        assert split.valid.targets.sequence(b).tolist() == [log.item[valid_pos]]
        assert split.test.targets.sequence(b).tolist() == [log.item[test_pos]]
        assert split.valid.histories.sequence(b).tolist() == log.item[rows[:-2]].tolist()
        assert split.test.histories.sequence(b).tolist() == log.item[rows[:-1]].tolist()
        for es in (split.valid, split.test):  # no history event is later than the target
            assert es.histories.ts is not None and es.targets.ts is not None
            h_ts = es.histories.ts[es.histories.offsets[b] : es.histories.offsets[b + 1]]
            assert (h_ts <= es.targets.ts[b]).all()
    assert len(train) + 2 * len(evaluated) == len(log)
    assert split.protocol["evaluated_users"] == len(evaluated)


def test_leave_one_out_rejects_min_length_below_three() -> None:
    with pytest.raises(ValueError, match="min_length must be >= 3 for leave-one-out, got 2"):
        leave_one_out(_log([(1, 1, 0)]), min_length=2)


# --- global temporal split -------------------------------------------------------------------


def test_temporal_split_hand_case() -> None:
    def day(d: int) -> datetime:
        return datetime(2024, 1, d, tzinfo=UTC)

    events = [
        ("A", "i1", day(1)),
        ("A", "i2", day(12)),
        ("A", "i2", day(15)),  # repeat inside the validation period: one target
        ("A", "i3", day(21)),
        ("A", "i1", day(25)),  # re-purchase of a history item: still a target
        ("B", "i4", day(11)),  # B starts inside the validation period: not validated, but tested
        ("B", "i5", day(20)),  # exactly at test_start: belongs to the test period
        ("C", "i6", day(21)),  # cold start: no history before the test period
        ("D", "i1", day(2)),  # history but no target
    ]
    frame = pl.DataFrame(
        {
            "user_id": [e[0] for e in events],
            "item_id": [e[1] for e in events],
            "ts": [e[2] for e in events],
            "event": ["view"] * len(events),
            "value": [None] * len(events),
        },
        schema_overrides={"value": pl.Float64},
    )
    log, users, items = encode_events(frame)
    a, b = 1, 2
    i1, i2, i3, i4, i5 = 1, 2, 3, 4, 5
    split = temporal_split(log, test_start=day(20), valid_start=day(10))
    assert _rows(split.train.histories()) == [[i1], [], [], [i1]]
    np.testing.assert_array_equal(split.valid.histories.user, [a])
    assert _rows(split.valid.histories) == [[i1]]
    assert _rows(split.valid.targets) == [[i2]]
    np.testing.assert_array_equal(split.test.histories.user, [a, b])
    assert _rows(split.test.histories) == [[i1, i2, i2], [i4]]
    assert _rows(split.test.targets) == [[i3, i1], [i5]]
    assert split.protocol == {
        "split": "global-temporal",
        "valid_start_us": to_microseconds(day(10)),
        "test_start_us": to_microseconds(day(20)),
        "evaluated_users": 2,
    }
    assert users.ids.to_list()[:2] == ["A", "B"] and items.ids.to_list()[:5] == ["i1", "i2", "i3", "i4", "i5"]
    # the same split from microseconds and from naive datetimes (read as UTC)
    same = temporal_split(log, to_microseconds(day(20)), datetime(2024, 1, 10))
    assert _rows(same.test.targets) == _rows(split.test.targets)
    assert _rows(same.valid.targets) == _rows(split.valid.targets)


def _expected_period(
    log: InteractionLog, start: int, end: int | None
) -> tuple[list[int], list[list[int]], list[list[int]]]:
    users, hists, targets = [], [], []
    for u in range(1, N_USERS + 1):
        rows = _user_rows(log, u)
        hist = [int(log.item[r]) for r in rows if log.ts[r] < start]
        inside = [int(log.item[r]) for r in rows if log.ts[r] >= start and (end is None or log.ts[r] < end)]
        distinct = list(dict.fromkeys(inside))  # first occurrences, in time order
        if hist and distinct:
            users.append(u)
            hists.append(hist)
            targets.append(distinct)
    return users, hists, targets


@settings(max_examples=80, deadline=None)
@given(events=EVENTS, t_valid=st.integers(0, 21), gap=st.integers(0, 8))
def test_temporal_split_property(events: list[tuple[int, int, int]], t_valid: int, gap: int) -> None:
    log = _log(events)
    t_test = t_valid + gap
    split = temporal_split(log, test_start=t_test, valid_start=t_valid)
    assert (split.train.ts < t_valid).all()
    assert len(split.train) == int((log.ts < t_valid).sum())
    periods: list[tuple[EvalSet, int, int | None]] = [
        (split.valid, t_valid, t_test),
        (split.test, t_test, None),
    ]
    for es, start, end in periods:
        assert es.histories.ts is not None and es.targets.ts is not None
        assert (es.histories.ts < start).all()  # nothing from the period or later in a history
        assert (es.targets.ts >= start).all()
        if end is not None:
            assert (es.targets.ts < end).all()
        users, hists, targets = _expected_period(log, start, end)
        np.testing.assert_array_equal(es.histories.user, users)  # cold-start users are excluded
        assert _rows(es.histories) == hists
        assert _rows(es.targets) == targets
        assert all(len(set(t)) == len(t) for t in targets)
    assert split.protocol["evaluated_users"] == len(split.test)


def test_temporal_split_without_valid_start_has_empty_validation() -> None:
    log = _log([(1, 1, 0), (1, 2, 5), (2, 3, 1), (2, 4, 7)])
    split = temporal_split(log, test_start=5)
    assert len(split.valid) == 0
    assert _rows(split.test.targets) == [[2], [4]]
    assert len(split.train) == 2


def test_temporal_split_rejects_valid_start_after_test_start() -> None:
    with pytest.raises(ValueError, match="valid_start must not be after test_start"):
        temporal_split(_log([(1, 1, 0)]), test_start=5, valid_start=6)


# --- to_microseconds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (123, 123),
        (datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), 1_000_000),
        (datetime(1970, 1, 1, 0, 0, 1), 1_000_000),  # naive = UTC
        (datetime(1970, 1, 1, 2, 0, 1, tzinfo=timezone(timedelta(hours=2))), 1_000_000),
        (datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), -1),
        # far from 1970 the float path (timestamp() * 1e6) gave ...818_864
        (datetime(3475, 1, 15, 12, 27, 57, 818_860, tzinfo=UTC), 47_494_470_477_818_860),
    ],
)
def test_to_microseconds(t: datetime | int, expected: int) -> None:
    assert to_microseconds(t) == expected


@settings(max_examples=100, deadline=None)
@given(t=st.datetimes())
def test_to_microseconds_agrees_with_polars(t: datetime) -> None:
    assert to_microseconds(t) == pl.Series([t]).dt.epoch("us").item()
