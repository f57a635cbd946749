"""The behaviour sequence before an impression: last ``max_len`` events of the user, strictly earlier.

Vectorised with NumPy: the log is sorted by (user, time), so the events of user u before time t are
a contiguous run ending at ``searchsorted``; gathering the last ``max_len`` of every run is one fancy
index. Sequences are left-aligned (oldest first, padding 0 at the end), which is what packed RNNs want.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from driftrec.data.interactions import InteractionLog

__all__ = ["SequenceFeatures", "sequences_before"]


@dataclass(frozen=True)
class SequenceFeatures:
    """items, events: (N, max_len) int64, left-aligned, 0 = padding (events are code + 1);
    lengths: (N,) int64; age_hours: (N, max_len) float32 hours between each event and the impression.
    """

    items: NDArray[np.int64]
    events: NDArray[np.int64]
    lengths: NDArray[np.int64]
    age_hours: NDArray[np.float32]


def _position(log: InteractionLog, user: NDArray[np.int64], ts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Global index of the first event of ``user`` at or after ``ts`` (= end of the strictly-earlier run)."""
    # Rank times jointly so that (user, rank) fits in one int64 key however large the ids.
    all_ts = np.concatenate([log.ts, ts])
    _, inverse = np.unique(all_ts, return_inverse=True)
    width = int(inverse.max(initial=0)) + 2
    ev_key = log.user.astype(np.int64) * width + inverse[: len(log)]
    q_key = user.astype(np.int64) * width + inverse[len(log) :]
    return np.searchsorted(ev_key, q_key, side="left").astype(np.int64)


def sequences_before(
    log: InteractionLog, user: NDArray[np.integer], ts: NDArray[np.integer], max_len: int
) -> SequenceFeatures:
    """Each query's last ``max_len`` events of its user strictly before its ``ts`` (log sorted by user, ts).

    Users outside the log (id 0 or unknown) get empty sequences.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    users = np.asarray(user, dtype=np.int64)
    times = np.asarray(ts, dtype=np.int64)
    user, ts = users, times
    n = users.shape[0]
    end = _position(log, users, times)
    valid_user = (user >= 1) & (user <= log.n_users)
    start_of_user = np.zeros(n, dtype=np.int64)
    off = log.user_offsets()
    start_of_user[valid_user] = off[user[valid_user]]
    end = np.where(valid_user, np.maximum(end, start_of_user), start_of_user)
    lengths = np.minimum(end - start_of_user, max_len)
    begin = end - lengths
    cols = np.arange(max_len, dtype=np.int64)[None, :]
    inside = cols < lengths[:, None]
    index = np.where(inside, begin[:, None] + cols, 0)
    items = np.where(inside, log.item[index] if len(log) else 0, 0).astype(np.int64)
    events = np.where(inside, (log.event[index].astype(np.int64) + 1) if len(log) else 0, 0)
    age = np.where(inside, (ts[:, None] - (log.ts[index] if len(log) else 0)) / 3.6e9, 0.0)
    return SequenceFeatures(items, events.astype(np.int64), lengths, age.astype(np.float32))
