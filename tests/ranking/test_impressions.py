"""Impressions from views, negative sampling and the temporal split."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from driftrec.data.interactions import InteractionLog
from driftrec.data.schema import EVENT_CODE
from driftrec.ranking.impressions import impressions_from_views, sample_negatives, split_by_time

S = 1_000_000
V, C, P = EVENT_CODE["view"], EVENT_CODE["click"], EVENT_CODE["purchase"]


def _log(rows: list[tuple[int, int, int, int]], n_users: int = 2, n_items: int = 5) -> InteractionLog:
    rows = sorted(rows, key=lambda r: (r[0], r[2]))
    a = np.array(rows, dtype=np.int64)
    return InteractionLog(
        a[:, 0],
        a[:, 1],
        a[:, 2],
        a[:, 3].astype(np.int8),
        np.full(len(rows), np.nan, np.float32),
        n_users,
        n_items,
    )


def test_a_view_is_clicked_when_a_click_follows_within_the_window() -> None:
    log = _log([(1, 1, 0, V), (1, 1, 10 * S, C), (1, 2, 20 * S, V), (1, 2, 5000 * S, C), (2, 3, 30 * S, V)])
    imp = impressions_from_views(log, ("click",), window_s=3600)
    assert imp.select("user", "item", "label").rows() == [(1, 1, 1), (1, 2, 0), (2, 3, 0)]
    assert imp.get_column("ts").to_list() == [0, 20 * S, 30 * S]


def test_conversion_labels_use_the_given_positives() -> None:
    log = _log([(1, 1, 0, V), (1, 1, 10 * S, C), (1, 2, 20 * S, V), (1, 2, 40 * S, P)])
    imp = impressions_from_views(log, ("cart", "purchase"), window_s=86_400)
    assert imp.get_column("label").to_list() == [0, 1]


def test_sampled_negatives_were_not_interacted_with_at_that_time() -> None:
    log = _log([(1, 1, 0, V), (1, 2, 10, V), (1, 3, 20, V), (2, 4, 5, V)], n_items=6)
    pos = pl.DataFrame({"user": [1], "item": [3], "ts": [20]})
    out = sample_negatives(log, pos, n_negatives=30, seed=0)
    neg = out.filter(pl.col("label") == 0)
    assert neg.height > 0
    assert not set(neg.get_column("item").to_list()) & {1, 2, 3}  # all met at or before t=20
    assert out.filter(pl.col("label") == 1).height == 1


def test_split_by_time_is_ordered_and_complete() -> None:
    frame = pl.DataFrame({"user": [1] * 10, "item": [1] * 10, "ts": list(range(10)), "label": [0, 1] * 5})
    train, valid, test, _ = split_by_time(frame, valid=0.2, test=0.3)
    assert train.height + valid.height + test.height == 10
    assert train.get_column("ts").max() < valid.get_column("ts").min() <= valid.get_column("ts").max()  # type: ignore[operator]
    assert valid.get_column("ts").max() < test.get_column("ts").min()  # type: ignore[operator]
    with pytest.raises(ValueError, match="valid"):
        split_by_time(frame, valid=0.5, test=0.6)
