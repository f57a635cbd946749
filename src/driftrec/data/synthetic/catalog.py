"""The catalogue: a two-level category tree, brands, items with prices, popularity and text.

Story: the shop sells ``n_top_categories`` departments (Electronics, Beauty, Garden, ...), each split
into ``n_sub_categories`` leaves ("Electronics > Headphones"). Every item sits in one leaf. Leaves
differ in size (a Dirichlet draw) and in price level (the department's typical price, jittered per
leaf); item prices are log-normal around their leaf's level, nudged by a brand premium. Brands
specialise in one department. Within a leaf, popularity follows a Zipf law over a random ranking, so a
few items draw most views, as in real logs. Items also carry a latent quality that only ratings see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from driftrec.data.schema import CATEGORY_SEPARATOR
from driftrec.data.synthetic.behaviour import BRAND_SIGMA
from driftrec.data.synthetic.config import SyntheticShopConfig
from driftrec.data.synthetic.text import TextTables, item_texts
from driftrec.data.synthetic.words import TOP_CATEGORIES, brand_names


@dataclass(frozen=True, eq=False)
class Catalog:
    """Items as arrays (for sampling) and as a canonical items frame (for the dataset)."""

    categories: tuple[str, ...]  # (L,) leaf paths "Top > Sub"; index = leaf id
    leaf_top: np.ndarray  # (L,) int64 department of each leaf
    leaf_price: np.ndarray  # (L,) float64 median price of the leaf
    item_ids: pl.Series  # (N,) "i00042"
    item_leaf: np.ndarray  # (N,) int64
    item_price: np.ndarray  # (N,) float64
    item_price_ratio: np.ndarray  # (N,) price / leaf median: what the funnel's price term reads
    item_quality: np.ndarray  # (N,) float64 latent, standard normal
    by_leaf: np.ndarray  # (N,) item indices sorted by leaf
    leaf_start: np.ndarray  # (L,) first position of each leaf in ``by_leaf``
    leaf_end: np.ndarray  # (L,) one past the last position
    cum_popularity: np.ndarray  # (N,) over ``by_leaf``: leaf c's items span (c, c + 1]
    text: TextTables
    items: pl.DataFrame  # canonical items frame

    @property
    def n_items(self) -> int:
        return int(self.item_leaf.shape[0])

    @property
    def n_leaves(self) -> int:
        return len(self.categories)

    def sample_items(self, leaf: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Popularity-weighted item of each requested leaf, for uniforms ``u`` in [0, 1)."""
        pos = np.searchsorted(self.cum_popularity, leaf + u, side="right")
        pos = np.clip(pos, self.leaf_start[leaf], self.leaf_end[leaf] - 1)
        result: np.ndarray = self.by_leaf[pos]
        return result


def id_strings(prefix: str, n: int, min_width: int) -> pl.Series:
    """``prefix`` + zero-padded index, e.g. ``u000123``; width grows with ``n`` so ids sort by index."""
    width = max(min_width, len(str(max(n - 1, 0))))
    return pl.select(
        pl.concat_str(pl.lit(prefix), pl.int_range(n, dtype=pl.Int64).cast(pl.String).str.zfill(width))
    ).to_series()


def build_catalog(config: SyntheticShopConfig, rng: np.random.Generator) -> Catalog:
    """Draw the whole catalogue for ``config`` (pure given ``rng``)."""
    tops = TOP_CATEGORIES[: config.n_top_categories]
    leaves = [leaf for top in tops for leaf in top.leaves[: config.n_sub_categories]]
    n_leaves, n_sub = len(leaves), config.n_sub_categories
    leaf_top = np.repeat(np.arange(len(tops), dtype=np.int64), n_sub)
    categories = tuple(
        f"{tops[t].name}{CATEGORY_SEPARATOR}{leaf.name}"
        for t, leaf in zip(leaf_top.tolist(), leaves, strict=True)
    )
    top_price = np.array([top.price_level for top in tops])
    leaf_price = top_price[leaf_top] * np.exp(rng.normal(0.0, 0.3, n_leaves))

    # leaf sizes: one item each, the rest spread by a Dirichlet share
    extra = rng.multinomial(config.n_items - n_leaves, rng.dirichlet(np.full(n_leaves, 4.0)))
    counts = 1 + extra
    item_leaf = rng.permutation(np.repeat(np.arange(n_leaves, dtype=np.int64), counts))
    n = config.n_items

    # brands specialise: brand b belongs to department b % n_top
    brands = pl.Series(brand_names(config.n_brands, rng), dtype=pl.String)
    brand_premium = np.exp(rng.normal(0.0, BRAND_SIGMA, config.n_brands))
    n_top = len(tops)
    per_top = np.array([len(range(t, config.n_brands, n_top)) for t in range(n_top)], dtype=np.int64)
    item_top = leaf_top[item_leaf]
    j = np.minimum((rng.random(n) * per_top[item_top]).astype(np.int64), per_top[item_top] - 1)
    item_brand = item_top + j * n_top

    log_ratio = rng.normal(0.0, config.price_sigma, n) + np.log(brand_premium[item_brand])
    raw_price = leaf_price[item_leaf] * np.exp(log_ratio)
    item_price = np.maximum(np.floor(raw_price), 0.0) + 0.99
    item_quality = rng.normal(0.0, 1.0, n)

    # Zipf popularity over a random rank within the leaf (item order is already random)
    by_leaf = np.argsort(item_leaf, kind="stable")
    leaf_end = np.cumsum(counts).astype(np.int64)
    leaf_start = leaf_end - counts
    rank = np.arange(n, dtype=np.int64) - leaf_start[item_leaf[by_leaf]]
    weight = (rank + 1.0) ** -config.popularity_exponent
    cum = np.cumsum(weight)
    before = np.concatenate([[0.0], cum])[leaf_start]
    total = cum[leaf_end - 1] - before
    sorted_leaf = item_leaf[by_leaf]
    cum_popularity = sorted_leaf + (cum - before[sorted_leaf]) / total[sorted_leaf]
    cum_popularity[leaf_end - 1] = np.arange(1, n_leaves + 1, dtype=np.float64)  # exact leaf ends

    text = TextTables.build(
        leaves, [tops[t].name for t in leaf_top.tolist()], [tops[t].occasions for t in leaf_top.tolist()]
    )
    titles, descriptions = item_texts(text, item_leaf, brands.gather(item_brand), rng)
    item_ids = id_strings("i", n, 5)
    items = pl.DataFrame(
        {
            "item_id": item_ids,
            "title": titles,
            "description": descriptions,
            "category": pl.Series(categories, dtype=pl.String).gather(item_leaf),
            "brand": brands.gather(item_brand),
            "price": item_price,
        }
    )
    return Catalog(
        categories=categories,
        leaf_top=leaf_top,
        leaf_price=leaf_price,
        item_ids=item_ids,
        item_leaf=item_leaf,
        item_price=item_price,
        item_price_ratio=item_price / leaf_price[item_leaf],
        item_quality=item_quality,
        by_leaf=by_leaf,
        leaf_start=leaf_start,
        leaf_end=leaf_end,
        cum_popularity=cum_popularity,
        text=text,
        items=items,
    )
