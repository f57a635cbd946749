"""ALS/BPR specifics: which users use learned factors, how the rest are folded in, config checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from driftrec.data.interactions import Histories
from driftrec.models.implicit_mf import ALSConfig, BPRConfig, ImplicitALS, ImplicitBPR

ALS_PARAMS = {"factors": 4, "iterations": 30, "regularization": 1.0, "num_threads": 1}


def test_als_known_users_use_learned_factors(cycle: Any) -> None:
    model = ImplicitALS(ALSConfig(**ALS_PARAMS)).fit(cycle.log)
    scores = model.score(Histories.from_lists([[]], user=[3]))
    np.testing.assert_allclose(scores[0, 1:], model.factors.user[3] @ model.factors.item[1:].T, rtol=1e-6)


def test_als_fold_in_is_close_to_the_learned_factors(cycle: Any) -> None:
    # after convergence, one more least-squares step for a user barely moves their factors
    learned = ImplicitALS(ALSConfig(**ALS_PARAMS)).fit(cycle.log)
    folded = ImplicitALS(ALSConfig(**ALS_PARAMS, recalculate_known_users=True)).fit(cycle.log)
    np.testing.assert_allclose(
        folded.score(cycle.histories)[:, 1:], learned.score(cycle.histories)[:, 1:], atol=1e-3
    )


def test_users_without_training_events_are_folded_in(make_log: Any) -> None:
    # user 3 exists in the id space (e.g. only in the test split) but has no training rows
    rows = [(1, 1, 0.0), (1, 2, 1.0), (2, 1, 0.0), (2, 2, 1.0), (2, 3, 2.0)]
    model = ImplicitALS(ALSConfig(**ALS_PARAMS)).fit(make_log(rows, 3, 3))
    as_user_3 = model.score(Histories.from_lists([[1, 2]], user=[3]))
    anonymous = model.score(Histories.from_lists([[1, 2]], user=[0]))
    np.testing.assert_array_equal(as_user_3, anonymous)
    assert np.any(as_user_3[0, 1:] != 0)


def test_bpr_fold_in_is_the_mean_of_item_vectors(cycle: Any) -> None:
    model = ImplicitBPR(BPRConfig(factors=4, iterations=20, num_threads=1)).fit(cycle.log)
    item = model.factors.item
    user = item[[2, 4, 4]].mean(axis=0)
    user[-1] = 1.0  # picks up the item bias
    scores = model.score(Histories.from_lists([[2, 4, 4]]))
    np.testing.assert_allclose(scores[0, 1:], item[1:] @ user, rtol=1e-5, atol=1e-6)
    assert item.shape[1] == 5  # factors + the bias column


def test_empty_anonymous_history_gets_popularity(make_log: Any) -> None:
    rows = [(u, 3, 0.0) for u in (1, 2, 3)] + [(1, 1, 1.0), (2, 1, 1.0), (1, 2, 2.0)]
    for model in (ImplicitALS(ALSConfig(**ALS_PARAMS)), ImplicitBPR(BPRConfig(num_threads=1))):
        model.fit(make_log(rows, 3, 3))
        assert model.recommend(Histories.from_lists([[]]), k=3)[0].tolist() == [3, 1, 2]


@pytest.mark.parametrize(
    ("cls", "params", "message"),
    [
        (ALSConfig, {"factors": 0}, "ALSConfig.factors must be an integer >= 1, got 0"),
        (ALSConfig, {"alpha": 0.0}, "ALSConfig.alpha must be a number > 0, got 0.0"),
        (
            ALSConfig,
            {"num_threads": -1},
            "ALSConfig.num_threads must be an integer >= 0 (0 = all cores), got -1",
        ),
        (ALSConfig, {"seed": -3}, "ALSConfig.seed must be an integer >= 0, got -3"),
        (BPRConfig, {"learning_rate": 0}, "BPRConfig.learning_rate must be a number > 0, got 0"),
        (BPRConfig, {"iterations": 0}, "BPRConfig.iterations must be an integer >= 1, got 0"),
        (BPRConfig, {"regularization": -0.1}, "BPRConfig.regularization must be a number >= 0, got -0.1"),
    ],
)
def test_config_validation(cls: type, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as err:
        cls(**params)
    assert str(err.value) == message
