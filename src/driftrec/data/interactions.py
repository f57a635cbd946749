"""Encoded interaction arrays: the form models and evaluators consume.

Frames are for people and I/O; models want flat integer arrays sorted by (user, time).
``InteractionLog`` is that, and ``Histories`` is a batch of users' sequences in CSR layout
(offsets + flat items), which scales to millions of users without Python lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp
from numpy.typing import NDArray

from driftrec.data.idmap import IdMap
from driftrec.data.schema import EVENT_CODE, EVENT_TYPES

__all__ = ["Histories", "InteractionLog", "encode_events"]


@dataclass(frozen=True)
class Histories:
    """A batch of users' item sequences in time order.

    user:    (B,)   int64 dense user ids; 0 = a user the model never saw (anonymous history)
    offsets: (B+1,) int64; user b's items are ``items[offsets[b]:offsets[b+1]]``
    items:   (L,)   int64 dense item ids (never 0)
    ts:      (L,)   int64 microseconds since epoch, or None
    event:   (L,)   int8 codes into EVENT_TYPES, or None
    """

    user: NDArray[np.int64]
    offsets: NDArray[np.int64]
    items: NDArray[np.int64]
    ts: NDArray[np.int64] | None = None
    event: NDArray[np.int8] | None = None

    def __post_init__(self) -> None:
        if self.offsets.shape != (self.user.shape[0] + 1,):
            raise ValueError("offsets must have one entry more than user")
        if int(self.offsets[-1]) != self.items.shape[0]:
            raise ValueError("offsets[-1] must equal len(items)")

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def lengths(self) -> NDArray[np.int64]:
        return np.diff(self.offsets)

    def sequence(self, b: int) -> NDArray[np.int64]:
        return self.items[self.offsets[b] : self.offsets[b + 1]]

    def row_index(self) -> NDArray[np.int64]:
        """Batch row of every entry of ``items`` (for scatter operations)."""
        return np.repeat(np.arange(len(self), dtype=np.int64), self.lengths())

    def take(self, rows: NDArray[np.int64]) -> Histories:
        """Sub-batch of the given rows (vectorised gather)."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.lengths()[rows]
        offsets = np.zeros(rows.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        gather = _ranges(self.offsets[rows], lengths)
        return Histories(
            self.user[rows],
            offsets,
            self.items[gather],
            None if self.ts is None else self.ts[gather],
            None if self.event is None else self.event[gather],
        )

    def last(self, n: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Right-aligned (B, n) matrix of the last n items (0-padded on the left) and its mask."""
        lengths = np.minimum(self.lengths(), n)
        out = np.zeros((len(self), n), dtype=np.int64)
        rows = np.repeat(np.arange(len(self)), lengths)
        cols = _ranges(n - lengths, lengths)
        out[rows, cols] = self.items[_ranges(self.offsets[1:] - lengths, lengths)]
        return out, out > 0

    def to_csr(self, n_items: int) -> sp.csr_matrix:
        """(B, n_items+1) binary matrix of items in each history (column 0 unused)."""
        data = np.ones(self.items.shape[0], dtype=np.float32)
        mat = sp.csr_matrix((data, self.items, self.offsets), shape=(len(self), n_items + 1))
        mat.sum_duplicates()
        mat.data[:] = 1.0
        return mat

    @classmethod
    def from_lists(cls, sequences: list[list[int]], user: list[int] | None = None) -> Histories:
        """Convenience for small batches and tests."""
        lengths = np.array([len(s) for s in sequences], dtype=np.int64)
        offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        items = np.fromiter((i for s in sequences for i in s), dtype=np.int64, count=int(offsets[-1]))
        users = np.zeros(len(sequences), dtype=np.int64) if user is None else np.asarray(user, dtype=np.int64)
        return cls(users, offsets, items)


def _ranges(starts: NDArray[np.int64], lengths: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenation of ``arange(s, s+l)`` for every (s, l), without a Python loop."""
    out_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    total = int(lengths.sum())
    return np.arange(total, dtype=np.int64) + np.repeat(starts - out_starts, lengths)


@dataclass(frozen=True)
class InteractionLog:
    """Encoded events sorted by (user, ts, original order).

    user:  (N,) int64 dense user ids in 1..n_users
    item:  (N,) int64 dense item ids in 1..n_items
    ts:    (N,) int64 microseconds since epoch
    event: (N,) int8 codes into EVENT_TYPES
    value: (N,) float32 (rating, quantity...; NaN when absent)
    """

    user: NDArray[np.int64]
    item: NDArray[np.int64]
    ts: NDArray[np.int64]
    event: NDArray[np.int8]
    value: NDArray[np.float32]
    n_users: int
    n_items: int

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def user_offsets(self) -> NDArray[np.int64]:
        """(n_users+2,) offsets: user u's rows are ``[off[u], off[u+1])`` (user 0 is empty)."""
        counts = np.bincount(self.user, minlength=self.n_users + 1)
        offsets = np.zeros(self.n_users + 2, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return offsets

    def histories(self, users: NDArray[np.int64] | None = None) -> Histories:
        """Time-ordered sequences of the given users (all users 1..n_users by default)."""
        off = self.user_offsets()
        all_users = np.arange(1, self.n_users + 1, dtype=np.int64)
        full = Histories(all_users, off[1:] - off[1], self.item, self.ts, self.event)
        if users is None:
            return full
        users = np.asarray(users, dtype=np.int64)
        if users.size and (users.min() < 1 or users.max() > self.n_users):
            raise ValueError(f"user ids must lie in 1..{self.n_users}")
        return full.take(users - 1)

    def matrix(self, weights: NDArray[np.float32] | None = None, binary: bool = True) -> sp.csr_matrix:
        """(n_users+1, n_items+1) user-item matrix; row/column 0 are padding."""
        data = np.ones(len(self), dtype=np.float32) if weights is None else weights.astype(np.float32)
        mat = sp.csr_matrix(
            (data, (self.user, self.item)), shape=(self.n_users + 1, self.n_items + 1), dtype=np.float32
        )
        mat.sum_duplicates()
        if binary:
            mat.data[:] = 1.0
        return mat

    def mask(self, keep: NDArray[np.bool_]) -> InteractionLog:
        """Rows where ``keep`` holds; id spaces unchanged (so splits share one encoding)."""
        return InteractionLog(
            self.user[keep],
            self.item[keep],
            self.ts[keep],
            self.event[keep],
            self.value[keep],
            self.n_users,
            self.n_items,
        )

    def item_popularity(self) -> NDArray[np.int64]:
        return np.bincount(self.item, minlength=self.n_items + 1).astype(np.int64)


def encode_events(
    events: pl.DataFrame, users: IdMap | None = None, items: IdMap | None = None
) -> tuple[InteractionLog, IdMap, IdMap]:
    """Encode canonical events with (new or given) id maps; rows with ids outside given maps are dropped.

    Sorting is stable on (user, ts) so same-timestamp events keep their file order, which is the
    only order order-only datasets have.
    """
    events = events.select("user_id", "item_id", "ts", "event", "value")
    # ``is None``, not ``or``: an empty IdMap is falsy but is still a given map (it drops every row).
    user_map = users if users is not None else IdMap.build(events.get_column("user_id"))
    item_map = items if items is not None else IdMap.build(events.get_column("item_id"))
    codes = {name: code for name, code in EVENT_CODE.items()}
    frame = pl.DataFrame(
        {
            "user": user_map.encode(events.get_column("user_id")),
            "item": item_map.encode(events.get_column("item_id")),
            "ts": events.get_column("ts").dt.epoch("us").fill_null(0).to_numpy(),
            "event": events.get_column("event")
            .replace_strict(codes, default=-1, return_dtype=pl.Int8)
            .to_numpy(),
            "value": events.get_column("value").cast(pl.Float32).fill_null(float("nan")).to_numpy(),
        }
    )
    frame = frame.filter((pl.col("user") > 0) & (pl.col("item") > 0))
    bad = frame.filter(pl.col("event") < 0).height
    if bad:
        raise ValueError(f"{bad} events have types outside {EVENT_TYPES}; validate before encoding")
    frame = frame.sort(["user", "ts"], maintain_order=True)
    log = InteractionLog(
        frame.get_column("user").to_numpy().astype(np.int64),
        frame.get_column("item").to_numpy().astype(np.int64),
        frame.get_column("ts").to_numpy().astype(np.int64),
        frame.get_column("event").to_numpy().astype(np.int8),
        frame.get_column("value").to_numpy().astype(np.float32),
        len(user_map),
        len(item_map),
    )
    return log, user_map, item_map
