"""Write a prepared split as Parquet frames with the user's own ids, for inspection and other tools."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from driftrec.data.idmap import IdMap
from driftrec.data.interactions import Histories, InteractionLog
from driftrec.data.schema import EVENT_TYPES
from driftrec.workflows.prepare import Prepared

__all__ = ["write_split"]


def _log_frame(log: InteractionLog, users: IdMap, items: IdMap) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": users.decode(log.user),
            "item_id": items.decode(log.item),
            "ts": pl.Series(log.ts).cast(pl.Datetime("us", "UTC")),
            "event": [EVENT_TYPES[c] for c in log.event.tolist()],
        }
    )


def _targets_frame(targets: Histories, users: IdMap, items: IdMap) -> pl.DataFrame:
    rows = targets.row_index()
    return pl.DataFrame(
        {"user_id": users.decode(targets.user[rows]), "item_id": items.decode(targets.items)}
    ).with_columns(pl.Series("position", np.arange(rows.size) - targets.offsets[rows]))


def write_split(prepared: Prepared, directory: str | Path) -> dict[str, int]:
    """``train.parquet`` (events), ``valid_targets.parquet``, ``test_targets.parquet`` and ``split.json``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    split = prepared.split
    frames = {
        "train": _log_frame(split.train, prepared.users, prepared.items),
        "valid_targets": _targets_frame(split.valid.targets, prepared.users, prepared.items),
        "test_targets": _targets_frame(split.test.targets, prepared.users, prepared.items),
    }
    for name, frame in frames.items():
        frame.write_parquet(out / f"{name}.parquet")
    meta = {"protocol": split.protocol, "spec": prepared.spec.to_dict(), "dataset": prepared.dataset.name}
    (out / "split.json").write_text(json.dumps(meta, indent=2) + "\n")
    return {name: frame.height for name, frame in frames.items()}
