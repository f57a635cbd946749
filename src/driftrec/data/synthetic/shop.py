"""``generate(config)``: the whole synthetic shop as a canonical dataset plus its ground truth."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from driftrec.data.dataset import Dataset
from driftrec.data.schema import EVENTS_SCHEMA, conform
from driftrec.data.synthetic.config import SyntheticShopConfig
from driftrec.data.synthetic.events import iter_event_blocks
from driftrec.data.synthetic.users import segments_frame, truth_frame
from driftrec.data.synthetic.world import World, build_world

logger = logging.getLogger(__name__)

DATASET_NAME = "synthetic-shop"
_TRUTH_FILE, _SEGMENTS_FILE, _CONFIG_FILE = "truth.parquet", "segments.parquet", "config.json"


@dataclass(frozen=True, eq=False)
class SyntheticShop:
    """A generated shop: the observable ``dataset`` and the hidden truth that produced it.

    ``truth`` has one row per planted change (``user_id, ts, end_ts, from_category, to_category, kind,
    share``; ``kind`` is ``"abrupt"``, ``"gradual"`` or ``"burst"``). ``segments`` gives each user's
    latent persona and initial dominant category (``user_id, segment, start_category``).
    """

    dataset: Dataset
    truth: pl.DataFrame
    config: SyntheticShopConfig
    segments: pl.DataFrame

    def save(self, directory: str | Path) -> Path:
        """Write the dataset (:meth:`Dataset.save`), then truth, segments and config beside it."""
        out = self.dataset.save(directory)
        self.truth.write_parquet(out / _TRUTH_FILE)
        self.segments.write_parquet(out / _SEGMENTS_FILE)
        (out / _CONFIG_FILE).write_text(json.dumps(self.config.to_dict(), indent=2))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> SyntheticShop:
        """Read a directory written by :meth:`save`."""
        src = Path(directory)
        if not (src / _CONFIG_FILE).exists():
            raise FileNotFoundError(f"{src} holds no {_CONFIG_FILE}: is it a saved synthetic shop?")
        config = SyntheticShopConfig.from_dict(json.loads((src / _CONFIG_FILE).read_text()))
        return cls(
            dataset=Dataset.load(src),
            truth=pl.read_parquet(src / _TRUTH_FILE),
            config=config,
            segments=pl.read_parquet(src / _SEGMENTS_FILE),
        )


def iter_events(config: SyntheticShopConfig) -> Iterator[pl.DataFrame]:
    """The event log of ``generate(config)`` in blocks of users, for streaming logs too big to hold."""
    return iter_event_blocks(build_world(config))


def write_shop(config: SyntheticShopConfig, directory: str | Path) -> Path:
    """Generate straight to disk, one block of users at a time, in the layout of :meth:`SyntheticShop.save`.

    Memory stays at one block plus the user plans whatever the number of events, so this is the way to
    build logs larger than RAM; ``SyntheticShop.load(directory)`` reads the result.
    """
    import pyarrow.parquet as pq  # only streaming needs pyarrow's writer

    began = time.perf_counter()
    world = build_world(config)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    n_events = 0
    writer: pq.ParquetWriter | None = None
    try:
        for block in iter_event_blocks(world):
            table = conform(block, EVENTS_SCHEMA).to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(out / "events.parquet", table.schema)
            writer.write_table(table)
            n_events += block.height
    finally:
        if writer is not None:
            writer.close()
    world.catalog.items.write_parquet(out / "items.parquet")
    pl.DataFrame({"user_id": world.user_ids}).write_parquet(out / "users.parquet")
    meta = {"name": DATASET_NAME, **_meta(world)}
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    truth_frame(config, world.plans, world.catalog, world.user_ids).write_parquet(out / _TRUTH_FILE)
    segments_frame(world.plans, world.catalog, world.user_ids).write_parquet(out / _SEGMENTS_FILE)
    (out / _CONFIG_FILE).write_text(json.dumps(config.to_dict(), indent=2))
    logger.info("wrote synthetic shop to %s: %d events in %.1fs", out, n_events, time.perf_counter() - began)
    return out


def _meta(world: World) -> dict[str, Any]:
    return {
        "source": "synthetic",
        "time_resolution": "seconds",
        "config": world.config.to_dict(),
        "categories": list(world.catalog.categories),
    }


def generate(config: SyntheticShopConfig | None = None) -> SyntheticShop:
    """Generate the shop for ``config`` (defaults if None); identical output for identical configs."""
    cfg = config if config is not None else SyntheticShopConfig()
    began = time.perf_counter()
    world = build_world(cfg)
    events = pl.concat(list(iter_event_blocks(world)), rechunk=False)
    dataset = Dataset(
        DATASET_NAME,
        events,
        items=world.catalog.items,
        users=pl.DataFrame({"user_id": world.user_ids}),
        meta=_meta(world),
    )
    shop = SyntheticShop(
        dataset=dataset,
        truth=truth_frame(cfg, world.plans, world.catalog, world.user_ids),
        config=cfg,
        segments=segments_frame(world.plans, world.catalog, world.user_ids),
    )
    logger.info(
        "generated synthetic shop: %d events, %d users, %d items, %d planted changes in %.1fs",
        events.height,
        cfg.n_users,
        cfg.n_items,
        shop.truth.height,
        time.perf_counter() - began,
    )
    return shop
