"""Categories for an uncategorised catalogue: clusters of item text, named by their distinctive words.

Interest migration needs a category per item, and many real logs (the Amazon 2014 review dumps) have
only review text. Each item's text is embedded with the cached offline encoder of
:mod:`driftrec.features.text`, the vectors are clustered with k-means, and each cluster is named by the
words that set its text apart from the other clusters (TF-IDF), so a report reads "strings / guitar"
rather than "topic 3". Everything is seeded and items are processed in sorted order, so a fixed seed
gives the same topics.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Final, Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.dataset import Dataset
from driftrec.features.text import DEFAULT_TEXT_FIELDS, TextEncoderConfig, embed_texts, item_texts

__all__ = [
    "TOPIC_COLUMN",
    "TextTopicConfig",
    "TextTopics",
    "has_item_text",
    "item_documents",
    "name_topics",
    "text_topics",
    "topic_words",
    "with_text_topics",
]

log = logging.getLogger(__name__)

#: Items column that :func:`with_text_topics` writes the topic names into.
TOPIC_COLUMN: Final = "text_topic"
_WORD: Final = r"(?u)\b[^\W\d_]{3,}\b"  # words of three letters or more: no numbers, no "ve"


def _count(name: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class TextTopicConfig:
    """How item text becomes topics.

    An item's text is its catalogue text (title, category, brand, description) when it has any, else the
    opening ``chars_per_review`` characters of each of its reviews in time order, up to ``max_chars`` in
    all: the opening of a review usually names the product, and many short openings say more about an
    item than one long review. ``max_seq_length`` 256 lets the encoder read about 1,000 characters.
    """

    n_topics: int = 8
    seed: int = 0
    name_terms: int = 2
    chars_per_review: int = 300
    max_chars: int = 2000
    method: Literal["kmeans", "agglomerative"] = "kmeans"
    encoder: TextEncoderConfig = field(default_factory=lambda: TextEncoderConfig(max_seq_length=256))

    def __post_init__(self) -> None:
        _count("n_topics", self.n_topics, 2)
        _count("seed", self.seed, 0)
        _count("name_terms", self.name_terms)
        _count("chars_per_review", self.chars_per_review)
        _count("max_chars", self.max_chars)
        if self.method not in ("kmeans", "agglomerative"):
            raise ValueError(f"method must be 'kmeans' or 'agglomerative', got {self.method!r}")
        if not isinstance(self.encoder, TextEncoderConfig):
            raise ValueError(f"encoder must be a TextEncoderConfig, got {self.encoder!r}")


@dataclass(frozen=True, eq=False)
class TextTopics:
    """Item -> topic name, and one row per topic (largest first) with its size and naming terms."""

    items: pl.DataFrame  # item_id, topic (name); items without any text are absent
    topics: pl.DataFrame  # topic_id, topic, n_items, terms (list of the most distinctive words)
    source: str  # where the text came from: "catalogue", "reviews" or "catalogue and reviews"

    def mapping(self) -> dict[str, str]:
        """``{item_id: topic name}``."""
        return dict(zip(self.items["item_id"].to_list(), self.items["topic"].to_list(), strict=True))


def _catalogue_text(items: pl.DataFrame | None, max_chars: int) -> pl.DataFrame:
    schema = {"item_id": pl.String, "catalogue": pl.String}
    if items is None:
        return pl.DataFrame(schema=schema)
    fields = [name for name in DEFAULT_TEXT_FIELDS if name in items.columns]
    if not fields:
        return pl.DataFrame(schema=schema)
    texts = item_texts(items, fields, max_chars)
    frame = pl.DataFrame({"item_id": items["item_id"].cast(pl.String), "catalogue": texts}, schema=schema)
    return frame.filter(pl.col("catalogue") != "").unique("item_id", keep="first", maintain_order=True)


def _review_text(events: pl.DataFrame, chars_per_review: int, max_chars: int) -> pl.DataFrame:
    schema = {"item_id": pl.String, "reviews": pl.String}
    if "text" not in events.columns:
        return pl.DataFrame(schema=schema)
    opening = pl.col("text").str.replace_all(r"\s+", " ").str.strip_chars().str.slice(0, chars_per_review)
    return (
        events.select(pl.col("item_id").cast(pl.String), "ts", opening.alias("text"))
        .filter(pl.col("text").str.len_chars() > 0)
        .sort("item_id", "ts", "text")
        .group_by("item_id", maintain_order=True)
        .agg(pl.col("text").str.join(" ").str.slice(0, max_chars).alias("reviews"))
    )


def item_documents(
    events: pl.DataFrame, items: pl.DataFrame | None, config: TextTopicConfig | None = None
) -> pl.DataFrame:
    """``item_id, text, source`` sorted by item id: catalogue text where an item has some, else reviews."""
    cfg = config if config is not None else TextTopicConfig()
    catalogue = _catalogue_text(items, cfg.max_chars)
    reviews = _review_text(events, cfg.chars_per_review, cfg.max_chars)
    both = catalogue.join(reviews, on="item_id", how="full", coalesce=True)
    return (
        both.select(
            "item_id",
            pl.coalesce("catalogue", "reviews").alias("text"),
            pl.when(pl.col("catalogue").is_not_null())
            .then(pl.lit("catalogue"))
            .otherwise(pl.lit("reviews"))
            .alias("source"),
        )
        .drop_nulls("text")
        .sort("item_id")
    )


def has_item_text(dataset: Dataset) -> bool:
    """Whether :func:`text_topics` has anything to read: catalogue text or event (review) text."""
    return item_documents(dataset.events, dataset.items).height > 0


def _distinct_terms(ranked: list[str], count: int) -> list[str]:
    """The first ``count`` words, skipping plural/singular twins of a word already chosen."""
    chosen: list[str] = []
    for term in ranked:
        if any(term in (t + "s", t + "es") or t in (term + "s", term + "es") for t in chosen):
            continue
        chosen.append(term)
        if len(chosen) == count:
            break
    return chosen


def topic_words(documents: list[str], labels: NDArray[np.int64], top: int = 20) -> list[list[str]]:
    """For each cluster ``0..k-1``, its ``top`` words ranked by how much more they weigh in it than elsewhere.

    One TF-IDF document per cluster (English stop words, raw term counts: sublinear counts let a brand
    named in three reviews outrank the product word named in three hundred). A word's score is its weight
    in the cluster minus its largest weight in any other cluster, so words every cluster uses ("great")
    sink, and so do words two clusters share ("sound" for strings and amps alike).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    k = int(labels.max()) + 1
    joined = [" ".join(d for d, label in zip(documents, labels, strict=True) if label == c) for c in range(k)]
    vectorizer = TfidfVectorizer(stop_words="english", token_pattern=_WORD)
    weights = vectorizer.fit_transform(joined).toarray()
    vocabulary = vectorizer.get_feature_names_out()
    score = np.empty_like(weights)
    for c in range(k):
        score[c] = weights[c] - np.delete(weights, c, axis=0).max(axis=0)
    ranked: list[list[str]] = []
    for c in range(k):
        order = np.lexsort((vocabulary, -score[c]))  # ties broken alphabetically: deterministic
        ranked.append([str(vocabulary[j]) for j in order if weights[c, j] > 0][:top])
    return ranked


