"""Training data for the ranker: impressions with click labels, from logs or by negative sampling.

Three sources, chosen by what a log holds (the result records which one was used):

* ``"logged"``: the log *is* an impression log (Open Bandit Dataset: one row per item shown, with
  ``click``); context columns (slot position, user features) and the shown item's affinity ride along.
* ``"views"``: a view is an impression and its label says whether a positive behaviour (click; or
  cart/purchase for conversion) of the same user on the same item followed within ``window_s``
  (synthetic shop: views and their clicks; Taobao: page views and later carts/purchases).
* ``"sampled"``: no impressions at all; each positive event is paired with ``n_negatives`` items drawn
  uniformly from the catalogue that the user had *not* interacted with before that moment (items the
  user meets later stay eligible: at that time they were genuinely not chosen).

Every impression keeps its time, so features can be computed point-in-time and splits are temporal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from driftrec.data.dataset import Dataset
from driftrec.data.idmap import IdMap
from driftrec.data.interactions import InteractionLog, encode_events
from driftrec.data.schema import EVENT_CODE
from driftrec.features.item_stats import ItemAttributes, item_attributes

__all__ = [
    "CTRTask",
    "Source",
    "ctr_task",
    "impressions_from_views",
    "label_rate",
    "sample_negatives",
    "shown_item_affinity",
    "split_by_time",
]

Source = Literal["auto", "logged", "views", "sampled"]


@dataclass(frozen=True)
class CTRTask:
    """Everything a ranker trains and is judged on, in dense ids.

    ``impressions``: ``user, item, ts, label`` (+ ``context_columns`` as Int64 codes and
    ``numeric_columns`` as Float64), sorted by time; ``log``: all behaviour events (features use only
    those before each impression).
    """

    name: str
    log: InteractionLog
    impressions: pl.DataFrame
    users: IdMap
    items: IdMap
    attributes: ItemAttributes
    context_columns: tuple[str, ...] = ()
    numeric_columns: tuple[str, ...] = ()
    protocol: dict[str, Any] = field(default_factory=dict)


def impressions_from_views(
    log: InteractionLog, positives: tuple[str, ...] = ("click",), window_s: float = 3_600.0
) -> pl.DataFrame:
    """Views as impressions; label 1 when a ``positives`` event on the same (user, item) follows within
    ``window_s`` seconds (strictly after the view, which the features never see)."""
    frame = pl.DataFrame({"user": log.user, "item": log.item, "ts": log.ts, "event": log.event})
    views = frame.filter(pl.col("event") == EVENT_CODE["view"]).drop("event").sort("ts")
    codes = [EVENT_CODE[p] for p in positives]
    pos = (
        frame.filter(pl.col("event").is_in(codes))
        .select("user", "item", pl.col("ts").alias("pos_ts"))
        .with_columns(pl.col("pos_ts").alias("ts"))
        .sort("ts")
    )
    joined = views.with_columns((pl.col("ts") + 1).alias("ts")).join_asof(
        pos,
        on="ts",
        by=["user", "item"],
        strategy="forward",
        tolerance=round(window_s * 1e6) - 1,
        check_sortedness=False,
    )
    return joined.select(
        "user",
        "item",
        (pl.col("ts") - 1).alias("ts"),
        pl.col("pos_ts").is_not_null().cast(pl.Int8).alias("label"),
    ).sort("ts", maintain_order=True)


def sample_negatives(
    log: InteractionLog, positives: pl.DataFrame, n_negatives: int, seed: int = 0, rounds: int = 4
) -> pl.DataFrame:
    """``positives`` (user, item, ts) labelled 1 plus up to ``n_negatives`` sampled items each, labelled 0.

    A candidate is rejected when the user interacted with it at or before the positive's time; rejected
    draws are redrawn ``rounds`` times, then dropped (rare unless a user has seen most of the catalogue).
    """
    if n_negatives < 1:
        raise ValueError(f"n_negatives must be >= 1, got {n_negatives}")
    rng = np.random.default_rng(seed)
    first = (
        pl.DataFrame({"user": log.user, "item": log.item, "ts": log.ts})
        .group_by("user", "item")
        .agg(pl.col("ts").min().alias("first_ts"))
    )
    base = positives.select("user", "item", "ts")
    need = base.select("user", "ts").with_row_index("_pos")
    need = need.select(pl.all().repeat_by(n_negatives).explode())
    kept: list[pl.DataFrame] = []
    for _ in range(rounds):
        if need.height == 0:
            break
        draw = need.with_columns(
            pl.Series("item", rng.integers(1, log.n_items + 1, need.height), dtype=pl.Int64)
        )
        checked = draw.join(first, on=["user", "item"], how="left").with_columns(
            (pl.col("first_ts").is_null() | (pl.col("first_ts") > pl.col("ts"))).alias("ok")
        )
        kept.append(checked.filter("ok").select("user", "item", "ts"))
        need = checked.filter(~pl.col("ok")).select("_pos", "user", "ts")
    negatives = pl.concat(kept) if kept else base.clear()
    out = pl.concat(
        [
            base.with_columns(pl.lit(1, dtype=pl.Int8).alias("label")),
            negatives.with_columns(pl.lit(0, dtype=pl.Int8).alias("label")),
        ]
    )
    return out.sort("ts", maintain_order=True)


def split_by_time(
    impressions: pl.DataFrame, valid: float = 0.1, test: float = 0.2
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Train / validation / test by global time: the last ``test`` share of impressions (by time) is test,
    the ``valid`` share before it validation. Returns the frames and the protocol (cut times)."""
    if not (0 < test < 1 and 0 <= valid < 1 and valid + test < 1):
        raise ValueError(
            f"need 0 < test < 1, 0 <= valid and valid + test < 1, got valid={valid}, test={test}"
        )
    ts = impressions.get_column("ts").to_numpy()
    t_test = int(np.quantile(ts, 1.0 - test))
    t_valid = int(np.quantile(ts, 1.0 - test - valid))
    train = impressions.filter(pl.col("ts") < t_valid)
    valid_f = impressions.filter((pl.col("ts") >= t_valid) & (pl.col("ts") < t_test))
    test_f = impressions.filter(pl.col("ts") >= t_test)
    protocol = {
        "split": "global-temporal",
        "valid_start_us": t_valid,
        "test_start_us": t_test,
        "train_impressions": train.height,
        "valid_impressions": valid_f.height,
        "test_impressions": test_f.height,
        "test_ctr": label_rate(test_f.get_column("label")),
    }
    return train, valid_f, test_f, protocol


