"""Static item attributes aligned with dense item ids: category codes and price level.

Static attributes come from the catalogue, not from behaviour, so they carry no time and cannot leak.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.idmap import IdMap
from driftrec.interests.profiles import category_at_level

__all__ = ["ItemAttributes", "item_attributes"]


class ItemAttributes:
    """``category[i]``: dense category code of item i (0 = unknown; row 0 = padding);
    ``price_level[i]``: log(price / median price of the item's category), 0 when unknown;
    ``categories``: the category names of codes 1..n.
    """

    def __init__(
        self, category: NDArray[np.int64], price_level: NDArray[np.float32], categories: list[str]
    ) -> None:
        self.category = category
        self.price_level = price_level
        self.categories = categories

    @property
    def n_categories(self) -> int:
        return len(self.categories)


def item_attributes(item_ids: IdMap, items: pl.DataFrame | None, level: int = 1) -> ItemAttributes:
    """Category codes at depth ``level`` of the path and price levels for the dense items of ``item_ids``."""
    n = len(item_ids)
    if items is None:
        return ItemAttributes(np.zeros(n + 1, np.int64), np.zeros(n + 1, np.float32), [])
    catalogue = items.with_columns(pl.col("item_id").cast(pl.String)).unique(
        "item_id", keep="first", maintain_order=True
    )
    aligned = pl.DataFrame({"item_id": item_ids.ids.cast(pl.String)}).join(
        catalogue.select(
            "item_id",
            category_at_level("category", level).alias("cat"),
            pl.col("price").cast(pl.Float64),
        ),
        on="item_id",
        how="left",
        maintain_order="left",
    )
    names = sorted(c for c in aligned.get_column("cat").unique().to_list() if c)
    code = {name: k + 1 for k, name in enumerate(names)}
    category = np.zeros(n + 1, np.int64)
    category[1:] = aligned.get_column("cat").replace_strict(code, default=0, return_dtype=pl.Int64).to_numpy()
    priced = aligned.with_columns(
        pl.when(pl.col("price") > 0).then(pl.col("price").log()).alias("logp")
    ).with_columns((pl.col("logp") - pl.col("logp").median().over("cat")).fill_null(0.0).alias("level"))
    level_arr = np.zeros(n + 1, np.float32)
    level_arr[1:] = priced.get_column("level").to_numpy().astype(np.float32)
    return ItemAttributes(category, level_arr, names)
