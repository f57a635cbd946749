from __future__ import annotations

import numpy as np

from driftrec.data.interactions import InteractionLog
from driftrec.data.splits import item_cold_start, leave_one_out


def _log(seed: int = 0) -> InteractionLog:
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(1, 41), 6)
    items = rng.integers(1, 31, size=users.size)
    ts = np.tile(np.arange(6), 40).astype(np.int64)
    n = users.size
    return InteractionLog(users, items, ts, np.zeros(n, np.int8), np.full(n, np.nan, np.float32), 40, 30)


def test_cold_items_never_reach_training_and_are_the_test_targets() -> None:
    split = leave_one_out(_log())
    cold_ids = np.array([3, 7, 11, 19], dtype=np.int64)
    cold = item_cold_start(split, cold_ids)
    assert not np.isin(cold.train.item, cold_ids).any()
    assert not np.isin(cold.valid.histories.items, cold_ids).any()
    assert not np.isin(cold.valid.targets.items, cold_ids).any()
    assert len(cold.test) > 0
    for b in range(len(cold.test)):
        assert np.isin(cold.test.targets.sequence(b), cold_ids).any()
    cold_set = set(cold_ids.tolist())
    pairs = zip(split.test.targets.user, split.test.targets.items, strict=True)
    expected_users = [u for u, t in pairs if t in cold_set]
    assert cold.test.targets.user.tolist() == expected_users
    assert cold.protocol["cold_items"] == 4
    # warm items and their events are untouched
    warm = ~np.isin(split.train.item, cold_ids)
    assert np.array_equal(cold.train.item, split.train.item[warm])
