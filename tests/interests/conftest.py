"""Hand-made logs with known answers, shared by the interest tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl
import pytest

from driftrec.data.schema import TIMESTAMP

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
#: One item per leaf; the leaf's name is its category path.
LEAVES = ("Toys > Puzzles", "Toys > Dolls", "Garden > Plants", "Books > Fiction")


def items_frame() -> pl.DataFrame:
    return pl.DataFrame({"item_id": [f"i{k}" for k in range(len(LEAVES))], "category": list(LEAVES)})


def daily_log(
    user: str, shares_by_day: Sequence[tuple[float, ...]], seed: int, per_day: int = 4
) -> pl.DataFrame:
    """``per_day`` views at noon-ish of each day, leaves drawn from that day's shares (seeded)."""
    rng = np.random.default_rng(seed)
    rows = []
    for day, shares in enumerate(shares_by_day):
        leaves = rng.choice(len(LEAVES), size=per_day, p=np.asarray(shares) / sum(shares))
        for k, leaf in enumerate(leaves):
            rows.append((user, f"i{leaf}", START + dt.timedelta(days=day, hours=12, minutes=k), "view"))
    frame = pl.DataFrame(rows, schema=["user_id", "item_id", "ts", "event"], orient="row")
    return frame.with_columns(pl.col("ts").cast(TIMESTAMP))


@pytest.fixture
def switch_and_stable() -> tuple[pl.DataFrame, pl.DataFrame]:
    """u_switch moves from Puzzles to Plants at day 50 (Dolls stays a side interest); u_stable never moves."""
    before, after = (0.7, 0.3, 0.0, 0.0), (0.0, 0.3, 0.7, 0.0)
    switch = daily_log("u_switch", [before] * 50 + [after] * 50, seed=1)
    stable = daily_log("u_stable", [before] * 100, seed=2)
    return pl.concat([switch, stable]), items_frame()
