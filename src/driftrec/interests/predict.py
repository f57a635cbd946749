"""Where a shopper's interest goes next: the next *new* category, on a temporal split.

A user's events collapse into category **runs** (maximal stretches of consecutive events in one category,
cut at any depth of the tree); the run sequence ``A A B A C`` -> ``A B A C`` holds exactly the moves
between categories. Predicting the next run's category is predicting the next category different from
the current one. Any next-item model then works on runs by treating categories as items: here a
first-order Markov chain over category moves with popularity backoff (:class:`~driftrec.models.markov.
MarkovChain`) and the Transformer of :mod:`driftrec.models.sequential` (SASRec-style, causal).

Temporal protocol (:func:`next_category_split`): models are fitted on runs built from events strictly
before ``T``; every move at or after ``T`` is a test case whose history is the user's runs from events
strictly before that move (the model's parameters stay those learnt before ``T``). The current category
can never be the answer, so it is masked before ranking; categories first seen after ``T`` count as misses.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.idmap import IdMap
from driftrec.data.interactions import Histories, InteractionLog
from driftrec.data.splits import EvalSet, to_microseconds
from driftrec.interests.profiles import category_at_level
from driftrec.models.markov import MarkovChain, MarkovConfig
from driftrec.models.sequential import SequentialConfig, SequentialRecommender

__all__ = [
    "CategoryMarkov",
    "CategorySplit",
    "CategoryTransformer",
    "accuracy_at_k",
    "category_runs",
    "evaluate_next_category",
    "next_category_split",
]

logger = logging.getLogger(__name__)
_NEG = np.float32(-np.inf)


def category_runs(
    events: pl.DataFrame | pl.LazyFrame,
    items: pl.DataFrame | pl.LazyFrame,
    *,
    level: int = 0,
    event_types: Sequence[str] | None = None,
) -> pl.DataFrame:
    """One row per run of consecutive same-category events of a user, in time order (vectorised).

    Columns: ``user_id, run`` (0-based per user), ``category, start, end`` (first and last event time),
    ``n_events``. Events without a category (or of types outside ``event_types``) are skipped, so they
    neither end nor split a run.
    """
    ev = events.lazy().select("user_id", "item_id", "ts", "event").with_row_index("_order")
    if event_types is not None:
        ev = ev.filter(pl.col("event").is_in(list(event_types)))
    cats = items.lazy().select("item_id", category_at_level("category", level).alias("category"))
    joined = (
        ev.join(cats, on="item_id", how="inner")
        .filter(pl.col("category").is_not_null() & (pl.col("category") != ""))
        .sort("user_id", "ts", "_order")
    )
    new_run = (pl.col("category") != pl.col("category").shift(1)).over("user_id").fill_null(True)
    return (
        joined.with_columns(run=new_run.cast(pl.Int32).cum_sum().over("user_id") - 1)
        .group_by("user_id", "run", maintain_order=True)
        .agg(
            pl.col("category").first(),
            pl.col("ts").min().alias("start"),
            pl.col("ts").max().alias("end"),
            pl.len().cast(pl.Int64).alias("n_events"),
        )
        .sort("user_id", "run")
        .collect()
    )


# ------------------------------------------------------------------------------------------------ split
@dataclass(frozen=True)
class CategorySplit:
    """train: one row per training run (item = category id, ts = run start) for next-item models;
    test/valid: histories of runs before each move and its target category (one per row, 0 = a category
    unknown at training time); categories: dense id -> category name; cutoff_us: T.
    """

    train: InteractionLog
    test: EvalSet
    valid: EvalSet
    categories: IdMap
    cutoff_us: int
    protocol: dict[str, object] = field(default_factory=dict)

    @property
    def n_categories(self) -> int:
        return len(self.categories)


def _runs_before(events: pl.DataFrame, items: pl.DataFrame, level: int, cutoff_us: int) -> pl.DataFrame:
    return category_runs(events.filter(pl.col("ts").dt.epoch("us") < cutoff_us), items, level=level)


def _log(runs: pl.DataFrame, users: IdMap, cats: IdMap) -> InteractionLog:
    user = users.encode(runs.get_column("user_id"))
    item = cats.encode(runs.get_column("category"))
    ts = runs.get_column("start").dt.epoch("us").to_numpy().astype(np.int64)
    keep = (user > 0) & (item > 0)
    order = np.lexsort((ts[keep], user[keep]))
    n = int(keep.sum())
    return InteractionLog(
        user[keep][order],
        item[keep][order],
        ts[keep][order],
        np.zeros(n, dtype=np.int8),
        np.full(n, np.nan, dtype=np.float32),
        len(users),
        len(cats),
    )


def _moves(runs: pl.DataFrame, users: IdMap, cats: IdMap, start_us: int, end_us: int | None) -> EvalSet:
    """Every move into a run starting in ``[start_us, end_us)``: history = the user's earlier runs."""
    runs = runs.with_columns(
        uid=pl.Series(users.encode(runs.get_column("user_id"))),
        cid=pl.Series(cats.encode(runs.get_column("category"))),
        start_us=pl.col("start").dt.epoch("us"),
    ).filter(pl.col("uid") > 0)
    runs = runs.sort("uid", "run")
    offsets = np.zeros(runs.height + 1, dtype=np.int64)
    uid = runs.get_column("uid").to_numpy()
    cid = runs.get_column("cid").to_numpy().astype(np.int64)
    st = runs.get_column("start_us").to_numpy().astype(np.int64)
    first_of_user = np.ones(runs.height, dtype=bool)
    first_of_user[1:] = uid[1:] != uid[:-1]
    in_period = (st >= start_us) & (np.ones_like(st, dtype=bool) if end_us is None else st < end_us)
    case = np.flatnonzero(in_period & ~first_of_user)
    user_start = np.maximum.accumulate(np.where(first_of_user, np.arange(runs.height), 0))
    h_start, h_end = user_start[case], case
    hist_items = cid[_ranges(h_start, h_end - h_start)]
    hist_ts = st[_ranges(h_start, h_end - h_start)]
    known = hist_items > 0  # categories unknown at training time cannot be embedded: drop from histories
    lengths = np.bincount(np.repeat(np.arange(case.size), h_end - h_start)[known], minlength=case.size)
    offsets = np.zeros(case.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    users_arr = uid[case].astype(np.int64)
    histories = Histories(users_arr, offsets, hist_items[known], hist_ts[known], None)
    t_off = np.arange(case.size + 1, dtype=np.int64)
    targets = Histories(users_arr, t_off, cid[case], st[case], None)
    return EvalSet(histories, targets)


def _ranges(starts: NDArray[np.int64], lengths: NDArray[np.int64]) -> NDArray[np.int64]:
    out_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - out_starts, lengths)


