from __future__ import annotations

import numpy as np
import pytest

from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.models.sequential import SequentialRecommender
from driftrec.workflows.modeling import build_model, fit_model, nest_params
from driftrec.workflows.prepare import Prepared, SplitSpec, prepare


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    shop = generate(SyntheticShopConfig(n_users=120, n_items=80, seed=11))
    return prepare(shop.dataset, SplitSpec(first_interaction_only=True))


def test_nest_params() -> None:
    assert nest_params({"a": 1, "training.epochs": 2, "training.seed": 3}) == {
        "a": 1,
        "training": {"epochs": 2, "seed": 3},
    }


def test_text_fusion_model_gets_item_text_from_the_catalogue(prepared: Prepared) -> None:
    params = {"fusion": "id+text", "hidden": 16, "heads": 1, "inner": 32, "max_len": 10}
    params["training"] = {"epochs": 2, "batch_size": 64, "num_threads": 1, "patience": 0}
    model = build_model("sasrec", params, prepared)
    assert isinstance(model, SequentialRecommender)
    fit_model(model, prepared)
    assert model.history is not None and model.history.best_epoch >= 1  # validated: valid split was passed
    scores = model.score(prepared.split.test.histories.take(np.arange(5)))
    assert scores.shape == (5, prepared.log.n_items + 1)
    assert np.isfinite(scores[:, 1:]).all()


def test_models_without_valid_argument_fit_on_train_only(prepared: Prepared) -> None:
    model = fit_model(build_model("markov", {}, prepared), prepared)
    assert model.score(prepared.split.test.histories.take(np.arange(2))).shape[0] == 2
