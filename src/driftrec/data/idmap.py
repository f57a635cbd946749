"""Stable dense id maps: external string ids <-> 1-based integers (0 is padding).

Models index embedding tables by these integers, so the map is saved beside the data and
reused, never rebuilt, when a trained model meets the same ids again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

__all__ = ["IdMap"]


@dataclass(frozen=True)
class IdMap:
    """One id space. ``ids[k-1]`` is the external id of dense id ``k``; ids are sorted by first use."""

    ids: pl.Series

    @classmethod
    def build(cls, values: pl.Series) -> IdMap:
        """Dense ids in order of first appearance (stable for a given input order)."""
        return cls(values.cast(pl.String).unique(maintain_order=True).alias("external_id"))

    def __len__(self) -> int:
        return self.ids.len()

    def extend(self, values: pl.Series) -> IdMap:
        """Append unseen ids after the existing ones; existing ids keep their numbers."""
        new = values.cast(pl.String).unique(maintain_order=True)
        new = new.filter(~new.is_in(self.ids.implode()))
        return IdMap(pl.concat([self.ids, new.alias("external_id")]))

    def encode(self, values: pl.Series, *, unknown: int = 0) -> NDArray[np.int64]:
        """External -> dense; unknown ids become ``unknown`` (0 = padding by default)."""
        lookup = pl.DataFrame({"external_id": self.ids, "dense": np.arange(1, len(self) + 1, dtype=np.int64)})
        joined = (
            pl.DataFrame({"external_id": values.cast(pl.String)})
            .join(lookup, on="external_id", how="left", maintain_order="left")
            .get_column("dense")
            .fill_null(unknown)
        )
        return joined.to_numpy().astype(np.int64, copy=False)

    def decode(self, dense: NDArray[np.integer]) -> list[str | None]:
        """Dense -> external; 0 (padding) and out-of-range ids become None."""
        arr = np.asarray(dense, dtype=np.int64)
        valid = (arr >= 1) & (arr <= len(self))
        table = self.ids.to_list()
        return [table[k - 1] if ok else None for k, ok in zip(arr.tolist(), valid.tolist(), strict=True)]

    def save(self, path: str | Path) -> None:
        pl.DataFrame({"dense_id": np.arange(1, len(self) + 1), "external_id": self.ids}).write_parquet(path)

    @classmethod
    def load(cls, path: str | Path) -> IdMap:
        frame = pl.read_parquet(path).sort("dense_id")
        expected = np.arange(1, frame.height + 1)
        if not np.array_equal(frame.get_column("dense_id").to_numpy(), expected):
            raise ValueError(f"{path}: dense ids are not 1..{frame.height} without gaps")
        return cls(frame.get_column("external_id").alias("external_id"))
