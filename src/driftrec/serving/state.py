"""Live user state: each user's history as the model was trained on it plus every event stored since.

The trained histories stay in their compact CSR arrays; only events that arrive while serving are kept
per user, so memory grows with live traffic, not with the training log. On restart the service replays
the store into a fresh ``LiveState`` (``driftrec.serving.service``), which gives the same state.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from driftrec.data.idmap import IdMap
from driftrec.data.interactions import Histories
from driftrec.serving.rerank import UserState

__all__ = ["LiveState"]


@dataclass
class _Recent:
    items: list[int] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    event: list[int] = field(default_factory=list)


class LiveState:
    """Thread-safe map user id -> history (trained part + live events, at most ``max_events`` newest)."""

    def __init__(self, known: Histories, users: IdMap, max_events: int = 10_000) -> None:
        self._known = known
        self._row: dict[str, int] = {u: k for k, u in enumerate(users.ids.to_list())}
        self._recent: dict[str, _Recent] = {}
        self._forgotten: set[str] = set()
        self._max = max_events
        self._lock = threading.Lock()
        self.applied_events = 0

    def dense_user(self, user_id: str) -> int:
        """The model's dense id of a user it was trained on (0 for new or forgotten users)."""
        if user_id in self._forgotten:
            return 0
        row = self._row.get(user_id)
        return 0 if row is None else row + 1

    def exists(self, user_id: str) -> bool:
        return self.dense_user(user_id) > 0 or user_id in self._recent

    def apply(self, user_id: str, items: list[int], ts: list[int], event: list[int]) -> None:
        """Append events (already stored) to a user's history."""
        with self._lock:
            recent = self._recent.setdefault(user_id, _Recent())
            recent.items.extend(items)
            recent.ts.extend(ts)
            recent.event.extend(event)
            if len(recent.items) > self._max:
                del recent.items[: -self._max], recent.ts[: -self._max], recent.event[: -self._max]
            self.applied_events += len(items)

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._recent.pop(user_id, None)
            if user_id in self._row:
                self._forgotten.add(user_id)

    def view(self, user_id: str) -> UserState:
        """The user's whole current history, oldest first (empty for a user never seen)."""
        dense = self.dense_user(user_id)
        parts_items, parts_ts, parts_event = [], [], []
        if dense:
            row = dense - 1
            lo, hi = int(self._known.offsets[row]), int(self._known.offsets[row + 1])
            parts_items.append(self._known.items[lo:hi])
            ts = self._known.ts
            parts_ts.append(ts[lo:hi] if ts is not None else np.full(hi - lo, -1, np.int64))
            ev = self._known.event
            parts_event.append(ev[lo:hi].astype(np.int8) if ev is not None else np.full(hi - lo, -1, np.int8))
        with self._lock:
            recent = self._recent.get(user_id)
            if recent is not None:
                parts_items.append(np.array(recent.items, dtype=np.int64))
                parts_ts.append(np.array(recent.ts, dtype=np.int64))
                parts_event.append(np.array(recent.event, dtype=np.int8))
        if not parts_items:
            return UserState(
                user_id, False, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8)
            )
        items = np.concatenate(parts_items).astype(np.int64, copy=False)
        ts_all = np.concatenate(parts_ts).astype(np.int64, copy=False)
        ev_all = np.concatenate(parts_event).astype(np.int8, copy=False)
        if items.shape[0] > self._max:
            items, ts_all, ev_all = items[-self._max :], ts_all[-self._max :], ev_all[-self._max :]
        return UserState(user_id, True, items, ts_all, ev_all)

    @property
    def n_users(self) -> int:
        with self._lock:
            new = sum(1 for u in self._recent if u not in self._row)
        return len(self._row) - len(self._forgotten) + new