def next_category_split(
    events: pl.DataFrame,
    items: pl.DataFrame,
    test_start: dt.datetime | int,
    *,
    level: int = 0,
    valid_start: dt.datetime | int | None = None,
    test_end: dt.datetime | int | None = None,
) -> CategorySplit:
    """Temporal split for next-new-category prediction (see the module docstring).

    Training runs come from events before ``valid_start`` (or ``test_start``); validation moves lie in
    ``[valid_start, test_start)`` with histories from events before each move; test moves lie in
    ``[test_start, test_end)``. Only users with runs before the training cut-off are evaluated.
    """
    t_test = to_microseconds(test_start)
    t_valid = t_test if valid_start is None else to_microseconds(valid_start)
    if t_valid > t_test:
        raise ValueError("valid_start must not be after test_start")
    t_end = None if test_end is None else to_microseconds(test_end)
    if t_end is not None and t_end <= t_test:
        raise ValueError("test_end must be after test_start")
    train_runs = _runs_before(events, items, level, t_valid)
    if train_runs.height == 0:
        raise ValueError("no categorised event before the training cut-off")
    users = IdMap.build(train_runs.get_column("user_id"))
    cats = IdMap.build(train_runs.get_column("category"))
    # histories of later moves may include events after T, but only those before each move
    everything = events if t_end is None else events.filter(pl.col("ts").dt.epoch("us") < t_end)
    all_runs = category_runs(everything, items, level=level)
    test = _moves(all_runs, users, cats, t_test, t_end)
    valid = _moves(all_runs, users, cats, t_valid, t_test)
    protocol: dict[str, object] = {
        "split": "global-temporal",
        "unit": "category runs (next new category)",
        "level": level,
        "valid_start_us": t_valid,
        "test_start_us": t_test,
        "test_end_us": t_end,
        "test_moves": len(test),
        "valid_moves": len(valid),
        "test_users": int(np.unique(test.histories.user).size),
        "unknown_target_share": float(np.mean(test.targets.items == 0)) if len(test) else 0.0,
        "current_category_masked": True,
    }
    return CategorySplit(_log(train_runs, users, cats), test, valid, cats, t_test, protocol)


