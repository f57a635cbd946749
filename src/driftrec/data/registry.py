"""One call per staged dataset: ``load_dataset("movielens-100k")`` -> :class:`Dataset`.

Names are the folder names under the datasets root (``../shared/datasets`` by default), so a
benchmark result's ``"dataset"`` field is also the way to load it again.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from driftrec.data.dataset import Dataset
from driftrec.data.readers_public import (
    read_amazon2018,
    read_amazon_reviews,
    read_item_attributes,
    read_movielens_latest,
    read_recbole_atomic,
    read_unisrec,
    read_user_item_pairs,
    read_user_sequences,
)
from driftrec.data.readers_shop import (
    BehaviorPolicy,
    Campaign,
    YooChooseSplit,
    read_clothing_reviews,
    read_diginetica,
    read_instacart,
    read_open_bandit,
    read_taobao_userbehavior,
    read_yoochoose,
)
from driftrec.data.validation import Mode

__all__ = ["DATASETS_ENV", "DATASET_NAMES", "available_datasets", "datasets_root", "load_dataset"]

#: Environment variable naming the folder that holds the dataset folders.
DATASETS_ENV: Final = "DRIFTREC_DATASETS"


def _s3rec_beauty(folder: Path, *, name: str, mode: Mode = "strict") -> Dataset:
    data = read_user_sequences(folder / "Beauty.txt.gz", name=name, mode=mode)
    items = read_item_attributes(folder / "Beauty_item2attributes.json.gz")
    meta = {
        **data.meta,
        "source": str(folder),
        "category_note": "category = S3-Rec attribute ids (categories + brand) joined with ' > '",
    }
    return Dataset(name, data.events, items, None, meta)


def _bert4rec_beauty(folder: Path, *, name: str, mode: Mode = "strict") -> Dataset:
    return read_user_item_pairs(folder / "bert4rec_beauty.txt.gz", name=name, mode=mode)


def _unisrec_scientific(folder: Path, *, name: str, mode: Mode = "strict") -> Dataset:
    return read_unisrec(folder / "Scientific", name=name, mode=mode)


def _magazine(folder: Path, *, name: str, mode: Mode = "strict") -> Dataset:
    return read_amazon2018(
        folder / "Magazine_Subscriptions_ratings.csv.gz",
        folder / "meta_Magazine_Subscriptions.json.gz",
        name=name,
        mode=mode,
    )


def _musical_instruments(folder: Path, *, name: str, mode: Mode = "strict") -> Dataset:
    return read_amazon_reviews(folder / "reviews_Musical_Instruments_5.json.gz", name=name, mode=mode)


def _taobao(folder: Path, *, name: str, mode: Mode = "strict") -> Dataset:
    return read_taobao_userbehavior(folder / "UserBehavior_head84475.csv.gz", name=name, mode=mode)


def _instacart(folder: Path, *, name: str, mode: Mode = "strict") -> Dataset:
    return read_instacart(folder, name=name, mode=mode)


def _ml100k(folder: Path, *, name: str, mode: Mode = "strict") -> Dataset:
    return read_recbole_atomic(folder / "ml-100k", name=name, mode=mode)


def _ml_latest(folder: Path, *, name: str, mode: Mode = "strict", include_tags: bool = True) -> Dataset:
    return read_movielens_latest(folder, name=name, mode=mode, include_tags=include_tags)


def _open_bandit(
    folder: Path,
    *,
    name: str,
    mode: Mode = "strict",
    behavior_policy: BehaviorPolicy = "random",
    campaign: Campaign = "all",
) -> Dataset:
    return read_open_bandit(folder, behavior_policy, campaign, name=name, mode=mode)


def _yoochoose(folder: Path, *, name: str, mode: Mode = "strict", split: YooChooseSplit = "all") -> Dataset:
    return read_yoochoose(folder, split, name=name, mode=mode)


def _diginetica(folder: Path, *, name: str, mode: Mode = "strict") -> Dataset:
    return read_diginetica(folder / "sample_train-item-views.csv", name=name, mode=mode)


def _clothing(folder: Path, *, name: str, mode: Mode = "strict") -> Dataset:
    return read_clothing_reviews(
        folder / "WomensClothingE-CommerceReviews.parquet.brotli", name=name, mode=mode
    )


_LOADERS: Final[dict[str, Callable[..., Dataset]]] = {
    "amazon-s3rec-beauty": _s3rec_beauty,
    "amazon-sasrec-bert4rec": _bert4rec_beauty,
    "amazon-unisrec-scientific": _unisrec_scientific,
    "amazon2014-musical-instruments-5core": _musical_instruments,
    "amazon2018-magazine-subscriptions": _magazine,
    "diginetica-sample": _diginetica,
    "instacart-mini": _instacart,
    "movielens-100k": _ml100k,
    "movielens-latest-small": _ml_latest,
    "open-bandit-dataset-small": _open_bandit,
    "taobao-userbehavior-head": _taobao,
    "womens-ecommerce-clothing-reviews": _clothing,
    "yoochoose-rsc15-100k-sample": _yoochoose,
}
#: Every dataset the registry knows, whether or not its folder is on this machine.
DATASET_NAMES: Final[tuple[str, ...]] = tuple(sorted(_LOADERS))


def datasets_root(root: str | Path | None = None) -> Path:
    """The folder holding the dataset folders.

    Order: ``root`` if given, else ``$DRIFTREC_DATASETS``, else ``../shared/datasets`` from the working
    directory, else ``../shared/datasets`` next to the repository this package lives in.
    """
    if root is not None:
        tried = [Path(root)]
    elif os.environ.get(DATASETS_ENV):
        tried = [Path(os.environ[DATASETS_ENV])]
    else:
        tried = [
            Path.cwd() / ".." / "shared" / "datasets",
            Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets",
        ]
    for candidate in tried:
        if candidate.is_dir():
            return candidate.resolve()
    where = ", ".join(str(p) for p in tried)
    raise FileNotFoundError(
        f"no datasets folder at {where}; pass root= or set {DATASETS_ENV} to the folder "
        f"that holds the dataset folders"
    )


def available_datasets(root: str | Path | None = None) -> list[str]:
    """Registered datasets whose folder exists under the root (empty when there is no root)."""
    try:
        base = datasets_root(root)
    except FileNotFoundError:
        return []
    return [name for name in DATASET_NAMES if (base / name).is_dir()]


def load_dataset(name: str, root: str | Path | None = None, **opts: Any) -> Dataset:
    """Load a staged dataset by folder name; ``opts`` go to its reader.

    Every loader takes ``mode`` (``"strict"``/``"skip"``); some take more, e.g.
    ``load_dataset("open-bandit-dataset-small", behavior_policy="bts", campaign="men")``,
    ``load_dataset("yoochoose-rsc15-100k-sample", split="test")`` or
    ``load_dataset("movielens-latest-small", include_tags=False)``.
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASET_NAMES)}")
    loader = _LOADERS[name]
    accepted = [p for p in inspect.signature(loader).parameters if p not in ("folder", "name")]
    unknown = sorted(set(opts) - set(accepted))
    if unknown:
        raise TypeError(f"load_dataset({name!r}) got unknown option(s) {unknown}; it accepts {accepted}")
    folder = datasets_root(root) / name
    if not folder.is_dir():
        raise FileNotFoundError(f"dataset folder {folder} does not exist")
    return loader(folder, name=name, **opts)
