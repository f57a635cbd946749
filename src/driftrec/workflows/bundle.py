"""A trained model packed with its id maps and known histories: load in one call, recommend by external ids.

Peer libraries leave users to rebuild id maps and histories before they can ask a trained model
anything; a bundle answers ``recommend(user_ids=[...])`` or ``recommend(histories=[[item, ...]])``
(anonymous sessions, users the model never saw) directly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from driftrec.data.idmap import IdMap
from driftrec.data.interactions import Histories
from driftrec.models.base import Recommender
from driftrec.models.registry import load_model
from driftrec.scoring import top_k

__all__ = ["Bundle", "Recommendation", "load_bundle"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    score: float
    rank: int


@dataclass
class Bundle:
    model: Recommender
    users: IdMap
    items: IdMap
    known: Histories  # row u-1 = dense user u's history at training time (all events, time order)
    meta: dict[str, Any] = field(default_factory=dict)

    def histories_for_users(self, user_ids: Sequence[str]) -> Histories:
        """Known users get their stored history; unknown ones an empty history with user id 0."""
        dense = self.users.encode(pl.Series(list(user_ids), dtype=pl.String))
        rows = np.maximum(dense - 1, 0)
        batch = self.known.take(rows)
        unknown = dense == 0
        if unknown.any():
            log.info(
                "%d of %d users are unknown to the model: scored from an empty history",
                unknown.sum(),
                len(dense),
            )
            lengths = np.where(unknown, 0, batch.lengths())
            keep = np.repeat(~unknown, batch.lengths())
            offsets = np.zeros(len(dense) + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
            batch = Histories(dense, offsets, batch.items[keep])
        return batch

    def histories_from_items(self, sequences: Sequence[Sequence[str]]) -> Histories:
        """Histories given as external item ids (oldest first); items unknown to the model are skipped."""
        encoded: list[list[int]] = []
        skipped = 0
        for seq in sequences:
            dense = self.items.encode(pl.Series(list(seq), dtype=pl.String))
            skipped += int((dense == 0).sum())
            encoded.append([int(i) for i in dense if i > 0])
        if skipped:
            log.warning("skipped %d history items unknown to the model", skipped)
        return Histories.from_lists(encoded)

    def recommend(
        self, histories: Histories, k: int = 10, exclude_seen: bool = True
    ) -> list[list[Recommendation]]:
        scores = np.array(self.model.score(histories), dtype=np.float32, copy=True)
        scores[:, 0] = -np.inf
        if exclude_seen:
            scores[histories.row_index(), histories.items] = -np.inf
        top = top_k(scores, k)
        names = self.items.decode(top.ravel())
        out: list[list[Recommendation]] = []
        for b in range(top.shape[0]):
            row = []
            for j in range(top.shape[1]):
                value = float(scores[b, top[b, j]])
                name = names[b * top.shape[1] + j]
                if name is not None and np.isfinite(value):
                    row.append(Recommendation(name, value, j + 1))
            out.append(row)
        return out

    def save(self, directory: str | Path) -> Path:
        out = Path(directory)
        (out / "model").mkdir(parents=True, exist_ok=True)
        self.model.save(out / "model")
        self.users.save(out / "users.parquet")
        self.items.save(out / "items.parquet")
        known = self.known
        arrays: dict[str, Any] = {"user": known.user, "offsets": known.offsets, "items": known.items}
        if known.ts is not None and known.event is not None:  # serving's interest timelines need them
            arrays.update(ts=known.ts, event=known.event)
        np.savez_compressed(out / "known.npz", **arrays)
        (out / "bundle.json").write_text(json.dumps(self.meta, indent=2, default=str))
        return out


def load_bundle(directory: str | Path) -> Bundle:
    """Load a bundle written by :meth:`Bundle.save`."""
    src = Path(directory)
    if not (src / "bundle.json").exists():
        raise FileNotFoundError(f"{src} is not a driftrec model bundle (no bundle.json)")
    arrays = np.load(src / "known.npz")
    known = Histories(
        arrays["user"], arrays["offsets"], arrays["items"], arrays.get("ts"), arrays.get("event")
    )
    return Bundle(
        load_model(src / "model"),
        IdMap.load(src / "users.parquet"),
        IdMap.load(src / "items.parquet"),
        known,
        json.loads((src / "bundle.json").read_text()),
    )
