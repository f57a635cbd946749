"""Train a registered model into a bundle, and evaluate a bundle on the split it was trained for."""

from __future__ import annotations

import inspect
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from driftrec.data.dataset import Dataset
from driftrec.evaluation.ranking import RankingConfig
from driftrec.evaluation.results import result_record
from driftrec.workflows.bundle import Bundle, load_bundle
from driftrec.workflows.experiment import evaluate_model
from driftrec.workflows.modeling import build_model, fit_model
from driftrec.workflows.prepare import SplitSpec, prepare

__all__ = ["evaluate_bundle", "train_bundle"]


def train_bundle(
    dataset: Dataset,
    model_name: str,
    params: dict[str, Any] | None,
    spec: SplitSpec,
    data_dir: str | Path | None = None,
    warm_start: str | Path | None = None,
) -> tuple[Bundle, float]:
    """Fit on the training part of ``spec``'s split; the bundle remembers how to rebuild that split.

    ``warm_start``: a bundle of the same model trained on the same catalogue (e.g. with a cheap
    sampled softmax) whose weights this fit starts from; models without ``fit(warm_start=...)`` refuse.
    """
    prepared = prepare(dataset, spec)
    model = build_model(model_name, params, prepared)
    fit_kwargs: dict[str, Any] = {}
    if warm_start is not None:
        if "warm_start" not in inspect.signature(model.fit).parameters:
            raise ValueError(f"model {model_name!r} cannot start from another bundle's weights")
        source = load_bundle(warm_start)
        if not np.array_equal(source.items.ids.to_numpy(), prepared.items.ids.to_numpy()):
            raise ValueError(f"{warm_start} was trained on another catalogue: its item ids differ")
        fit_kwargs["warm_start"] = Path(warm_start) / "model"
    start = time.perf_counter()
    fit_model(model, prepared, **fit_kwargs)
    fit_s = time.perf_counter() - start
    meta = {
        "model": model_name,
        "params": params or {},
        "dataset": dataset.name,
        "data_dir": str(Path(data_dir).resolve()) if data_dir else None,
        "split": spec.to_dict(),
        "fit_s": round(fit_s, 3),
    }
    return Bundle(model, prepared.users, prepared.items, prepared.log.histories(), meta), fit_s


def _spec_from_dict(raw: dict[str, Any]) -> SplitSpec:
    values = dict(raw)
    for key in ("test_start", "valid_start"):
        if values.get(key):
            values[key] = datetime.fromisoformat(values[key])
    if values.get("events") is not None:
        values["events"] = tuple(values["events"])
    return SplitSpec(**values)


def evaluate_bundle(
    directory: str | Path, part: Literal["valid", "test"] = "test", ranking: RankingConfig | None = None
) -> dict[str, Any]:
    """Rebuild the bundle's split from its data directory and evaluate under full ranking."""
    bundle = load_bundle(directory)
    data_dir = bundle.meta.get("data_dir")
    if not data_dir:
        raise ValueError("this bundle does not record its data directory; evaluate from Python instead")
    prepared = prepare(Dataset.load(data_dir), _spec_from_dict(bundle.meta["split"]))
    if len(prepared.items) != len(bundle.items) or not np.array_equal(
        prepared.items.ids.to_numpy(), bundle.items.ids.to_numpy()
    ):
        raise ValueError(f"the data in {data_dir} changed since the bundle was trained (item ids differ)")
    start = time.perf_counter()
    result = evaluate_model(bundle.model, prepared, part, ranking)
    return result_record(
        benchmark="evaluate",
        dataset=prepared.dataset.name,
        model=str(bundle.meta["model"]),
        protocol={**prepared.split.protocol, **result.protocol, "part": part},
        config=dict(bundle.meta.get("params", {})),
        metrics=result.metrics,
        wall_s=time.perf_counter() - start,
    )
