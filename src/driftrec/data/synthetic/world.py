"""The shop without its log: catalogue plus user plans, shared by the log generator and the environment.

Separate random streams (derived from ``config.seed`` with :class:`numpy.random.SeedSequence`) feed
the catalogue, the user plans and each block of events, so changing how events are drawn never
changes the catalogue or the planted truth, and the environment rebuilds exactly the same world.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import polars as pl

from driftrec.data.synthetic.catalog import Catalog, build_catalog, id_strings
from driftrec.data.synthetic.config import SyntheticShopConfig
from driftrec.data.synthetic.users import UserPlans, plan_users

logger = logging.getLogger(__name__)

#: Stream labels mixed into the seed (stable on purpose: changing one changes every generated shop).
STREAM_CATALOG, STREAM_USERS, STREAM_EVENTS, STREAM_ENVIRONMENT = 0, 1, 2, 3


def stream(seed: int, *labels: int) -> np.random.Generator:
    """An independent generator for one purpose, reproducible from ``seed`` and the labels."""
    return np.random.default_rng(np.random.SeedSequence([seed, *labels]))


@dataclass(frozen=True, eq=False)
class World:
    config: SyntheticShopConfig
    catalog: Catalog
    plans: UserPlans
    user_ids: pl.Series  # (U,) "u000123"


def build_world(config: SyntheticShopConfig) -> World:
    """Draw the catalogue and every user's plan for ``config``."""
    began = time.perf_counter()
    catalog = build_catalog(config, stream(config.seed, STREAM_CATALOG))
    plans = plan_users(config, catalog, stream(config.seed, STREAM_USERS))
    world = World(config, catalog, plans, id_strings("u", config.n_users, 6))
    logger.debug(
        "built synthetic world: %d items in %d leaves, %d users in %.2fs",
        catalog.n_items,
        catalog.n_leaves,
        config.n_users,
        time.perf_counter() - began,
    )
    return world
