"""encode_events, Histories (CSR batches) and InteractionLog on hand-made cases."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from driftrec.data.idmap import IdMap
from driftrec.data.interactions import Histories, InteractionLog, encode_events
from driftrec.data.schema import EVENT_CODE


def _events(rows: list[tuple[str, str, int, str]]) -> pl.DataFrame:
    """(user, item, second, event) -> canonical-ish frame; value = row number, to follow rows."""
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "ts": [datetime.fromtimestamp(r[2], UTC) for r in rows],
            "event": [r[3] for r in rows],
            "value": [float(i) for i in range(len(rows))],
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )


ROWS = [
    ("bob", "i1", 30, "view"),  # row 0
    ("amy", "i2", 20, "click"),  # row 1
    ("bob", "i3", 10, "cart"),  # row 2
    ("amy", "i1", 20, "purchase"),  # row 3: same ts as row 1, must stay after it
    ("bob", "i2", 30, "view"),  # row 4: same ts as row 0, must stay after it
    ("amy", "i3", 5, "view"),  # row 5
]


def test_encode_events_sorts_by_user_then_ts_stably() -> None:
    log, users, items = encode_events(_events(ROWS))
    assert users.ids.to_list() == ["bob", "amy"]  # dense ids by first appearance
    assert items.ids.to_list() == ["i1", "i2", "i3"]
    assert (log.n_users, log.n_items, len(log)) == (2, 3, 6)
    # bob (1): rows 2 (t=10), 0 (t=30), 4 (t=30);  amy (2): rows 5 (t=5), 1 (t=20), 3 (t=20)
    np.testing.assert_array_equal(log.value, [2, 0, 4, 5, 1, 3])
    np.testing.assert_array_equal(log.user, [1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(log.item, [3, 1, 2, 3, 2, 1])
    np.testing.assert_array_equal(log.ts, np.array([10, 30, 30, 5, 20, 20]) * 1_000_000)
    codes = [EVENT_CODE[e] for e in ("cart", "view", "view", "view", "click", "purchase")]
    np.testing.assert_array_equal(log.event, codes)
    assert (log.user.dtype, log.item.dtype, log.ts.dtype, log.event.dtype, log.value.dtype) == (
        np.int64,
        np.int64,
        np.int64,
        np.int8,
        np.float32,
    )


def test_encode_events_missing_value_is_nan() -> None:
    frame = _events(ROWS[:2]).with_columns(pl.lit(None, dtype=pl.Float64).alias("value"))
    log, _, _ = encode_events(frame)
    assert np.isnan(log.value).all()


def test_encode_events_with_given_maps_drops_unknown_ids() -> None:
    users = IdMap.build(pl.Series(["amy"]))
    items = IdMap.build(pl.Series(["i3", "i1"]))
    log, u, i = encode_events(_events(ROWS), users=users, items=items)
    assert u is users and i is items
    # amy's rows with known items: row 5 (i3, t=5), row 3 (i1, t=20); bob and i2 are dropped
    np.testing.assert_array_equal(log.value, [5, 3])
    np.testing.assert_array_equal(log.item, [1, 2])
    assert (log.n_users, log.n_items) == (1, 2)


def test_encode_events_with_empty_given_map_drops_everything() -> None:
    empty = IdMap.build(pl.Series([], dtype=pl.String))
    log, users, _ = encode_events(_events(ROWS), users=empty)
    assert users is empty
    assert len(log) == 0 and log.n_users == 0


def test_encode_events_rejects_unknown_event_types() -> None:
    with pytest.raises(ValueError, match="1 events have types outside"):
        encode_events(_events([("a", "i", 1, "view"), ("a", "j", 2, "teleport")]))


# --- Histories -------------------------------------------------------------------------------

H = Histories.from_lists([[5, 6, 7], [], [8], [1, 2, 3, 4]], user=[10, 11, 12, 13])


def test_from_lists_layout() -> None:
    np.testing.assert_array_equal(H.offsets, [0, 3, 3, 4, 8])
    np.testing.assert_array_equal(H.items, [5, 6, 7, 8, 1, 2, 3, 4])
    np.testing.assert_array_equal(H.user, [10, 11, 12, 13])
    np.testing.assert_array_equal(H.lengths(), [3, 0, 1, 4])
    assert len(H) == 4
    np.testing.assert_array_equal(H.sequence(3), [1, 2, 3, 4])
    assert H.sequence(1).size == 0
    np.testing.assert_array_equal(Histories.from_lists([[1]]).user, [0])


def test_row_index() -> None:
    np.testing.assert_array_equal(H.row_index(), [0, 0, 0, 2, 3, 3, 3, 3])


@pytest.mark.parametrize(
    ("rows", "users", "sequences"),
    [
        ([3, 0], [13, 10], [[1, 2, 3, 4], [5, 6, 7]]),
        ([1, 2], [11, 12], [[], [8]]),
        ([2, 2], [12, 12], [[8], [8]]),
        ([], [], []),
    ],
)
def test_take(rows: list[int], users: list[int], sequences: list[list[int]]) -> None:
    hist = Histories(H.user, H.offsets, H.items, ts=H.items * 100, event=(H.items % 3).astype(np.int8))
    sub = hist.take(np.array(rows, dtype=np.int64))
    np.testing.assert_array_equal(sub.user, users)
    assert [sub.sequence(b).tolist() for b in range(len(sub))] == sequences
    flat = [i for s in sequences for i in s]
    assert sub.ts is not None and sub.event is not None
    np.testing.assert_array_equal(sub.ts, np.array(flat, dtype=np.int64) * 100)
    np.testing.assert_array_equal(sub.event, np.array(flat, dtype=np.int64) % 3)
    assert H.take(np.array(rows, dtype=np.int64)).ts is None


def test_last_right_aligns_and_pads_left() -> None:
    items, mask = H.last(3)
    np.testing.assert_array_equal(items, [[5, 6, 7], [0, 0, 0], [0, 0, 8], [2, 3, 4]])
    np.testing.assert_array_equal(mask, items > 0)
    items5, _ = H.last(5)
    np.testing.assert_array_equal(items5[0], [0, 0, 5, 6, 7])
    np.testing.assert_array_equal(items5[3], [0, 1, 2, 3, 4])


def test_to_csr_is_binary_and_sized_by_catalogue() -> None:
    mat = Histories.from_lists([[3, 1, 3], [], [2]]).to_csr(n_items=4)
    assert mat.shape == (3, 5)
    np.testing.assert_array_equal(mat.toarray(), [[0, 1, 0, 1, 0], [0, 0, 0, 0, 0], [0, 0, 1, 0, 0]])


@pytest.mark.parametrize(
    ("offsets", "items", "message"),
    [
        ([0, 1], [1], "offsets must have one entry more than user"),
        ([0, 1, 3], [1, 2], r"offsets\[-1\] must equal len\(items\)"),
    ],
)
def test_histories_validates_shapes(offsets: list[int], items: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Histories(np.array([1, 2]), np.array(offsets), np.array(items))


# --- InteractionLog --------------------------------------------------------------------------


def _log() -> InteractionLog:
    # user 1: items 2, 2, 1; user 2: none; user 3: item 3
    return InteractionLog(
        user=np.array([1, 1, 1, 3]),
        item=np.array([2, 2, 1, 3]),
        ts=np.array([1, 2, 3, 1]),
        event=np.zeros(4, dtype=np.int8),
        value=np.array([1.0, 2.0, 0.5, 4.0], dtype=np.float32),
        n_users=3,
        n_items=4,
    )


def test_user_offsets_and_histories() -> None:
    log = _log()
    np.testing.assert_array_equal(log.user_offsets(), [0, 0, 3, 3, 4])
    full = log.histories()
    np.testing.assert_array_equal(full.user, [1, 2, 3])
    assert [full.sequence(b).tolist() for b in range(3)] == [[2, 2, 1], [], [3]]
    assert full.ts is not None
    np.testing.assert_array_equal(full.ts, [1, 2, 3, 1])
    sub = log.histories(np.array([3, 1]))
    np.testing.assert_array_equal(sub.user, [3, 1])
    assert [sub.sequence(b).tolist() for b in range(2)] == [[3], [2, 2, 1]]


@pytest.mark.parametrize("users", [[0], [4], [1, 5]])
def test_histories_rejects_unknown_users(users: list[int]) -> None:
    with pytest.raises(ValueError, match=r"user ids must lie in 1\.\.3"):
        _log().histories(np.array(users))


def test_matrix_binary_and_weighted() -> None:
    log = _log()
    binary = log.matrix().toarray()
    assert binary.shape == (4, 5)  # (n_users+1, n_items+1), row/column 0 padding
    expected = np.zeros((4, 5), dtype=np.float32)
    expected[1, 2] = expected[1, 1] = expected[3, 3] = 1.0
    np.testing.assert_array_equal(binary, expected)
    weighted = log.matrix(weights=log.value, binary=False).toarray()
    expected[1, 2] = 1.0 + 2.0  # the repeated (1, 2) pair sums its weights
    expected[1, 1], expected[3, 3] = 0.5, 4.0
    np.testing.assert_array_equal(weighted, expected)
    counts = log.matrix(binary=False).toarray()
    assert counts[1, 2] == 2.0


def test_mask_keeps_id_spaces_and_popularity() -> None:
    log = _log()
    kept = log.mask(np.array([True, False, True, False]))
    assert (kept.n_users, kept.n_items) == (3, 4)
    np.testing.assert_array_equal(kept.user, [1, 1])
    np.testing.assert_array_equal(kept.item, [2, 1])
    np.testing.assert_array_equal(kept.ts, [1, 3])
    np.testing.assert_array_equal(kept.value, [1.0, 0.5])
    np.testing.assert_array_equal(log.item_popularity(), [0, 1, 2, 1, 0])