# ---------------------------------------------------------------------------------------------- metrics
def accuracy_at_k(
    scores: NDArray[np.floating], current: NDArray[np.int64], target: NDArray[np.int64], ks: Sequence[int]
) -> dict[str, float]:
    """Share of cases whose target is in the top k once padding (0) and the current category are masked.

    ``scores``: (B, C+1); ``current``: (B,) the last category of each history (0 = none); ``target``: (B,)
    (0 = unknown category, always a miss). Ties are broken against the target (pessimistic).
    """
    s = np.array(scores, dtype=np.float32, copy=True)
    b = s.shape[0]
    if current.shape != (b,) or target.shape != (b,):
        raise ValueError(f"current and target must have shape ({b},), got {current.shape} and {target.shape}")
    if b == 0:
        raise ValueError("no cases to evaluate")
    rows = np.arange(b)
    s[:, 0] = _NEG
    s[rows[current > 0], current[current > 0]] = _NEG
    target_score = s[rows, target]
    rank = (s >= target_score[:, None]).sum(axis=1)  # 1 = best; ties count against the target
    valid = (target > 0) & np.isfinite(target_score)
    return {f"accuracy@{k}": float(np.mean(valid & (rank <= k))) for k in ks}


class Scorer(Protocol):
    def score(self, histories: Histories) -> NDArray[np.float32]: ...


def _current(histories: Histories) -> NDArray[np.int64]:
    last, mask = histories.last(1)
    return np.where(mask[:, 0], last[:, 0], 0).astype(np.int64)


def evaluate_next_category(
    model: Scorer, cases: EvalSet, ks: Sequence[int] = (1, 5, 10), batch_size: int = 1024
) -> dict[str, float]:
    """accuracy@k of ``model`` on the moves in ``cases`` (one target each), in batches."""
    hits: dict[str, float] = {f"accuracy@{k}": 0.0 for k in ks}
    n = len(cases)
    for start in range(0, n, batch_size):
        rows = np.arange(start, min(start + batch_size, n), dtype=np.int64)
        hist = cases.histories.take(rows)
        acc = accuracy_at_k(model.score(hist), _current(hist), cases.targets.take(rows).items, ks)
        for key, value in acc.items():
            hits[key] += value * rows.size
    return {key: value / n for key, value in hits.items()}


# ----------------------------------------------------------------------------------------------- models
class CategoryMarkov:
    """First-order Markov chain over category moves with popularity backoff (the baseline)."""

    def __init__(self, smoothing: float = 1.0) -> None:
        self.chain = MarkovChain(MarkovConfig(smoothing=smoothing, window=1, skip_repeats=True))

    def fit(self, split: CategorySplit) -> CategoryMarkov:
        self.chain.fit(split.train)
        return self

    def score(self, histories: Histories) -> NDArray[np.float32]:
        return self.chain.score(histories)


class _MovesValidated(SequentialRecommender):
    """The sequence model, early-stopped on accuracy@k of next *new* categories (current one masked)."""

    def _validator(self, valid: EvalSet) -> Callable[[], dict[str, float]]:
        monitor = self.config.training.monitor
        k = int(monitor.rsplit("@", 1)[1])

        def validate() -> dict[str, float]:
            acc = evaluate_next_category(self, valid, (k,), self.config.score_batch_size)
            return {monitor: acc[f"accuracy@{k}"]}

        return validate


class CategoryTransformer:
    """A causal Transformer (SASRec-style) over category runs; early stops on validation moves."""

    def __init__(self, config: SequentialConfig | None = None) -> None:
        self.model = _MovesValidated(config or SequentialConfig())

    def fit(self, split: CategorySplit) -> CategoryTransformer:
        valid = split.valid if len(split.valid) else None
        self.model.fit(split.train, valid)
        return self

    def score(self, histories: Histories) -> NDArray[np.float32]:
        return self.model.score(histories)
