"""The served catalogue: external <-> dense item ids, with category and price for filters and explanations.

Dense ids follow the model bundle's item map, and items added at runtime continue it, so one integer names
an item in the model, the retrieval indexes and the live state alike.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.idmap import IdMap
from driftrec.data.schema import CATEGORY_SEPARATOR
from driftrec.features.text import DEFAULT_TEXT_FIELDS

__all__ = ["Catalogue", "read_catalogue"]


def read_catalogue(path: str | Path) -> pl.DataFrame:
    """An item table from Parquet, CSV/TSV or JSONL (must hold ``item_id``)."""
    source = Path(path)
    if source.is_dir():
        source = source / "items.parquet"
    suffix = source.suffix.lower()
    if suffix == ".parquet":
        frame = pl.read_parquet(source)
    elif suffix in (".csv", ".tsv"):
        frame = pl.read_csv(source, separator="\t" if suffix == ".tsv" else ",", infer_schema_length=10_000)
    elif suffix in (".jsonl", ".ndjson"):
        frame = pl.read_ndjson(source)
    else:
        raise ValueError(f"{source}: item catalogue must be .parquet, .csv, .tsv or .jsonl")
    if "item_id" not in frame.columns:
        raise ValueError(f"{source}: item catalogue has no item_id column")
    return frame.with_columns(pl.col("item_id").cast(pl.String))


class Catalogue:
    """Item ids, categories, prices and titles indexed by dense id (row 0 = padding)."""

    def __init__(self, items: IdMap, meta: pl.DataFrame | None = None) -> None:
        ids = items.ids.to_list()
        self._ids: list[str] = ids
        self._dense: dict[str, int] = {item: k + 1 for k, item in enumerate(ids)}
        n = len(ids)
        self.category: list[str | None] = [None] * (n + 1)
        self.title: list[str | None] = [None] * (n + 1)
        self._price = np.full(n + 1, np.nan)
        self.meta = meta
        if meta is not None:
            aligned = pl.DataFrame({"item_id": pl.Series(ids, dtype=pl.String)}).join(
                meta.unique("item_id", keep="first"), on="item_id", how="left", maintain_order="left"
            )
            if "category" in aligned.columns:
                self.category[1:] = aligned.get_column("category").cast(pl.String).to_list()
            if "title" in aligned.columns:
                self.title[1:] = aligned.get_column("title").cast(pl.String).to_list()
            if "price" in aligned.columns:
                prices = aligned.get_column("price").cast(pl.Float64, strict=False).fill_null(np.nan)
                self._price[1:] = prices.to_numpy()
        self._lock = threading.Lock()
        self._prefix_cache: dict[str, NDArray[np.bool_]] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, str) and item_id in self._dense

    @property
    def has_categories(self) -> bool:
        return any(c is not None for c in self.category)

    @property
    def has_prices(self) -> bool:
        return bool(np.isfinite(self._price).any())

    def dense(self, item_id: str) -> int:
        """Dense id, 0 when unknown."""
        return self._dense.get(item_id, 0)

    def encode(self, item_ids: Sequence[str]) -> NDArray[np.int64]:
        return np.fromiter((self._dense.get(i, 0) for i in item_ids), dtype=np.int64, count=len(item_ids))

    def external(self, dense: int) -> str:
        return self._ids[dense - 1]

    def describe(self, dense: int) -> dict[str, str | float | None]:
        price = float(self._price[dense])
        return {
            "title": self.title[dense],
            "category": self.category[dense],
            "price": price if math.isfinite(price) else None,
        }

    def add(self, item_id: str, title: str | None, category: str | None, price: float | None) -> int:
        """Append an item; returns its dense id (the next one)."""
        with self._lock:
            if item_id in self._dense:
                raise ValueError(f"item {item_id!r} already exists")
            dense = len(self._ids) + 1
            self.category.append(category)
            self.title.append(title)
            self._price = np.append(self._price, np.nan if price is None else float(price))
            self._ids.append(item_id)
            self._dense[item_id] = dense
            self._prefix_cache.clear()
        return dense

    def allowed(
        self, category: str | None, min_price: float | None, max_price: float | None
    ) -> NDArray[np.bool_] | None:
        """(n + 1,) mask of items passing the filters, or None when there is no filter.

        ``category`` matches a whole path prefix: "Audio" keeps "Audio" and "Audio > Headphones", not
        "Audiobooks". An item without a price never passes a price filter.
        """
        if category is None and min_price is None and max_price is None:
            return None
        n = len(self._ids) + 1
        mask = np.ones(n, dtype=np.bool_)
        mask[0] = False
        if category is not None:
            mask &= self._category_mask(category)[:n]
        if min_price is not None or max_price is not None:
            price = self._price[:n]
            with np.errstate(invalid="ignore"):
                if min_price is not None:
                    mask &= price >= min_price
                if max_price is not None:
                    mask &= price <= max_price
        return mask

    def _category_mask(self, prefix: str) -> NDArray[np.bool_]:
        cached = self._prefix_cache.get(prefix)
        if cached is not None and cached.shape[0] == len(self._ids) + 1:
            return cached
        head = prefix.strip()
        deeper = head + CATEGORY_SEPARATOR
        mask = np.fromiter(
            (c is not None and (c == head or c.startswith(deeper)) for c in self.category),
            dtype=np.bool_,
            count=len(self.category),
        )
        if len(self._prefix_cache) > 256:
            self._prefix_cache.clear()
        self._prefix_cache[prefix] = mask
        return mask

    def frame(self, dense: NDArray[np.int64]) -> pl.DataFrame:
        """``item_id, category`` of the given items (what interest profiles join on)."""
        unique = np.unique(dense[dense > 0])
        return pl.DataFrame(
            {
                "item_id": pl.Series([self._ids[k - 1] for k in unique.tolist()], dtype=pl.String),
                "category": pl.Series([self.category[k] for k in unique.tolist()], dtype=pl.String),
            }
        )

    def text_frame(self) -> pl.DataFrame | None:
        """The catalogue with every text field present (missing ones null), for the text encoder."""
        if self.meta is None:
            return None
        missing = [
            pl.lit(None, dtype=pl.String).alias(f) for f in DEFAULT_TEXT_FIELDS if f not in self.meta.columns
        ]
        return self.meta.with_columns(*missing) if missing else self.meta
