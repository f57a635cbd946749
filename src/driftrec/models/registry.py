"""The explicit model registry: names to classes, written out, never imported from strings.

``create`` builds a model from keyword parameters through its config dataclass (so every
parameter is validated), and ``load_model`` reads the name ``save`` recorded in ``model.json``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from driftrec.models._common import read_meta
from driftrec.models.base import Recommender
from driftrec.models.ease import EASE
from driftrec.models.implicit_mf import ImplicitALS, ImplicitBPR
from driftrec.models.itemknn import ItemKNN
from driftrec.models.markov import MarkovChain
from driftrec.models.popularity import MostPopular, RecentPopular
from driftrec.models.sequential import BERT4Rec, SequentialRecommender

__all__ = ["MODELS", "create", "load_model", "model_names"]


#: Each class has class attributes ``name`` (its key here) and ``config_type`` (its config dataclass),
#: takes ``config`` in ``__init__`` and has a ``load`` classmethod.
MODELS: dict[str, type[Any]] = {
    MostPopular.name: MostPopular,
    RecentPopular.name: RecentPopular,
    ItemKNN.name: ItemKNN,
    EASE.name: EASE,
    MarkovChain.name: MarkovChain,
    ImplicitALS.name: ImplicitALS,
    ImplicitBPR.name: ImplicitBPR,
    SequentialRecommender.name: SequentialRecommender,
    BERT4Rec.name: BERT4Rec,
}


def model_names() -> list[str]:
    return sorted(MODELS)


def _model_class(name: str) -> type[Any]:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(model_names())}") from None


def create(name: str, inputs: dict[str, Any] | None = None, **params: Any) -> Recommender:
    """A fresh, unfitted model ``name`` with its config built from ``params`` (and validated there).

    ``inputs`` are data-derived constructor arguments beside the config (e.g. ``item_text`` for a
    sequence model with text fusion); see ``driftrec.workflows.modeling.build_model``.
    """
    cls = _model_class(name)
    allowed = [f.name for f in dataclasses.fields(cls.config_type)]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(
            f"invalid parameter(s) for model {name!r}: {', '.join(unknown)}; "
            f"valid parameters: {', '.join(allowed)}"
        )
    model: Recommender = cls(cls.config_type(**params), **(inputs or {}))
    return model


def load_model(directory: str | Path) -> Recommender:
    """Load whatever model ``save`` wrote to ``directory``, dispatching on the recorded name."""
    name = read_meta(directory).get("model")
    if not isinstance(name, str):
        raise ValueError(f"{directory}/model.json records no model name")
    model: Recommender = _model_class(name).load(directory)
    return model