def label_rate(column: pl.Series) -> float:
    """Mean of a numeric column as a float (0 for an empty one)."""
    return float(column.cast(pl.Float64).mean() or 0.0)  # type: ignore[arg-type]


def shown_item_affinity(events: pl.DataFrame) -> pl.Series | None:
    """OBD's ``user-item_affinity_<k>`` of the item actually shown (k = its ``item_id``), or None."""
    columns = [c for c in events.columns if c.startswith("user-item_affinity_")]
    if not columns:
        return None
    index = {c.rsplit("_", 1)[1]: k for k, c in enumerate(columns)}
    pos = events.get_column("item_id").replace_strict(index, default=None, return_dtype=pl.Int64)
    values = (
        events.select(pl.concat_list([pl.col(c).cast(pl.Float64) for c in columns]).alias("a"))
        .with_columns(pos.alias("k"))
        .select(pl.col("a").list.get(pl.col("k"), null_on_oob=True).fill_null(0.0).alias("affinity"))
    )
    return values.to_series()


def _logged(
    dataset: Dataset, users: IdMap, items: IdMap
) -> tuple[pl.DataFrame, tuple[str, ...], tuple[str, ...]]:
    """An impression log's rows (OBD): label = ``click``, contexts = position and ``user_feature_*``."""
    ev = dataset.events
    contexts = tuple(c for c in ev.columns if c == "position" or c.startswith("user_feature_"))
    frame = pl.DataFrame(
        {
            "user": users.encode(ev.get_column("user_id")),
            "item": items.encode(ev.get_column("item_id")),
            "ts": ev.get_column("ts").dt.epoch("us").to_numpy(),
            "label": ev.get_column("click").cast(pl.Int8).to_numpy()
            if "click" in ev.columns
            else (ev.get_column("event") == "click").cast(pl.Int8).to_numpy(),
        }
    )
    for c in contexts:  # string codes -> dense ints (0 = missing), per column
        col = ev.get_column(c).cast(pl.String).fill_null("")
        frame = frame.with_columns(pl.Series(c, col.rank("dense").cast(pl.Int64).to_numpy()))
    numeric: tuple[str, ...] = ()
    affinity = shown_item_affinity(ev) if "affinity" not in ev.columns else ev.get_column("affinity")
    if affinity is not None:
        frame = frame.with_columns(pl.Series("affinity", affinity.cast(pl.Float64).fill_null(0.0).to_numpy()))
        numeric = ("affinity",)
    frame = frame.filter((pl.col("user") > 0) & (pl.col("item") > 0)).sort("ts", maintain_order=True)
    return frame, contexts, numeric


def ctr_task(
    dataset: Dataset,
    source: Source = "auto",
    positives: tuple[str, ...] = ("click",),
    window_s: float = 3_600.0,
    n_negatives: int = 4,
    category_level: int = 1,
    seed: int = 0,
) -> CTRTask:
    """Build the impressions of ``dataset`` (see the module docstring for ``source``; ``"auto"`` picks
    ``logged`` when a ``click`` column exists, ``views`` when there are views and ``positives``, else
    ``sampled``)."""
    log, users, items = encode_events(dataset.events)
    attributes = item_attributes(items, dataset.items, category_level)
    events = set(dataset.events.get_column("event").unique().to_list())
    if source == "auto":
        if "click" in dataset.events.columns:
            source = "logged"
        elif "view" in events and events & set(positives):
            source = "views"
        else:
            source = "sampled"
    contexts: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    protocol: dict[str, Any] = {"impressions": source}
    if source == "logged":
        frame, contexts, numeric = _logged(dataset, users, items)
        protocol["label"] = "click"
    elif source == "views":
        frame = impressions_from_views(log, positives, window_s)
        protocol.update(label=f"{'/'.join(positives)} within {window_s:g}s after the view")
    elif source == "sampled":
        pos = pl.DataFrame({"user": log.user, "item": log.item, "ts": log.ts})
        frame = sample_negatives(
            log, pos.unique(["user", "item"], keep="first", maintain_order=True), n_negatives, seed
        )
        protocol.update(
            label="first interaction with the item", negatives=f"{n_negatives} uniform, unseen then"
        )
    else:
        raise ValueError(f"source must be one of auto, logged, views, sampled; got {source!r}")
    if frame.height == 0:
        raise ValueError(f"dataset {dataset.name!r} gave no impressions with source {source!r}")
    return CTRTask(dataset.name, log, frame, users, items, attributes, contexts, numeric, protocol)
