"""Popularity baselines: counts, the recent window, its tie-break, and config checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models.popularity import MostPopular, MostPopularConfig, RecentPopular, RecentPopularConfig


def test_most_popular_scores_are_counts(popular: InteractionLog) -> None:
    scores = MostPopular().fit(popular).score(Histories.from_lists([[1], []]))
    expected = np.bincount(popular.item, minlength=13).astype(np.float32)
    np.testing.assert_array_equal(scores[0, 1:], expected[1:])
    np.testing.assert_array_equal(scores[1], scores[0])


def test_distinct_users_damps_repeats(make_log: Any) -> None:
    # user 1 views item 2 five times; items 1 has three different users
    log = make_log([(1, 2, float(t)) for t in range(5)] + [(u, 1, 0.0) for u in (1, 2, 3)], 3, 2)
    history = Histories.from_lists([[]])
    assert MostPopular().fit(log).recommend(history, k=1)[0, 0] == 2
    assert MostPopular(MostPopularConfig(distinct_users=True)).fit(log).recommend(history, k=1)[0, 0] == 1


def test_recent_window_counts_only_the_last_days(popular: InteractionLog) -> None:
    top = RecentPopular(RecentPopularConfig(window_days=5.0)).fit(popular)
    assert top.recommend(Histories.from_lists([[]]), k=5)[0].tolist() == [12, 11, 1, 2, 3]
    # a window covering the whole log is all-time popularity
    whole = RecentPopular(RecentPopularConfig(window_days=1000.0)).fit(popular)
    assert whole.recommend(Histories.from_lists([[]]), k=5)[0].tolist() == [1, 2, 3, 4, 5]


def test_recent_window_edge_is_inclusive(make_log: Any) -> None:
    # item 2 exactly one day before the last event is inside a one-day window
    log = make_log([(1, 1, 0.0), (1, 1, 1.0), (2, 2, 23.0), (3, 3, 47.0)], 3, 3)
    model = RecentPopular(RecentPopularConfig(window_days=1.0)).fit(log)
    assert model.recommend(Histories.from_lists([[]]), k=3)[0].tolist() == [2, 3, 1]


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (
            RecentPopularConfig,
            {"window_days": 0},
            "RecentPopularConfig.window_days must be a number > 0, got 0",
        ),
        (
            RecentPopularConfig,
            {"window_days": float("inf")},
            "RecentPopularConfig.window_days must be a number > 0, got inf",
        ),
        (
            MostPopularConfig,
            {"distinct_users": "no"},
            "MostPopularConfig.distinct_users must be a bool, got 'no'",
        ),
    ],
)
def test_config_validation(cls: type, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as err:
        cls(**params)
    assert str(err.value) == message
