"""EASE against its closed form computed directly in numpy, and the head/tail split of max_items."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models.ease import EASE, EASEConfig, ease_weights


def random_log(make_log: Any, n_users: int = 40, n_items: int = 15, seed: int = 0) -> InteractionLog:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, n_users + 1):
        for k, i in enumerate(rng.choice(np.arange(1, n_items + 1), size=rng.integers(2, 7), replace=False)):
            rows.append((u, int(i), float(k)))
    # every item at least once, so the head covers the whole catalogue
    rows += [(1, i, 100.0 + i) for i in range(1, n_items + 1)]
    return make_log(rows, n_users, n_items)


def numpy_ease(x: np.ndarray, l2: float) -> np.ndarray:
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    b: np.ndarray = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def test_ease_weights_match_numpy() -> None:
    rng = np.random.default_rng(1)
    x = (rng.random((50, 12)) < 0.3).astype(np.float64)
    b = ease_weights(x.T @ x, l2=3.0, double_precision=True)
    np.testing.assert_allclose(b, numpy_ease(x, 3.0), rtol=1e-5, atol=1e-7)
    assert np.all(np.diag(b) == 0)


@pytest.mark.parametrize("double_precision", [False, True])
def test_scores_match_closed_form(make_log: Any, double_precision: bool) -> None:
    log = random_log(make_log)
    model = EASE(EASEConfig(l2=5.0, double_precision=double_precision)).fit(log)
    x = log.matrix().toarray()[1:, 1:].astype(np.float64)
    expected = x @ numpy_ease(x, 5.0)
    scores = model.score(log.histories())
    np.testing.assert_allclose(scores[:, 1:], expected, rtol=1e-4, atol=1e-5)


def test_max_items_runs_ease_on_the_head_and_ranks_the_tail_after_it(make_log: Any) -> None:
    log = random_log(make_log, n_users=60, n_items=20, seed=3)
    users_per_item = np.asarray(log.matrix().sum(axis=0)).ravel()
    head = np.sort(np.argsort(-users_per_item[1:], kind="stable")[:8] + 1)
    tail = np.setdiff1d(np.arange(1, 21), head)
    model = EASE(EASEConfig(l2=5.0, max_items=8)).fit(log)
    scores = model.score(log.histories())

    x = log.matrix().toarray()[1:, :][:, head].astype(np.float64)
    rows = x.sum(axis=1) > 0  # users with a head item; the others get popularity (next test)
    assert 0 < rows.sum() < 60
    expected = x @ numpy_ease(x, 5.0)
    np.testing.assert_allclose(scores[rows][:, head], expected[rows], rtol=1e-4, atol=1e-5)
    assert np.all(scores[rows][:, tail].max(axis=1) < scores[rows][:, head].min(axis=1))
    # within the tail, more users = higher score
    by_pop = tail[np.argsort(-users_per_item[tail], kind="stable")]
    assert np.all(np.diff(scores[0, by_pop]) <= 0)
    # without a head item: popularity over the whole catalogue
    by_pop_all = np.argsort(-users_per_item[1:], kind="stable") + 1
    assert np.all(np.diff(scores[~rows][:, by_pop_all], axis=1) <= 0)


def test_history_without_head_items_gets_popularity(make_log: Any) -> None:
    # items 1, 2 popular; 3 has one user; with max_items=2 item 3 is tail
    rows = [(u, 1, 0.0) for u in range(1, 5)] + [(u, 2, 1.0) for u in range(1, 4)] + [(1, 3, 2.0)]
    model = EASE(EASEConfig(l2=1.0, max_items=2)).fit(make_log(rows, 4, 4))
    assert model.recommend(Histories.from_lists([[3], []]), k=3, exclude_seen=False).tolist() == [
        [1, 2, 3],
        [1, 2, 3],
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"l2": 0.0}, "EASEConfig.l2 must be a number > 0, got 0.0"),
        ({"l2": float("nan")}, "EASEConfig.l2 must be a number > 0, got nan"),
        ({"max_items": 0}, "EASEConfig.max_items must be an integer >= 1, got 0"),
        ({"max_items": 2.5}, "EASEConfig.max_items must be an integer >= 1, got 2.5"),
        ({"double_precision": 1}, "EASEConfig.double_precision must be a bool, got 1"),
        ({"num_threads": -1}, "EASEConfig.num_threads must be an integer >= 0, got -1"),
    ],
)
def test_config_validation(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as err:
        EASEConfig(**params)
    assert str(err.value) == message
