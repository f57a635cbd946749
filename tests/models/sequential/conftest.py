"""A small synthetic shop split leave-one-out, and tiny configs that train in about a second."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest

from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.models.sequential import SequentialConfig
from driftrec.training import TrainingConfig
from driftrec.workflows.prepare import Prepared, SplitSpec, prepare

Tiny = Callable[..., SequentialConfig]


def _tiny(**overrides: Any) -> SequentialConfig:
    """A one-block model over 20 positions; ``training`` fields can be given as ``epochs=...`` etc."""
    train_fields = set(TrainingConfig.__dataclass_fields__)
    training = {"epochs": 4, "batch_size": 64, "lr": 3e-3, "num_threads": 1, "patience": 0}
    training.update({k: v for k, v in overrides.items() if k in train_fields})
    model = {"hidden": 32, "blocks": 1, "heads": 2, "inner": 64, "max_len": 20, "n_negatives": 64}
    model.update({k: v for k, v in overrides.items() if k not in train_fields})
    return SequentialConfig(**model, training=TrainingConfig(**training))


@pytest.fixture(scope="session")
def tiny() -> Tiny:
    """Builds tiny configs: ``tiny(objective="masked", epochs=2)``."""
    return _tiny


@pytest.fixture(scope="session")
def shop() -> Prepared:
    """600 shoppers, 300 items, one step per (user, item): about 8,000 training events."""
    data = generate(SyntheticShopConfig(n_users=600, n_items=300, seed=3)).dataset
    return prepare(data, SplitSpec(first_interaction_only=True))


@pytest.fixture(scope="session")
def shop_categories(shop: Prepared) -> np.ndarray:
    """(n_items + 1,) leaf-category id of each item, 0 for padding."""
    assert shop.dataset.items is not None
    items = shop.dataset.items.select("item_id", "category")
    dense = shop.items.encode(items.get_column("item_id"))
    codes = items.get_column("category").cast(pl.Categorical).to_physical().to_numpy().astype(np.int64) + 1
    out = np.zeros(shop.log.n_items + 1, dtype=np.int64)
    out[dense[dense > 0]] = codes[dense > 0]
    return out


@pytest.fixture(scope="session")
def shop_text(shop_categories: np.ndarray) -> np.ndarray:
    """A stand-in for text embeddings: the item's category direction plus item-specific noise."""
    rng = np.random.default_rng(0)
    n_cat = int(shop_categories.max()) + 1
    basis = rng.normal(size=(n_cat, 16))
    text = basis[shop_categories] + 0.3 * rng.normal(size=(shop_categories.shape[0], 16))
    text[0] = 0.0
    out: np.ndarray = text.astype(np.float32)
    return out
