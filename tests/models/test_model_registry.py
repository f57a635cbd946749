"""The registry: building by name with checked parameters, loading by the recorded name, the public API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import driftrec.models as models
from driftrec.models import MODELS, EASEConfig, ItemKNN, create, load_model, model_names


def test_names() -> None:
    assert model_names() == [
        "als", "bert4rec", "bpr", "ease", "itemknn", "markov", "most-popular", "recent-popular", "sasrec",
    ]  # fmt: skip


def test_create_builds_the_config() -> None:
    model = create("itemknn", neighbours=5, shrink=1.0)
    assert isinstance(model, ItemKNN)
    assert model.config.neighbours == 5 and model.config.shrink == 1.0
    assert create("ease").config == EASEConfig()


def test_unknown_name_lists_valid_ones() -> None:
    with pytest.raises(ValueError) as err:
        create("sasrec2")
    assert str(err.value) == (
        "unknown model 'sasrec2'; valid names: als, bert4rec, bpr, ease, itemknn, markov, most-popular, "
        "recent-popular, sasrec"
    )


def test_invalid_parameter_lists_valid_ones() -> None:
    with pytest.raises(ValueError) as err:
        create("ease", l2=10.0, lambda_=3, topk=2)
    assert str(err.value) == (
        "invalid parameter(s) for model 'ease': lambda_, topk; "
        "valid parameters: l2, max_items, double_precision, num_threads"
    )


def test_invalid_value_is_reported_by_the_config() -> None:
    with pytest.raises(ValueError, match=r"ItemKNNConfig\.neighbours must be an integer >= 1, got -2"):
        create("itemknn", neighbours=-2)


def test_load_model_dispatches_on_model_json(cycle: Any, tmp_path: Path) -> None:
    create("markov", window=2).fit(cycle.log).save(tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    assert meta["model"] == "markov" and meta["config"]["window"] == 2
    assert meta["n_items"] == 12 and meta["n_users"] == 24
    loaded = load_model(tmp_path)
    assert loaded.name == "markov"
    assert loaded.config.window == 2  # type: ignore[attr-defined]


def test_load_errors(cycle: Any, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no model\.json"):
        load_model(tmp_path)
    create("most-popular").fit(cycle.log).save(tmp_path)
    with pytest.raises(ValueError, match="holds model 'most-popular', not 'ease'"):
        MODELS["ease"].load(tmp_path)


def test_public_api_is_pinned() -> None:
    assert sorted(models.__all__) == sorted(
        [
            "ALSConfig",
            "BPRConfig",
            "EASE",
            "EASEConfig",
            "ImplicitALS",
            "ImplicitBPR",
            "ItemKNN",
            "ItemKNNConfig",
            "MODELS",
            "MarkovChain",
            "MarkovConfig",
            "MostPopular",
            "MostPopularConfig",
            "RecentPopular",
            "RecentPopularConfig",
            "Recommender",
            "create",
            "load_model",
            "mask_seen",
            "model_names",
            "top_k",
        ]
    )
    for name in models.__all__:
        assert hasattr(models, name)
