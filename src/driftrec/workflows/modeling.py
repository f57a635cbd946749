"""Build and fit any registered model from a prepared dataset, supplying what its config asks for.

The registry builds a model from parameters alone; some models also need inputs computed from the
data (item text vectors for text fusion) or use the validation split (early stopping). This is the
one place that knows how to provide them, so the CLI, the demo and the benchmarks all agree.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from driftrec.models.base import Recommender
from driftrec.models.registry import create
from driftrec.workflows.prepare import Prepared

__all__ = ["build_model", "fit_model", "nest_params"]

log = logging.getLogger(__name__)

#: Fusion settings under which a model reads item text vectors.
TEXT_FUSIONS = ("text", "id+text")


def nest_params(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"training.epochs": 3}`` -> ``{"training": {"epochs": 3}}`` (for nested config sections)."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        head, _, rest = key.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            nested[key] = value
    return nested


def build_model(name: str, params: dict[str, Any] | None, prepared: Prepared) -> Recommender:
    """``create(name, **params)``, plus item text vectors when the config fuses text."""
    params = params or {}
    if params.get("fusion") not in TEXT_FUSIONS:
        return create(name, **params)
    from driftrec.features import TextEncoderConfig, item_text_matrix

    if prepared.dataset.items is None:
        raise ValueError(f"model {name!r} with text fusion needs an item catalogue with text")
    embeddings = item_text_matrix(prepared.items, prepared.dataset.items, TextEncoderConfig())
    log.info("item text: %d of %d items have text", int(embeddings.has_text.sum()), len(prepared.items))
    return create(name, {"item_text": embeddings.matrix}, **params)


def fit_model(model: Recommender, prepared: Prepared, **fit_kwargs: Any) -> Recommender:
    """Fit on the train part; models whose ``fit`` takes ``valid`` get the validation split too.

    ``fit_kwargs`` go to ``fit`` as they are (e.g. ``warm_start`` for the sequence models).
    """
    if "valid" in inspect.signature(model.fit).parameters:
        model.fit(prepared.split.train, valid=prepared.split.valid, **fit_kwargs)  # type: ignore[call-arg]
    else:
        model.fit(prepared.split.train, **fit_kwargs)
    return model
