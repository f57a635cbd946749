"""One contract, many models: every registered model is checked here on tiny logs with known answers.

A new model joins by adding its registry entry and a line to CASES saying what it can be held to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models import MODELS, Recommender, create, load_model


@dataclass(frozen=True)
class Case:
    params: dict[str, Any] = field(default_factory=dict)
    #: "held-out first": on the cycle log the held-out item ranks first for every user;
    #: "popularity": on the popularity log the ranking is the known popularity order.
    claim: str = "held-out first"


CASES: dict[str, Case] = {
    "most-popular": Case(claim="popularity"),
    "recent-popular": Case({"window_days": 5.0}, claim="popularity"),
    "itemknn": Case({"neighbours": 10}),
    "ease": Case({"l2": 1.0}),
    "markov": Case(),
    "als": Case({"factors": 4, "iterations": 20, "regularization": 1.0, "num_threads": 1}),
    "bpr": Case({"factors": 8, "iterations": 300, "learning_rate": 0.05, "num_threads": 1}),
    "sasrec": Case({"training": {"epochs": 30, "batch_size": 8, "lr": 0.01, "num_threads": 1}}),
    "bert4rec": Case({"training": {"epochs": 30, "batch_size": 8, "lr": 0.01, "num_threads": 1}}),
}

#: For the popularity claim: what an anonymous user who has seen item 1 gets, top 4.
POPULAR_TOP4 = {"most-popular": [2, 3, 4, 5], "recent-popular": [12, 11, 2, 3]}

NAMES = sorted(MODELS)


def fit(name: str, log: InteractionLog) -> Recommender:
    return create(name, **CASES[name].params).fit(log)


@pytest.fixture(scope="module")
def fitted(cycle: Any) -> dict[str, Recommender]:
    return {name: fit(name, cycle.log) for name in NAMES}


def anonymous(histories: Histories) -> Histories:
    return Histories(np.zeros(len(histories), np.int64), histories.offsets, histories.items)


def test_every_registered_model_declares_what_it_is_held_to() -> None:
    assert set(CASES) == set(MODELS)


@pytest.mark.parametrize("name", NAMES)
def test_model_satisfies_protocol_and_name_matches_registry(name: str) -> None:
    model = create(name, **CASES[name].params)
    assert isinstance(model, Recommender)
    assert model.name == name
    assert MODELS[name].name == name


@pytest.mark.parametrize("name", NAMES)
def test_scores_shape_dtype_and_padding(name: str, fitted: dict[str, Recommender], cycle: Any) -> None:
    scores = fitted[name].score(cycle.histories)
    assert scores.shape == (24, 13)
    assert scores.dtype == np.float32
    assert np.all(scores[:, 0] == -np.inf)
    assert np.all(np.isfinite(scores[:, 1:]))


@pytest.mark.parametrize("name", NAMES)
def test_recommend_shape_and_exclude_seen(name: str, fitted: dict[str, Recommender], cycle: Any) -> None:
    model = fitted[name]
    recs = model.recommend(cycle.histories, k=7)
    assert recs.shape == (24, 7)
    assert recs.dtype == np.int64
    for b in range(24):
        seen = set(cycle.histories.sequence(b).tolist())
        assert not seen & set(recs[b].tolist())
        assert 0 not in recs[b]
    with_seen = model.recommend(cycle.histories, k=12, exclude_seen=False)
    assert sorted(with_seen[0].tolist()) == list(range(1, 13))


@pytest.mark.parametrize("name", [n for n in NAMES if CASES[n].claim == "held-out first"])
def test_held_out_item_ranks_first(name: str, fitted: dict[str, Recommender], cycle: Any) -> None:
    model = fitted[name]
    np.testing.assert_array_equal(model.recommend(cycle.histories, k=1)[:, 0], cycle.held_out)
    # an unknown user with the same history gets the same answer from the history alone
    np.testing.assert_array_equal(model.recommend(anonymous(cycle.histories), k=1)[:, 0], cycle.held_out)


@pytest.mark.parametrize("name", [n for n in NAMES if CASES[n].claim == "popularity"])
def test_popularity_order(name: str, popular: InteractionLog) -> None:
    model = fit(name, popular)
    recs = model.recommend(Histories.from_lists([[1], [1, 12]]), k=4)
    assert recs[0].tolist() == POPULAR_TOP4[name]
    assert 12 not in recs[1] and 1 not in recs[1]


@pytest.mark.parametrize("name", NAMES)
def test_save_load_gives_identical_scores(
    name: str, fitted: dict[str, Recommender], cycle: Any, tmp_path: Path
) -> None:
    model = fitted[name]
    model.save(tmp_path / name)
    loaded = load_model(tmp_path / name)
    assert type(loaded) is type(model)
    assert type(model).load(tmp_path / name).name == name
    for batch in (cycle.histories, anonymous(cycle.histories)):
        np.testing.assert_array_equal(loaded.score(batch), model.score(batch))


@pytest.mark.parametrize("name", NAMES)
def test_refit_with_same_config_is_deterministic(
    name: str, fitted: dict[str, Recommender], cycle: Any
) -> None:
    again = fit(name, cycle.log)
    for batch in (cycle.histories, anonymous(cycle.histories)):
        np.testing.assert_array_equal(again.score(batch), fitted[name].score(batch))


@pytest.mark.parametrize("name", NAMES)
def test_unknown_users_and_empty_histories_get_finite_scores(
    name: str, fitted: dict[str, Recommender]
) -> None:
    batch = Histories.from_lists([[], [2, 4], [7]], user=[0, 0, 999])
    scores = fitted[name].score(batch)
    assert scores.shape == (3, 13)
    assert np.all(np.isfinite(scores[:, 1:]))
    assert fitted[name].recommend(batch, k=3).shape == (3, 3)


@pytest.mark.parametrize("name", NAMES)
def test_items_never_seen_in_training_still_get_finite_scores(name: str, make_log: Any) -> None:
    # item 6 exists in the catalogue but nobody touched it in training
    log = make_log([(1, 1, 0.0), (1, 2, 1.0), (2, 2, 0.0), (2, 3, 1.0), (3, 1, 0.0), (3, 5, 1.0)], 3, 6)
    model = fit(name, log)
    scores = model.score(Histories.from_lists([[1], [6], []]))
    assert np.all(np.isfinite(scores[:, 1:]))


@pytest.mark.parametrize("name", NAMES)
def test_rejects_item_ids_outside_the_catalogue(name: str, fitted: dict[str, Recommender]) -> None:
    with pytest.raises(ValueError, match=r"history item ids must lie in 1\.\.12"):
        fitted[name].score(Histories.from_lists([[1, 13]]))


@pytest.mark.parametrize("name", NAMES)
def test_unfitted_model_says_so(name: str, tmp_path: Path) -> None:
    model = create(name)
    with pytest.raises(RuntimeError, match="not fitted"):
        model.score(Histories.from_lists([[1]]))
    with pytest.raises(RuntimeError, match="not fitted"):
        model.save(tmp_path)