def _cluster(vectors: NDArray[np.float32], k: int, cfg: TextTopicConfig) -> NDArray[np.int64]:
    from sklearn.cluster import AgglomerativeClustering, KMeans

    if cfg.method == "agglomerative":
        labels = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(
            vectors
        )
    else:
        labels = KMeans(n_clusters=k, n_init=10, random_state=cfg.seed).fit_predict(vectors)
    # renumber by size (largest first, then first item) so topic 0 is the biggest whatever the seed
    sizes = np.bincount(labels, minlength=k)
    first = np.array([int(np.argmax(labels == c)) if sizes[c] else len(labels) for c in range(k)])
    order = np.lexsort((first, -sizes))
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    out: NDArray[np.int64] = rank[labels]
    return out


def name_topics(ranked: list[list[str]], n_terms: int = 2) -> list[str]:
    """One unique name per topic, its first ``n_terms`` distinct words: "strings / elixir"."""
    taken: set[str] = set()
    names: list[str] = []
    for c, words in enumerate(ranked):
        terms = _distinct_terms(words, n_terms)
        name = " / ".join(terms) if terms else f"topic {c + 1}"
        while name in taken:  # two clusters with the same top words: add the next distinct word
            extra = [w for w in words if w not in terms][:1]
            if not extra:
                name = f"{name} ({c + 1})"
                break
            terms = terms + extra
            name = " / ".join(terms)
        taken.add(name)
        names.append(name)
    return names


def text_topics(
    events: pl.DataFrame, items: pl.DataFrame | None = None, config: TextTopicConfig | None = None
) -> TextTopics:
    """Cluster items by the embedding of their text into ``n_topics`` named topics.

    Raises ``ValueError`` when no item has text, or fewer items have text than topics are asked for.
    """
    cfg = config if config is not None else TextTopicConfig()
    docs = item_documents(events, items, cfg)
    if docs.height == 0:
        raise ValueError(
            "no item has text: text topics need catalogue text (title, description, ...) or review text"
        )
    if docs.height < cfg.n_topics:
        raise ValueError(f"only {docs.height} items have text, fewer than n_topics={cfg.n_topics}")
    texts = docs["text"].to_list()
    vectors = embed_texts(texts, cfg.encoder)
    labels = _cluster(vectors, cfg.n_topics, cfg)
    ranked = topic_words(texts, labels)
    names = name_topics(ranked, cfg.name_terms)
    assigned = docs.select("item_id", pl.Series("topic", [names[c] for c in labels], dtype=pl.String))
    sizes = np.bincount(labels, minlength=cfg.n_topics)
    topics = pl.DataFrame(
        {
            "topic_id": list(range(cfg.n_topics)),
            "topic": names,
            "n_items": [int(s) for s in sizes],
            "terms": [words[:8] for words in ranked],
        },
        schema={"topic_id": pl.Int64, "topic": pl.String, "n_items": pl.Int64, "terms": pl.List(pl.String)},
    ).filter(pl.col("n_items") > 0)  # k-means can leave a cluster empty when texts repeat
    kinds = sorted(docs["source"].unique().to_list())
    source = " and ".join(kinds)
    log.info("%d items in %d text topics (from %s): %s", docs.height, cfg.n_topics, source, names)
    return TextTopics(assigned, topics, source)


def with_text_topics(
    dataset: Dataset, config: TextTopicConfig | None = None, column: str = TOPIC_COLUMN
) -> tuple[Dataset, TextTopics]:
    """``dataset`` with its items table given a ``column`` of text topics (created if it had no items)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column):
        raise ValueError(f"column must be a plain column name, got {column!r}")
    topics = text_topics(dataset.events, dataset.items, config)
    labelled = topics.items.rename({"topic": column})
    if dataset.items is None:
        items = labelled
    else:
        items = dataset.items.drop(column, strict=False).join(
            labelled, on="item_id", how="full", coalesce=True, maintain_order="left"
        )
    return replace(dataset, items=items), topics
