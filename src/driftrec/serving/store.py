"""The event store: every accepted event is committed here before the API acknowledges it.

SQLite (WAL journal) by default: zero set-up, one file. ``synchronous=FULL`` is the default because in
WAL mode it fsyncs the log on every commit, so an acknowledged event survives a power cut, not only a
killed process; ``NORMAL`` (survives a process crash, not a power cut) is a setting for those who prefer
throughput. PostgreSQL is used when the location is a ``postgresql://`` URL (needs ``psycopg``).
Schema changes are numbered migrations applied in order and recorded in ``schema_version``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple, Protocol

import numpy as np

__all__ = [
    "MIGRATIONS",
    "EventRow",
    "EventStore",
    "ItemRow",
    "PostgresEventStore",
    "SQLiteEventStore",
    "open_store",
]

log = logging.getLogger(__name__)


class EventRow(NamedTuple):
    """One stored event; ``ts`` in microseconds since the epoch (UTC); ``seq`` is 0 before it is stored."""

    user_id: str
    item_id: str
    event: str
    ts: int
    value: float | None = None
    session_id: str | None = None
    seq: int = 0


@dataclass(frozen=True)
class ItemRow:
    """An item added at runtime, with its text vector so that a restart need not re-encode it."""

    item_id: str
    title: str | None
    description: str | None
    category: str | None
    brand: str | None
    price: float | None
    vector: np.ndarray  # (d,) float32


#: Version -> statements. Append new versions; never edit an applied one. ``{auto}`` is the dialect's
#: auto-increment key, ``{blob}`` its binary type.
MIGRATIONS: Final[tuple[tuple[int, tuple[str, ...]], ...]] = (
    (
        1,
        (
            "CREATE TABLE events (seq {auto}, user_id TEXT NOT NULL, item_id TEXT NOT NULL, "
            "event TEXT NOT NULL, ts BIGINT NOT NULL, value DOUBLE PRECISION, session_id TEXT, "
            "received_us BIGINT NOT NULL)",
            "CREATE INDEX events_user ON events (user_id, seq)",
        ),
    ),
    (
        2,
        (
            "CREATE TABLE items (seq {auto}, item_id TEXT NOT NULL UNIQUE, title TEXT, description TEXT, "
            "category TEXT, brand TEXT, price DOUBLE PRECISION, vector {blob} NOT NULL, "
            "added_us BIGINT NOT NULL)",
        ),
    ),
    (3, ("CREATE TABLE forgotten (user_id TEXT PRIMARY KEY, forgotten_us BIGINT NOT NULL)",)),
)


class EventStore(Protocol):
    """What the service needs from a store; every write is durable when the call returns."""

    schema_version: int

    def append(self, events: Sequence[EventRow]) -> list[int]: ...

    def iter_events(self, batch: int = 10_000) -> Iterator[EventRow]: ...

    def user_events(self, user_id: str) -> list[EventRow]: ...

    def count_events(self) -> int: ...

    def forget_user(self, user_id: str) -> int: ...

    def forgotten(self) -> set[str]: ...

    def add_item(self, item: ItemRow) -> None: ...

    def items(self) -> list[ItemRow]: ...

    def close(self) -> None: ...


def _now_us() -> int:
    return time.time_ns() // 1000


class _SQLStore:
    """Dialect-neutral SQL; subclasses supply the connection, the placeholder and the DDL words."""

    placeholder = "?"
    auto = "INTEGER PRIMARY KEY AUTOINCREMENT"
    blob = "BLOB"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.schema_version = 0

    # -- connection hooks
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _begin(self) -> None:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.placeholder)

    def _transaction(self, work: Any) -> Any:
        with self._lock:
            self._begin()
            try:
                out = work()
            except BaseException:
                self._rollback()
                raise
            self._commit()
            return out

    # -- migrations
    def migrate(self) -> int:
        """Apply the migrations this database lacks, each in its own transaction; returns the version."""
        with self._lock:
            self._begin()
            self._execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = self._execute("SELECT MAX(version) FROM schema_version").fetchone()
            self._commit()
        current = int(row[0]) if row and row[0] is not None else 0
        for version, statements in MIGRATIONS:
            if version <= current:
                continue

            def apply(statements: tuple[str, ...] = statements, version: int = version) -> None:
                for statement in statements:
                    self._execute(statement.format(auto=self.auto, blob=self.blob))
                self._execute(self._sql("INSERT INTO schema_version (version) VALUES (?)"), (version,))

            self._transaction(apply)
            log.info("event store migrated to schema version %d", version)
            current = version
        self.schema_version = current
        return current

    # -- events
    def append(self, events: Sequence[EventRow]) -> list[int]:
        """Insert in one transaction; returns the sequence numbers. Durable when it returns."""
        if not events:
            return []
        received = _now_us()
        sql = self._sql(
            "INSERT INTO events (user_id, item_id, event, ts, value, session_id, received_us) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)"
        )

        def work() -> list[int]:
            self._executemany(
                sql, [(e.user_id, e.item_id, e.event, e.ts, e.value, e.session_id, received) for e in events]
            )
            # one writer holds the lock, so the batch took the consecutive keys ending at the maximum
            last = int(self._execute("SELECT MAX(seq) FROM events").fetchone()[0])
            return list(range(last - len(events) + 1, last + 1))

        seqs: list[int] = self._transaction(work)
        return seqs

    def iter_events(self, batch: int = 10_000) -> Iterator[EventRow]:
        """All events in arrival order, read in pages (the store may exceed memory)."""
        last = 0
        sql = self._sql(
            "SELECT user_id, item_id, event, ts, value, session_id, seq FROM events "
            "WHERE seq > ? ORDER BY seq LIMIT ?"
        )
        while True:
            with self._lock:
                rows = self._execute(sql, (last, batch)).fetchall()
            if not rows:
                return
            for row in rows:
                yield EventRow(*row)
            last = int(rows[-1][6])

    def user_events(self, user_id: str) -> list[EventRow]:
        sql = self._sql(
            "SELECT user_id, item_id, event, ts, value, session_id, seq FROM events "
            "WHERE user_id = ? ORDER BY seq"
        )
        with self._lock:
            return [EventRow(*row) for row in self._execute(sql, (user_id,)).fetchall()]

    def count_events(self) -> int:
        with self._lock:
            return int(self._execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def forget_user(self, user_id: str) -> int:
        """Delete the user's events and remember (only) that the id was forgotten; returns rows deleted."""

        def work() -> int:
            cursor = self._execute(self._sql("DELETE FROM events WHERE user_id = ?"), (user_id,))
            self._execute(self._sql("DELETE FROM forgotten WHERE user_id = ?"), (user_id,))
            self._execute(
                self._sql("INSERT INTO forgotten (user_id, forgotten_us) VALUES (?, ?)"), (user_id, _now_us())
            )
            return int(cursor.rowcount)

        deleted: int = self._transaction(work)
        return deleted

    def forgotten(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._execute("SELECT user_id FROM forgotten").fetchall()}

    # -- items
    def add_item(self, item: ItemRow) -> None:
        vector = np.ascontiguousarray(item.vector, dtype=np.float32).tobytes()
        sql = self._sql(
            "INSERT INTO items (item_id, title, description, category, brand, price, vector, added_us) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        params = (
            item.item_id,
            item.title,
            item.description,
            item.category,
            item.brand,
            item.price,
            vector,
            _now_us(),
        )
        self._transaction(lambda: self._execute(sql, params))

    def items(self) -> list[ItemRow]:
        sql = "SELECT item_id, title, description, category, brand, price, vector FROM items ORDER BY seq"
        with self._lock:
            rows = self._execute(sql).fetchall()
        return [
            ItemRow(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                np.frombuffer(bytes(row[6]), np.float32).copy(),
            )
            for row in rows
        ]


