"""Readers for public benchmark formats: MovieLens/RecBole, sequence files, UniSRec splits, Amazon reviews.

Each returns a :class:`~driftrec.data.dataset.Dataset` whose ``meta`` says where the data came from
(``source``), how precise its time is (``time_resolution``) and what the validation saw.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import polars as pl

from driftrec.data.dataset import Dataset
from driftrec.data.readers import (
    apply_mapping,
    dataset_meta,
    infer_extra_types,
    order_timestamps,
    read_bytes,
    read_lines,
    read_raw,
    resolve_file,
    sort_events,
)
from driftrec.data.schema import CATEGORY_SEPARATOR, EVENTS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA, conform
from driftrec.data.validation import (
    LINE_COLUMN,
    Mode,
    RowError,
    ValidationConfig,
    ValidationReport,
    enforce_mode,
    validate_events,
    validate_items,
)

__all__ = [
    "read_amazon2018",
    "read_amazon_metadata",
    "read_amazon_reviews",
    "read_item_attributes",
    "read_movielens_latest",
    "read_recbole_atomic",
    "read_unisrec",
    "read_user_item_pairs",
    "read_user_sequences",
]

logger = logging.getLogger(__name__)

_TITLE_COLUMNS: Final = ("movie_title", "title", "name")
_GENRE_COLUMNS: Final = ("class", "genre", "genres", "categories")
_HTML_ENTITIES: Final = (
    ("&quot;", '"'),
    ("&#39;", "'"),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&nbsp;", " "),
    ("&amp;", "&"),
)


def _strip_types(frame: pl.DataFrame) -> pl.DataFrame:
    """RecBole headers carry types (``user_id:token``); the names alone are what we map."""
    return frame.rename({c: c.split(":", 1)[0] for c in frame.columns if ":" in c})


def _atomic(path: Path) -> tuple[pl.DataFrame, tuple[RowError, ...], str]:
    raw = read_raw(path, format="tsv", quote_char=None)
    return _strip_types(raw.frame), raw.errors, raw.file


def _tokens(column: str) -> pl.Expr:
    """Whitespace-separated tokens normalised to single spaces (files mix spaces and runs of them)."""
    return pl.col(column).fill_null("").str.replace_all(r"\s+", " ").str.strip_chars()


def _optional(path: Path) -> Path | None:
    """``path`` or ``path.gz`` when either exists, else None (RecBole's .item/.user are optional)."""
    try:
        return resolve_file(path)
    except FileNotFoundError:
        return None


def _genres(frame: pl.DataFrame, column: str, separator: str) -> pl.DataFrame:
    """Multi-label genres: full list in ``genres``; ``category`` = first listed genre.

    MovieLens lists genres alphabetically, so the first one is a deterministic coarse label, not a
    "main" genre; code that needs every genre should use the ``genres`` list.
    """
    genres = pl.col(column).str.split(separator).list.eval(pl.element().filter(pl.element() != ""))
    return frame.with_columns(genres.alias("genres")).with_columns(
        pl.col("genres").list.first().alias("category")
    )


def read_recbole_atomic(prefix: str | Path, *, name: str | None = None, mode: Mode = "strict") -> Dataset:
    """RecBole atomic files ``<prefix>.inter/.item/.user`` (``.gz`` ok) with typed headers.

    ``rating`` becomes ``value`` of ``event="rating"`` (``"view"`` when the file has no rating),
    ``timestamp`` (unix seconds) becomes ``ts``; without a timestamp, ``ts`` is synthetic file order.
    MovieLens-style items: ``movie_title``/``title`` -> title, space-separated ``class``/``genre`` ->
    ``genres`` list and ``category`` (first genre).
    """
    base = Path(prefix)
    inter = resolve_file(base.with_name(base.name + ".inter"))
    frame, structural, file = _atomic(inter)
    frame = frame.rename({"rating": "value"} if "rating" in frame.columns else {})
    frame = frame.with_columns(pl.lit("rating" if "value" in frame.columns else "view").alias("event"))
    resolution = "seconds"
    if "timestamp" in frame.columns:
        frame = frame.rename({"timestamp": "ts"})
    else:
        frame, resolution = frame.with_columns(order_timestamps(frame)), "order"
    events, report = validate_events(
        infer_extra_types(frame, EVENTS_SCHEMA),
        file=file,
        config=ValidationConfig(mode=mode),
        structural=structural,
    )
    reports = [report]
    items = users = None
    if (item_path := _optional(base.with_name(base.name + ".item"))) is not None:
        raw_items, errors, item_file = _atomic(item_path)
        title = next((c for c in _TITLE_COLUMNS if c in raw_items.columns), None)
        genre = next((c for c in _GENRE_COLUMNS if c in raw_items.columns), None)
        if title is not None:
            raw_items = raw_items.rename({title: "title"})
        if genre is not None:
            raw_items = _genres(raw_items, genre, " ").drop(genre)
        items, item_report = validate_items(
            infer_extra_types(raw_items, ITEMS_SCHEMA),
            file=item_file,
            config=ValidationConfig(mode=mode),
            structural=errors,
        )
        reports.append(item_report)
    if (user_path := _optional(base.with_name(base.name + ".user"))) is not None:
        raw_users, errors, user_file = _atomic(user_path)
        user_report = ValidationReport(user_file, raw_users.height + len(errors), raw_users.height, errors)
        enforce_mode(user_report, ValidationConfig(mode=mode))
        reports.append(user_report)
        users = conform(infer_extra_types(raw_users.drop(LINE_COLUMN), USERS_SCHEMA), USERS_SCHEMA)
    meta = dataset_meta(inter, resolution, *reports, format="recbole-atomic")
    return Dataset(name or base.name, sort_events(events), items, users, meta)


def read_movielens_latest(
    folder: str | Path, *, name: str | None = None, mode: Mode = "strict", include_tags: bool = True
) -> Dataset:
    """MovieLens ``ml-latest(-small)`` CSVs: ratings, movies (``|`` genres) and tags.

    Ratings are ``event="rating"`` with ``value`` = stars. With ``include_tags`` each tag is an
    ``event="review"`` whose ``text`` is the tag (a short free-text judgement by the user at that time);
    items also get ``tags``, the distinct tags joined with ``", "``, as item text.
    """
    root = Path(folder)
    config = ValidationConfig(mode=mode)
    ratings = read_raw(resolve_file(root / "ratings.csv"))
    frame = apply_mapping(
        ratings.frame,
        {"user_id": "userId", "item_id": "movieId", "value": "rating", "ts": "timestamp"},
        file=ratings.file,
    )
    events, report = validate_events(
        frame, file=ratings.file, config=config, structural=ratings.errors, event_default="rating"
    )
    reports = [report]
    movies = read_raw(resolve_file(root / "movies.csv"))
    raw_items = _genres(apply_mapping(movies.frame, {"item_id": "movieId"}, file=movies.file), "genres", "|")
    raw_items = raw_items.with_columns(
        pl.col("genres").list.eval(pl.element().filter(pl.element() != "(no genres listed)")),
        pl.col("title").str.extract(r"\((\d{4})\)\s*$").cast(pl.Int64, strict=False).alias("year"),
    ).with_columns(pl.col("genres").list.first().alias("category"))
    if include_tags and (tags_path := _optional(root / "tags.csv")) is not None:
        tags = read_raw(tags_path)
        tag_frame = apply_mapping(
            tags.frame,
            {"user_id": "userId", "item_id": "movieId", "text": "tag", "ts": "timestamp"},
            file=tags.file,
        )
        tag_events, tag_report = validate_events(
            tag_frame, file=tags.file, config=config, structural=tags.errors, event_default="review"
        )
        events = pl.concat([events, tag_events], how="vertical")
        reports.append(tag_report)
        item_tags = tag_events.group_by("item_id").agg(
            pl.col("text").unique(maintain_order=True).str.join(", ").alias("tags")
        )
        raw_items = raw_items.join(item_tags, on="item_id", how="left", maintain_order="left")
    items, item_report = validate_items(raw_items, file=movies.file, config=config, structural=movies.errors)
    reports.append(item_report)
    meta = dataset_meta(
        root,
        "seconds",
        *reports,
        format="movielens-latest",
        note="development dataset per GroupLens README; not for shared benchmark numbers",
    )
    return Dataset(name or root.name, sort_events(events), items, None, meta)


def _order_only(frame: pl.DataFrame, event: str) -> pl.DataFrame:
    return frame.with_columns(order_timestamps(frame), pl.lit(event).alias("event"))


def read_user_item_pairs(
    path: str | Path, *, name: str | None = None, event: str = "rating", mode: Mode = "strict"
) -> Dataset:
    """``user item`` per line, a user's rows in chronological order (BERT4Rec/SASRec files).

    There are no timestamps: ``ts`` is epoch + position seconds per user and ``time_resolution`` is
    ``"order"``. The Amazon files are derived from reviews with ratings, so ``event`` defaults to
    ``"rating"`` (the rating value itself is not in the file, so ``value`` is null).
    """
    raw = read_raw(
        path, format="csv", delimiter=" ", has_header=False, columns=["user_id", "item_id"], quote_char=None
    )
    events, report = validate_events(
        _order_only(raw.frame, event),
        file=raw.file,
        config=ValidationConfig(mode=mode),
        structural=raw.errors,
    )
    meta = dataset_meta(path, "order", report, format="user-item pairs")
    return Dataset(name or Path(path).name.split(".")[0], sort_events(events), None, None, meta)


def read_user_sequences(
    path: str | Path, *, name: str | None = None, event: str = "rating", mode: Mode = "strict"
) -> Dataset:
    """``user item1 item2 ...`` per line, items in chronological order (S3-Rec files).

    Same conventions as :func:`read_user_item_pairs`: synthetic order-only ``ts``, ``event="rating"``
    for review-derived Amazon data. A line with a user but no item is a ``malformed_line`` error.
    """
    file = Path(path).name
    lines = read_lines(read_bytes(path)).filter(pl.col("raw").str.strip_chars() != "")
    tokens = lines.select(LINE_COLUMN, _tokens("raw").str.split(" ").alias("tokens"))
    short = tokens.filter(pl.col("tokens").list.len() < 2)
    structural = [
        RowError(file, line, "", "expected a user id followed by at least one item id", "malformed_line")
        for line in short[LINE_COLUMN]
    ]
    frame = (
        tokens.filter(pl.col("tokens").list.len() >= 2)
        .select(
            LINE_COLUMN,
            pl.col("tokens").list.first().alias("user_id"),
            pl.col("tokens").list.slice(1).alias("item_id"),
        )
        .explode("item_id")
    )
    events, report = validate_events(
        _order_only(frame, event), file=file, config=ValidationConfig(mode=mode), structural=structural
    )
    meta = dataset_meta(path, "order", report, format="user sequences")
    return Dataset(name or file.split(".")[0], sort_events(events), None, None, meta)


def read_item_attributes(path: str | Path) -> pl.DataFrame:
    """S3-Rec ``item2attributes.json``: ``{"item": [attr, ...]}`` -> items with attribute ids.

    The ids are remapped categories and brand without names; ``category`` joins them in file order
    with ``" > "`` (the category path comes first in the source), ``attribute_ids`` keeps the list.
    """
    mapping: dict[str, list[Any]] = json.loads(read_bytes(path))
    items = pl.DataFrame(
        {
            "item_id": list(mapping),
            "attribute_ids": [[str(a) for a in attrs] for attrs in mapping.values()],
        },
        schema={"item_id": pl.String, "attribute_ids": pl.List(pl.String)},
    )
    category = pl.col("attribute_ids").list.join(CATEGORY_SEPARATOR).alias("category")
    return conform(items.with_columns(category), ITEMS_SCHEMA)


def _index_map(path: Path, key: str) -> pl.DataFrame:
    """``key \t index`` lines; any malformed line makes the mapping untrustworthy, so it raises."""
    raw = read_raw(path, format="tsv", has_header=False, columns=[key, "index"], quote_char=None)
    if raw.errors:
        raise ValueError(f"{raw.file}: {len(raw.errors)} malformed line(s), e.g. {raw.errors[0]}")
    return raw.frame.drop(LINE_COLUMN)


_SPLITS: Final = ("train", "valid", "test")


def _unisrec_lines(base: Path) -> tuple[pl.DataFrame, list[RowError], str]:
    """All lines of the three splits as ``(user_id, hist list, target, split rank, line)``."""
    parts: list[pl.DataFrame] = []
    structural: list[RowError] = []
    test_file = ""
    for rank, split in enumerate(_SPLITS):
        frame, errors, file = _atomic(resolve_file(base.with_name(f"{base.name}.{split}.inter")))
        structural.extend(errors)
        test_file = file
        hist = _tokens("item_id_list").str.split(" ").list.eval(pl.element().filter(pl.element() != ""))
        parts.append(
            frame.select(
                "user_id",
                hist.alias("hist"),
                _tokens("item_id").alias("target"),
                pl.lit(rank).alias("split"),
                LINE_COLUMN,
            )
        )
    return pl.concat(parts), structural, test_file


def _unisrec_sequences(lines: pl.DataFrame, name: str) -> pl.DataFrame:
    """Rebuild full sequences and check every line against them.

    Histories in the files are truncated to the last 50 items, so the test line alone does not hold a
    long sequence: the full one is the earliest history plus every line's target in time order (train
    lines come newest first in the file). Each line's history must then be the items right before its
    target; any mismatch means the files are not one consistent split, and is raised.
    """
    counts = lines.group_by("user_id").agg(
        (pl.col("split") == 1).sum().alias("v"), (pl.col("split") == 2).sum().alias("t")
    )
    odd = counts.filter((pl.col("v") != 1) | (pl.col("t") != 1))
    if odd.height:
        raise ValueError(
            f"{name}: {odd.height} users lack exactly one valid and one test line, "
            f"e.g. user {odd['user_id'][0]}"
        )
    ordered = lines.sort(
        ["user_id", "split", pl.col("hist").list.len(), LINE_COLUMN], descending=[False, False, False, True]
    )
    ordered = ordered.with_columns(pl.int_range(pl.len()).over("user_id").alias("rank"))
    full = ordered.group_by("user_id", maintain_order=True).agg(
        pl.col("hist").first().alias("first"),
        pl.col("target").alias("targets"),
        pl.col(LINE_COLUMN).filter(pl.col("split") == 2).first(),
    )
    full = full.select(
        "user_id",
        LINE_COLUMN,
        pl.concat_list("first", "targets").alias("item_id"),
        pl.col("first").list.len().alias("offset"),
    )
    checked = ordered.join(full, on="user_id", suffix="_full").with_columns(
        (pl.col("offset") + pl.col("rank")).alias("pos")
    )
    start = pl.col("pos") - pl.col("hist").list.len()
    bad = checked.filter(
        (pl.col("item_id").list.slice(start, pl.col("hist").list.len()) != pl.col("hist"))
        | (pl.col("item_id").list.get(pl.col("pos"), null_on_oob=True).ne_missing(pl.col("target")))
    )
    if bad.height:
        row = bad.row(0, named=True)
        raise ValueError(
            f"{name}: {bad.height} lines disagree with the rebuilt sequences, e.g. "
            f"{_SPLITS[row['split']]} line {row[LINE_COLUMN]} of user {row['user_id']}"
        )
    return full.select(LINE_COLUMN, "user_id", "item_id").explode("item_id")


def read_unisrec(prefix: str | Path, *, name: str | None = None, mode: Mode = "strict") -> Dataset:
    """UniSRec downstream splits ``<prefix>.{train,valid,test}.inter`` + ``.text`` + index files.

    Full sequences are rebuilt from all three splits and checked line by line (``ValueError`` when
    inconsistent); the fixed leave-one-out split is then simply last event = test, second last = valid.
    Indices are mapped back to ASINs / reviewer ids so that items join ``.text``; items get ``title`` =
    ``description`` = the text (``title. categories. brand.``), as text-based models consume it whole.
    """
    base = Path(prefix)
    lines, structural, file = _unisrec_lines(base)
    frame = _unisrec_sequences(lines, base.name)
    items_idx = _index_map(resolve_file(base.with_name(base.name + ".item2index")), "asin")
    users_idx = _index_map(resolve_file(base.with_name(base.name + ".user2index")), "reviewer")
    frame = frame.with_columns(
        pl.col("item_id").replace_strict(items_idx["index"], items_idx["asin"], default=None),
        pl.col("user_id").replace_strict(users_idx["index"], users_idx["reviewer"], default=None),
    )
    events, report = validate_events(
        _order_only(frame, "rating"), file=file, config=ValidationConfig(mode=mode), structural=structural
    )
    text, text_errors, text_file = _atomic(resolve_file(base.with_name(base.name + ".text")))
    text = text.with_columns(pl.col("text").alias("title"), pl.col("text").alias("description")).drop("text")
    items, item_report = validate_items(
        text, file=text_file, config=ValidationConfig(mode=mode), structural=text_errors
    )
    meta = dataset_meta(
        base.parent, "order", report, item_report, format="unisrec", fixed_split="leave-one-out (UniSRec)"
    )
    return Dataset(name or base.name, sort_events(events), items, None, meta)


def read_amazon_reviews(path: str | Path, *, name: str | None = None, mode: Mode = "strict") -> Dataset:
    """Amazon 2014 review JSON lines (reviewerID, asin, overall, unixReviewTime, summary, reviewText).

    Each review is ``event="review"`` with ``value`` = stars and ``text`` = summary and review text on
    separate lines; ``unixReviewTime`` is a day, hence ``time_resolution="days"``.
    """
    fields = ("reviewerID", "asin", "overall", "unixReviewTime", "summary", "reviewText")
    raw = read_raw(path, format="jsonl", json_schema=dict.fromkeys(fields, pl.String()))
    frame = apply_mapping(
        raw.frame,
        {"user_id": "reviewerID", "item_id": "asin", "value": "overall", "ts": "unixReviewTime"},
        file=raw.file,
    )
    text = pl.concat_str("summary", "reviewText", separator="\n", ignore_nulls=True)
    frame = frame.with_columns(pl.when(text != "").then(text).alias("text")).drop("summary", "reviewText")
    events, report = validate_events(
        frame,
        file=raw.file,
        config=ValidationConfig(mode=mode),
        structural=raw.errors,
        event_default="review",
    )
    meta = dataset_meta(path, "days", report, format="amazon-2014-reviews")
    return Dataset(name or Path(path).name.split(".")[0], sort_events(events), None, None, meta)


def _unhtml(expr: pl.Expr) -> pl.Expr:
    """Strip tags and the common entities Amazon metadata is littered with."""
    out = expr.str.replace_all(r"<[^>]*>?", "")
    for entity, char in _HTML_ENTITIES:
        out = out.str.replace_all(entity, char, literal=True)
    out = out.str.strip_chars()
    return pl.when(out != "").then(out)


def read_amazon_metadata(path: str | Path, *, mode: Mode = "strict") -> tuple[pl.DataFrame, ValidationReport]:
    """Amazon 2018 ``meta_*.json`` lines -> items.

    ``category`` list -> path, ``description`` paragraphs joined, HTML tags/entities removed; a title
    that is an HTML fragment (common in this dump) becomes null. ``price`` strings like ``"$12.99"``
    become floats, anything else null. Exact duplicate records (1,065 in the 2018 Magazine dump) are
    dropped (count logged); differing records with one asin are ``duplicate_id`` errors.
    """
    schema: Mapping[str, pl.DataType] = {
        "asin": pl.String(),
        "title": pl.String(),
        "brand": pl.String(),
        "category": pl.List(pl.String()),
        "description": pl.List(pl.String()),
        "price": pl.String(),
    }
    raw = read_raw(path, format="jsonl", json_schema=schema)
    frame = raw.frame.filter(pl.struct(pl.exclude(LINE_COLUMN)).is_first_distinct())
    price = pl.col("price").str.extract(r"^\s*\$\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*$").str.replace_all(",", "")
    frame = frame.rename({"asin": "item_id"}).with_columns(
        pl.when(~pl.col("title").str.starts_with("<")).then(_unhtml(pl.col("title"))).alias("title"),
        _unhtml(pl.col("brand")).alias("brand"),
        pl.col("category").list.eval(_unhtml(pl.element())).list.drop_nulls().alias("category"),
        _unhtml(pl.col("description").list.join(" ")).alias("description"),
        price.cast(pl.Float64, strict=False).alias("price"),
    )
    items, report = validate_items(
        frame, file=raw.file, config=ValidationConfig(mode=mode), structural=raw.errors
    )
    if duplicates := raw.frame.height - frame.height:
        logger.info("%s: %d exact duplicate records dropped", raw.file, duplicates)
    return items, report


def read_amazon2018(
    ratings: str | Path, metadata: str | Path | None = None, *, name: str | None = None, mode: Mode = "strict"
) -> Dataset:
    """Amazon 2018 "ratings only" CSV (``item,user,rating,timestamp``, no header) + optional metadata.

    Ratings are ``event="rating"`` with day-resolution timestamps.
    """
    raw = read_raw(ratings, format="csv", has_header=False, columns=["item_id", "user_id", "value", "ts"])
    events, report = validate_events(
        raw.frame,
        file=raw.file,
        config=ValidationConfig(mode=mode),
        structural=raw.errors,
        event_default="rating",
    )
    reports = [report]
    items = None
    if metadata is not None:
        items, item_report = read_amazon_metadata(metadata, mode=mode)
        reports.append(item_report)
    meta = dataset_meta(Path(ratings).parent, "days", *reports, format="amazon-2018")
    return Dataset(name or Path(ratings).name.split(".")[0], sort_events(events), items, None, meta)
