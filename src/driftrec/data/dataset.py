"""A dataset in canonical form: events, optional items and users, and a few facts about it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from driftrec.data.schema import EVENTS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA, conform


@dataclass(frozen=True)
class Dataset:
    """Canonical tables plus metadata.

    ``meta`` records what a reader knows and later stages need, e.g. ``time_resolution``
    (``"seconds"``, ``"days"``, or ``"order"`` when the source only gives order, in which case
    ``ts`` holds a synthetic, strictly increasing time per user) and ``source``.
    """

    name: str
    events: pl.DataFrame
    items: pl.DataFrame | None = None
    users: pl.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", conform(self.events, EVENTS_SCHEMA))
        if self.items is not None:
            object.__setattr__(self, "items", conform(self.items, ITEMS_SCHEMA))
        if self.users is not None:
            object.__setattr__(self, "users", conform(self.users, USERS_SCHEMA))

    def with_events(self, events: pl.DataFrame, **meta: Any) -> Dataset:
        """A copy with other events (items/users kept), e.g. after cleaning."""
        return Dataset(self.name, events, self.items, self.users, {**self.meta, **meta})

    def save(self, directory: str | Path) -> Path:
        """Write Parquet tables and ``meta.json`` into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.events.write_parquet(out / "events.parquet")
        if self.items is not None:
            self.items.write_parquet(out / "items.parquet")
        if self.users is not None:
            self.users.write_parquet(out / "users.parquet")
        (out / "meta.json").write_text(json.dumps({"name": self.name, **self.meta}, indent=2, default=str))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> Dataset:
        """Read a directory written by :meth:`save`."""
        src = Path(directory)
        if not (src / "events.parquet").exists():
            raise FileNotFoundError(f"{src} holds no events.parquet: is it a saved driftrec dataset?")
        meta = json.loads((src / "meta.json").read_text()) if (src / "meta.json").exists() else {}
        name = str(meta.pop("name", src.name))
        items = pl.read_parquet(src / "items.parquet") if (src / "items.parquet").exists() else None
        users = pl.read_parquet(src / "users.parquet") if (src / "users.parquet").exists() else None
        return cls(name, pl.read_parquet(src / "events.parquet"), items, users, meta)
