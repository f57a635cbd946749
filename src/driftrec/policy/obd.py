"""Read the Open Bandit Dataset (ZOZOTOWN) small sample into :class:`~driftrec.policy.ope.LoggedFeedback`.

The sample in ``shared/datasets/open-bandit-dataset-small/obd/{random,bts}/{all,men,women}/`` logs
10,000 impressions per policy and campaign: shown ``item_id`` at list ``position`` 1-3, ``click``, the
logging policy's ``propensity_score`` and four hashed user features. Rows are ordered by timestamp (a
stable sort) and positions mapped to 0..len_list-1, as obp's own loader does; the context is the one-hot
encoding of the user features (all levels, sorted, so that it does not depend on row order).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from driftrec.policy.ope import LoggedFeedback

__all__ = ["OBD_POLICIES", "ObdLog", "default_obd_root", "load_obd"]

OBD_POLICIES: tuple[str, ...] = ("random", "bts")
OBD_CAMPAIGNS: tuple[str, ...] = ("all", "men", "women")


@dataclass(frozen=True)
class ObdLog:
    """One OBD log: the feedback, catalogue size, list length and row timestamps (µs since epoch)."""

    feedback: LoggedFeedback
    n_actions: int
    len_list: int
    timestamps_us: np.ndarray
    behavior_policy: str
    campaign: str


def default_obd_root() -> Path:
    """``<datasets root>/open-bandit-dataset-small/obd`` (root as in :func:`driftrec.data.datasets_root`)."""
    from driftrec.data.registry import datasets_root

    return datasets_root() / "open-bandit-dataset-small" / "obd"


def _log_file(folder: Path, campaign: str) -> Path:
    for name in (f"{campaign}.csv.gz", f"{campaign}.csv"):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"no {campaign}.csv(.gz) in {folder}")


def load_obd(
    behavior_policy: str = "random", campaign: str = "all", root: str | Path | None = None
) -> ObdLog:
    """Load one OBD log (see module docs); ``root`` is the folder holding ``random/`` and ``bts/``."""
    if behavior_policy not in OBD_POLICIES:
        raise ValueError(f"behavior_policy must be one of {OBD_POLICIES}, got {behavior_policy!r}")
    if campaign not in OBD_CAMPAIGNS:
        raise ValueError(f"campaign must be one of {OBD_CAMPAIGNS}, got {campaign!r}")
    folder = Path(root or default_obd_root()) / behavior_policy / campaign
    frame = pl.read_csv(_log_file(folder, campaign), infer_schema_length=0)
    items = pl.read_csv(folder / "item_context.csv", infer_schema_length=0)
    frame = (
        frame.with_columns(
            pl.col("timestamp").str.to_datetime(time_zone="UTC").dt.epoch("us").alias("_ts"),
            pl.col("item_id").cast(pl.Int64),
            pl.col("position").cast(pl.Int64),
            pl.col("click").cast(pl.Float64),
            pl.col("propensity_score").cast(pl.Float64),
        )
        .with_row_index("_row")
        .sort(["_ts", "_row"])
    )
    positions = frame.get_column("position").to_numpy()
    levels = np.unique(positions)
    user_cols = [c for c in frame.columns if c.startswith("user_feature")]
    blocks = []
    for col in user_cols:
        values = frame.get_column(col).to_numpy().astype(str)
        uniques, codes = np.unique(values, return_inverse=True)
        block = np.zeros((values.shape[0], uniques.shape[0]))
        block[np.arange(values.shape[0]), codes] = 1.0
        blocks.append(block)
    feedback = LoggedFeedback.from_arrays(
        reward=frame.get_column("click").to_numpy(),
        action=frame.get_column("item_id").to_numpy(),
        pscore=frame.get_column("propensity_score").to_numpy(),
        position=np.searchsorted(levels, positions),
        context=np.hstack(blocks) if blocks else np.zeros((frame.height, 0)),
    )
    return ObdLog(
        feedback=feedback,
        n_actions=items.height,
        len_list=int(levels.shape[0]),
        timestamps_us=frame.get_column("_ts").to_numpy(),
        behavior_policy=behavior_policy,
        campaign=campaign,
    )
