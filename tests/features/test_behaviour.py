"""Point-in-time features: hand-checked values and no event at or after an impression leaks into it."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from driftrec.data.interactions import InteractionLog
from driftrec.data.schema import EVENT_CODE
from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.features.behaviour import BehaviourFeatureConfig, behaviour_features, event_frame, query_frame
from driftrec.features.item_stats import item_attributes
from driftrec.features.sequence import sequences_before
from driftrec.ranking.impressions import ctr_task

V, C, P, R = EVENT_CODE["view"], EVENT_CODE["click"], EVENT_CODE["purchase"], EVENT_CODE["rating"]


def _log(rows: list[tuple[int, int, int, int, float]], n_users: int = 2, n_items: int = 3) -> InteractionLog:
    rows = sorted(rows, key=lambda r: (r[0], r[2]))
    a = np.array(rows, dtype=np.float64)
    return InteractionLog(
        a[:, 0].astype(np.int64),
        a[:, 1].astype(np.int64),
        a[:, 2].astype(np.int64),
        a[:, 3].astype(np.int8),
        a[:, 4].astype(np.float32),
        n_users,
        n_items,
    )


CATEGORY = np.array([0, 1, 1, 2], dtype=np.int64)
HOUR = 3_600_000_000


def _features(log: InteractionLog, user: list[int], item: list[int], ts: list[int]) -> pl.DataFrame:
    queries = query_frame(np.array(user), np.array(item), np.array(ts), CATEGORY)
    return behaviour_features(event_frame(log, CATEGORY), queries)


def test_counts_and_rates_by_hand() -> None:
    nan = float("nan")
    log = _log(
        [
            (1, 1, 0, V, nan),
            (1, 1, HOUR, C, nan),
            (1, 3, 2 * HOUR, V, nan),
            (1, 1, 3 * HOUR, P, nan),
            (1, 1, 4 * HOUR, R, 4.0),
            (2, 1, HOUR, V, nan),
            (1, 2, 10 * HOUR, V, nan),  # at the query time: must not count
        ]
    )
    f = _features(log, [1], [1], [10 * HOUR]).row(0, named=True)
    assert f["u_events"] == pytest.approx(np.log1p(5))
    assert f["u_views"] == pytest.approx(np.log1p(2))
    assert f["u_clicks"] == pytest.approx(np.log1p(1))
    assert f["u_rating_mean"] == pytest.approx(4.0)
    assert f["u_recency"] == pytest.approx(np.log1p(6.0), rel=1e-5)  # last event 6 h before
    assert f["i_events"] == pytest.approx(np.log1p(5))  # user 1's four + user 2's view
    assert f["ui_events"] == pytest.approx(np.log1p(4))
    # category 1 (items 1, 2): weights view 1 + click 2 + purchase 6 + rating 3 = 12 of 13 in total
    assert f["uc_affinity"] == pytest.approx(12.0 / 13.0)


def test_first_impression_has_no_history() -> None:
    log = _log([(1, 1, 5, V, float("nan")), (2, 2, 9, V, float("nan"))])
    f = _features(log, [1, 2], [2, 2], [5, 3]).row(0, named=True)
    assert f["u_events"] == 0.0 and f["i_events"] == 0.0 and f["uc_affinity"] == 0.0


@pytest.fixture(scope="module")
def shop_task():  # type: ignore[no-untyped-def]
    return ctr_task(generate(SyntheticShopConfig(n_users=60, n_items=80, days=20, seed=3)).dataset)


def test_moving_an_event_after_the_impression_leaves_features_unchanged(shop_task) -> None:  # type: ignore[no-untyped-def]
    task = shop_task
    imp = task.impressions.sample(200, seed=0)
    user, item, ts = (imp.get_column(c).to_numpy() for c in ("user", "item", "ts"))
    cat = task.attributes.category
    base = behaviour_features(event_frame(task.log, cat), query_frame(user, item, ts, cat))
    log = task.log
    for row in range(5):
        u, t = user[row], ts[row]
        before = np.flatnonzero((log.user == u) & (log.ts < t))
        if before.size == 0:
            continue
        moved_ts = log.ts.copy()
        moved_ts[before[-1]] = t  # the latest earlier event now happens at the impression's time ...
        same = behaviour_features(
            event_frame(_with_ts(log, moved_ts), cat), query_frame(user[[row]], item[[row]], ts[[row]], cat)
        )
        moved_ts[before[-1]] = t + 10 * HOUR  # ... or well after it
        later = behaviour_features(
            event_frame(_with_ts(log, moved_ts), cat), query_frame(user[[row]], item[[row]], ts[[row]], cat)
        )
        assert same.equals(later)
        # and the change is visible, so this test can fail: the impression lost one earlier event
        assert same.row(0, named=True)["u_events"] < base.row(row, named=True)["u_events"]


def test_features_equal_those_from_the_log_cut_at_each_impression(shop_task) -> None:  # type: ignore[no-untyped-def]
    task = shop_task
    imp = task.impressions.sample(300, seed=1)
    user, item, ts = (imp.get_column(c).to_numpy() for c in ("user", "item", "ts"))
    cat = task.attributes.category
    full = behaviour_features(event_frame(task.log, cat), query_frame(user, item, ts, cat))
    seq_full = sequences_before(task.log, user, ts, 10)
    for row in range(0, 300, 37):
        cut = task.log.mask(task.log.ts < ts[row])
        one = behaviour_features(event_frame(cut, cat), query_frame(user[[row]], item[[row]], ts[[row]], cat))
        assert one.row(0) == full.row(row)
        seq = sequences_before(cut, user[[row]], ts[[row]], 10)
        np.testing.assert_array_equal(seq.items[0], seq_full.items[row])


def _with_ts(log: InteractionLog, ts: np.ndarray) -> InteractionLog:
    order = np.lexsort((ts, log.user))
    return InteractionLog(
        log.user[order],
        log.item[order],
        ts[order],
        log.event[order],
        log.value[order],
        log.n_users,
        log.n_items,
    )


def test_sequences_are_the_last_events_before_time() -> None:
    nan = float("nan")
    log = _log([(1, 1, 1, V, nan), (1, 2, 2, C, nan), (1, 3, 3, V, nan), (2, 3, 1, V, nan)])
    s = sequences_before(log, np.array([1, 1, 2, 0]), np.array([3, 10, 1, 5]), 2)
    np.testing.assert_array_equal(s.items, [[1, 2], [2, 3], [0, 0], [0, 0]])
    np.testing.assert_array_equal(s.events, [[V + 1, C + 1], [C + 1, V + 1], [0, 0], [0, 0]])
    np.testing.assert_array_equal(s.lengths, [2, 2, 0, 0])


def test_price_level_is_relative_to_the_category_median() -> None:
    from driftrec.data.idmap import IdMap

    items = pl.DataFrame(
        {
            "item_id": ["a", "b", "c", "d"],
            "category": ["X > y", "X > y", "X > y", "Z"],
            "price": [1.0, 2.0, 4.0, 9.0],
        }
    )
    attrs = item_attributes(IdMap.build(pl.Series(["a", "b", "c", "d"])), items, level=1)
    np.testing.assert_allclose(attrs.price_level[1:], [np.log(0.5), 0.0, np.log(2.0), 0.0], atol=1e-6)
    assert attrs.category[1] == attrs.category[2] != attrs.category[4]


def test_config_rejects_unknown_behaviour() -> None:
    with pytest.raises(ValueError, match="behaviours"):
        BehaviourFeatureConfig(behaviours=("teleport",))