class SQLiteEventStore(_SQLStore):
    """One SQLite file in WAL mode; one connection under a lock (SQLite serialises writes anyway)."""

    def __init__(self, path: str | Path, synchronous: Literal["FULL", "NORMAL"] = "FULL") -> None:
        super().__init__()
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', got {synchronous!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(f"{self.path}: could not switch SQLite to WAL mode (got {mode!r})")
        self._conn.execute(f"PRAGMA synchronous={synchronous}")
        self.synchronous = synchronous
        self.migrate()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql, tuple(params))

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def _begin(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresEventStore(_SQLStore):
    """PostgreSQL through psycopg 3; a commit returns after the server's WAL flush (synchronous_commit)."""

    placeholder = "%s"
    auto = "BIGSERIAL PRIMARY KEY"
    blob = "BYTEA"

    def __init__(self, url: str) -> None:
        super().__init__()
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError("a PostgreSQL URL needs psycopg: pip install 'psycopg[binary]'") from exc
        self._conn = psycopg.connect(url, autocommit=True)
        self.migrate()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql, tuple(params) if params else None)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(sql, rows)

    def _begin(self) -> None:
        self._conn.execute("BEGIN")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_store(location: str | Path, synchronous: Literal["FULL", "NORMAL"] = "FULL") -> EventStore:
    """A ``postgresql://`` (or ``postgres://``) URL opens PostgreSQL; anything else is a SQLite file path."""
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresEventStore(text)
    return SQLiteEventStore(text, synchronous)
