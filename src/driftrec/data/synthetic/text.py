"""Titles, descriptions and reviews, assembled from the vocabularies without a loop per item.

Words are drawn by index from per-leaf pools (flattened with offsets), then joined column-wise by
Polars, so a million titles cost about as much as a million integer draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from driftrec.data.synthetic.words import (
    GENERIC_ADJECTIVES,
    REVIEW_CLOSERS,
    REVIEW_OPENERS,
    LeafWords,
)


def _title_case(phrase: str) -> str:
    """Capitalise each word's first letter but keep the rest (``5G``, ``USB-C`` stay as written)."""
    return " ".join(w[:1].upper() + w[1:] for w in phrase.split(" "))


@dataclass(frozen=True, eq=False)
class _Pool:
    """Word lists per leaf, flattened: leaf ``c`` owns ``count[c]`` words starting at ``offset[c]``."""

    words: pl.Series
    offset: np.ndarray  # (L,) int64
    count: np.ndarray  # (L,) int64

    @classmethod
    def build(cls, lists: list[tuple[str, ...]]) -> _Pool:
        counts = np.array([len(x) for x in lists], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        return cls(pl.Series([w for x in lists for w in x], dtype=pl.String), offsets, counts)

    def pick(self, leaf: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Index of a uniform word of ``leaf`` for uniforms ``u`` in [0, 1)."""
        k = np.minimum((u * self.count[leaf]).astype(np.int64), self.count[leaf] - 1)
        out: np.ndarray = self.offset[leaf] + k
        return out

    def pick_pair(self, leaf: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two distinct words of ``leaf`` (the same one only if the leaf has a single word)."""
        n = self.count[leaf]
        first = np.minimum((u * n).astype(np.int64), n - 1)
        shift = 1 + np.minimum((v * np.maximum(n - 1, 1)).astype(np.int64), np.maximum(n - 2, 0))
        second = np.where(n > 1, (first + shift) % n, first)
        return self.offset[leaf] + first, self.offset[leaf] + second

    def gather(self, index: np.ndarray) -> pl.Series:
        return self.words.gather(index)


@dataclass(frozen=True, eq=False)
class TextTables:
    """All vocabularies of one shop's category tree, ready for vectorised sampling."""

    nouns: _Pool
    nouns_title: _Pool
    features: _Pool
    features_title: _Pool
    occasions: _Pool  # per leaf: the occasions of its top category
    top_names: pl.Series  # (L,) per leaf
    leaf_names: pl.Series  # (L,) the leaf's own name

    @classmethod
    def build(
        cls, leaves: list[LeafWords], top_names: list[str], occasions: list[tuple[str, ...]]
    ) -> TextTables:
        return cls(
            nouns=_Pool.build([leaf.nouns for leaf in leaves]),
            nouns_title=_Pool.build([tuple(map(_title_case, leaf.nouns)) for leaf in leaves]),
            features=_Pool.build([leaf.features for leaf in leaves]),
            features_title=_Pool.build([tuple(map(_title_case, leaf.features)) for leaf in leaves]),
            occasions=_Pool.build(occasions),
            top_names=pl.Series(top_names, dtype=pl.String),
            leaf_names=pl.Series([leaf.name for leaf in leaves], dtype=pl.String),
        )


def item_texts(
    tables: TextTables, item_leaf: np.ndarray, brands: pl.Series, rng: np.random.Generator
) -> tuple[pl.Series, pl.Series]:
    """Titles like ``"Norvik Compact Wireless Earbuds"`` and two-sentence descriptions.

    Titles name the brand, a generic adjective, a leaf feature and a leaf noun; descriptions repeat the
    noun with two features, an occasion of the top category and the category names, so that text alone
    separates categories.
    """
    n = item_leaf.shape[0]
    u = rng.random((6, n))
    adjectives = pl.Series(GENERIC_ADJECTIVES, dtype=pl.String)
    adj_idx = np.minimum((u[0] * len(GENERIC_ADJECTIVES)).astype(np.int64), len(GENERIC_ADJECTIVES) - 1)
    noun_idx = tables.nouns.pick(item_leaf, u[1])
    feat1, feat2 = tables.features.pick_pair(item_leaf, u[2], u[3])
    occ_idx = tables.occasions.pick(item_leaf, u[4])
    frame = pl.DataFrame(
        {
            "brand": brands,
            "adj": adjectives.gather(adj_idx),
            "noun_t": tables.nouns_title.gather(noun_idx),
            "feat_t": tables.features_title.gather(feat1),
            "noun": tables.nouns.gather(noun_idx),
            "f1": tables.features.gather(feat1),
            "f2": tables.features.gather(feat2),
            "occ": tables.occasions.gather(occ_idx),
            "top": tables.top_names.gather(item_leaf),
            "leaf": tables.leaf_names.gather(item_leaf),
        }
    )
    out = frame.select(
        title=pl.concat_str("brand", "adj", "feat_t", "noun_t", separator=" "),
        description=pl.format(
            "{} {} by {}, {} and {}. Made for {}; part of our {} {} range.",
            "adj",
            "noun",
            "brand",
            "f1",
            "f2",
            "occ",
            "top",
            "leaf",
        ),
    )
    return out["title"], out["description"]


def review_texts(
    tables: TextTables, leaf: np.ndarray, stars: np.ndarray, rng: np.random.Generator
) -> pl.Series:
    """Short reviews: sentiment opener (by star band), a leaf noun, a leaf feature, sentiment closer."""
    n = leaf.shape[0]
    band = np.where(stars <= 2, 0, np.where(stars == 3, 1, 2)).astype(np.int64)
    u = rng.random((4, n))
    openers = _Pool.build(list(REVIEW_OPENERS))
    closers = _Pool.build(list(REVIEW_CLOSERS))
    frame = pl.DataFrame(
        {
            "open": openers.gather(openers.pick(band, u[0])),
            "noun": tables.nouns.gather(tables.nouns.pick(leaf, u[1])),
            "feat": tables.features.gather(tables.features.pick(leaf, u[2])),
            "close": closers.gather(closers.pick(band, u[3])),
        }
    )
    return frame.select(text=pl.format("{} {}: {}, {}.", "open", "noun", "feat", "close"))["text"]
