"""evaluate_ranking against a naive per-user loop, hand cases, and its configuration checks."""

from __future__ import annotations

import re
from math import log2
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.data.splits import EvalSet, leave_one_out, temporal_split
from driftrec.evaluation.ranking import RankingConfig, evaluate_ranking

N_USERS, N_ITEMS = 40, 60
KS = (1, 3, 10)
NEG = float("-inf")


def _random_log(seed: int) -> InteractionLog:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 15, size=N_USERS)  # some users too short for leave-one-out
    user = np.repeat(np.arange(1, N_USERS + 1), lengths)
    # half of the events among 12 items, so re-consumed (seen) targets are common
    item = np.where(
        rng.random(user.size) < 0.5, rng.integers(1, 13, user.size), rng.integers(1, N_ITEMS + 1, user.size)
    )
    ts = np.concatenate([np.sort(rng.integers(0, 100, size=n)) for n in lengths])
    n = user.size
    return InteractionLog(user, item, ts, np.zeros(n, np.int8), np.ones(n, np.float32), N_USERS, N_ITEMS)


class RandomModel:
    """Scores rounded to one decimal (many ties) plus a bonus for items in the history."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.table = np.round(rng.random((N_USERS + 1, N_ITEMS + 1)), 1).astype(np.float32)
        self.batch_sizes: list[int] = []

    def score(self, hist: Histories) -> NDArray[np.float32]:
        self.batch_sizes.append(len(hist))
        bonus = 0.5 * hist.to_csr(N_ITEMS).toarray()
        return np.asarray(self.table[hist.user] + bonus, dtype=np.float32)


def _naive(
    model: RandomModel, es: EvalSet, train: InteractionLog, exclude_seen: bool, seen_targets: str
) -> tuple[dict[str, float], dict[str, list[float]], list[int]]:
    """One user at a time: score, mask, full sort, metrics from their definitions."""
    per_user: dict[str, list[float]] = {}
    users: list[int] = []
    tops: list[list[int]] = []
    for b in range(len(es)):
        user = int(es.histories.user[b])
        seen = es.histories.sequence(b).tolist()
        targets = set(es.targets.sequence(b).tolist())
        if exclude_seen and seen_targets == "drop":
            targets -= set(seen)
            if not targets:
                continue
        one = Histories(np.array([user]), np.array([0, len(seen)]), np.array(seen, dtype=np.int64))
        s = np.array(model.score(one), dtype=np.float32)[0]
        s[0] = NEG
        if exclude_seen:
            s[seen] = NEG
        ranked = [i for i in sorted(range(N_ITEMS + 1), key=lambda i: (-s[i], i)) if s[i] != NEG]
        assert len(ranked) >= max(KS)  # the catalogue is big enough: no list runs short
        users.append(user)
        tops.append(ranked[: max(KS)])
        n = len(targets)
        for k in KS:
            hit = [i in targets for i in ranked[:k]]
            p, r = sum(hit) / k, sum(hit) / n
            dcg = sum(1 / log2(j + 2) for j, h in enumerate(hit) if h)
            idcg = sum(1 / log2(j + 2) for j in range(min(n, k)))
            values = {
                "HR": float(any(hit)),
                "Recall": r,
                "NDCG": dcg / idcg,
                "MRR": 1 / (hit.index(True) + 1) if any(hit) else 0.0,
                "Precision": p,
                "F1": 2 * p * r / (p + r) if p + r else 0.0,
            }
            for name, v in values.items():
                per_user.setdefault(f"{name}@{k}", []).append(v)
    summary = {name: sum(v) / len(v) for name, v in per_user.items()}
    item_users = {
        i: len({u for u, j in zip(train.user, train.item, strict=True) if j == i}) for i in range(N_ITEMS + 1)
    }
    for k in KS:
        summary[f"Coverage@{k}"] = len({i for top in tops for i in top[:k]}) / N_ITEMS
        novelty = [sum(-log2(max(item_users[i], 1) / train.n_users) for i in top[:k]) / k for top in tops]
        summary[f"Novelty@{k}"] = sum(novelty) / len(novelty)
    return summary, per_user, users


def _split(protocol: str, log: InteractionLog) -> tuple[InteractionLog, EvalSet]:
    if protocol == "leave-one-out":
        split = leave_one_out(log)
    else:
        split = temporal_split(log, test_start=60, valid_start=40)
    return split.train, split.test


@pytest.mark.parametrize("protocol", ["leave-one-out", "temporal"])
@pytest.mark.parametrize(
    ("exclude_seen", "seen_targets"), [(True, "miss"), (True, "drop"), (False, "miss"), (False, "drop")]
)
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_naive_loop_for_every_batch_size(
    protocol: str, exclude_seen: bool, seen_targets: Any, seed: int
) -> None:
    train, es = _split(protocol, _random_log(seed))
    seen_target = [bool(set(es.targets.sequence(b)) & set(es.histories.sequence(b))) for b in range(len(es))]
    assert len(es) > 10 and any(seen_target) and not all(seen_target)  # the data exercises both cases
    model = RandomModel(seed + 100)
    expected, expected_per_user, expected_users = _naive(model, es, train, exclude_seen, seen_targets)
    results = []
    for batch_size in (1, 4, 7, 1000):
        model.batch_sizes.clear()
        cfg = RankingConfig(
            ks=KS, exclude_seen=exclude_seen, seen_targets=seen_targets, batch_size=batch_size
        )
        res = evaluate_ranking(model.score, es, N_ITEMS, cfg, train=train, progress=False)
        assert max(model.batch_sizes) == min(batch_size, len(res.users))
        results.append(res)
        assert res.metrics.keys() == expected.keys()
        for name, value in expected.items():
            assert res.metrics[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
        for name, values in expected_per_user.items():
            np.testing.assert_allclose(res.per_user[name], values, rtol=1e-9, atol=1e-12, err_msg=name)
        np.testing.assert_array_equal(res.users, expected_users)
        assert res.protocol == {
            "ranking": "full",
            "exclude_seen": exclude_seen,
            "seen_targets": seen_targets,
            "users_evaluated": len(expected_users),
            "n_items": N_ITEMS,
        }
    first = results[0]
    for res in results[1:]:  # identical, not merely close, whatever the batch size
        assert res.metrics == first.metrics
        for name in first.per_user:
            np.testing.assert_array_equal(res.per_user[name], first.per_user[name])


# --- hand cases ------------------------------------------------------------------------------


def _fixed_scores(values: list[float]) -> Any:
    def score(hist: Histories) -> NDArray[np.float32]:
        return np.tile(np.array(values, dtype=np.float32), (len(hist), 1))

    return score


def test_hand_case() -> None:
    # 5 items scored 0.1 * id for everyone: order 5, 4, 3, 2, 1 before masking.
    # user 1: history [5], target [3] -> list 4, 3, 2, 1: hit at rank 2
    # user 2: history [1], targets [5, 2] -> list 5, 4, 3, 2: hits at ranks 1 and 4
    es = EvalSet(
        Histories.from_lists([[5], [1]], user=[1, 2]), Histories.from_lists([[3], [5, 2]], user=[1, 2])
    )
    train = InteractionLog(
        np.array([1, 2]),
        np.array([5, 1]),
        np.zeros(2, np.int64),
        np.zeros(2, np.int8),
        np.ones(2, np.float32),
        2,
        5,
    )
    res = evaluate_ranking(
        _fixed_scores([0, 0.1, 0.2, 0.3, 0.4, 0.5]), es, 5, RankingConfig(ks=(1, 4)), train=train
    )
    ndcg_1 = 1 / log2(3)  # one target at rank 2, IDCG 1
    ndcg_2 = (1 + 1 / log2(5)) / (1 + 1 / log2(3))  # two targets at ranks 1 and 4
    expected = {
        "HR@1": (0 + 1) / 2,
        "Recall@1": (0 + 1 / 2) / 2,
        "NDCG@1": (0 + 1) / 2,
        "MRR@1": (0 + 1) / 2,
        "Precision@1": (0 + 1) / 2,
        "F1@1": (0 + 2 * 1 * 0.5 / 1.5) / 2,  # user 2: P=1, R=1/2 -> 2/3
        "HR@4": 1.0,
        "Recall@4": 1.0,
        "NDCG@4": (ndcg_1 + ndcg_2) / 2,
        "MRR@4": (1 / 2 + 1) / 2,
        "Precision@4": (1 / 4 + 2 / 4) / 2,
        "F1@4": (2 / 5 + 2 / 3) / 2,  # P=1/4, R=1 -> 2/5;  P=1/2, R=1 -> 2/3
        "Coverage@1": 2 / 5,  # items 4 and 5
        "Coverage@4": 5 / 5,
        "Novelty@1": 1.0,  # item 4 (nobody -> 1 of 2 users), item 5 (1 of 2): -log2(1/2) = 1 each
        "Novelty@4": 1.0,  # every item has 0 or 1 of the 2 training users
    }
    assert res.metrics == pytest.approx(expected)
    np.testing.assert_array_equal(res.users, [1, 2])


def test_masked_items_never_count_when_the_catalogue_is_smaller_than_k() -> None:
    # 4 items; the user saw 1 and 2 and the target is 1 (a re-purchase), the best-scored item.
    es = EvalSet(Histories.from_lists([[1, 2]], user=[1]), Histories.from_lists([[1]], user=[1]))
    score = _fixed_scores([0, 0.4, 0.3, 0.2, 0.1])
    # 4 training users: item 3 had 2 of them, item 4 none
    train = InteractionLog(
        np.array([1, 1, 2, 3, 4]),
        np.array([1, 2, 3, 3, 1]),
        np.zeros(5, np.int64),
        np.zeros(5, np.int8),
        np.ones(5, np.float32),
        4,
        4,
    )
    # miss: only items 3 and 4 can be ranked; the masked target must not fill a slot and count as a hit
    res = evaluate_ranking(score, es, 4, RankingConfig(ks=(5,), seen_targets="miss"), train=train)
    assert res.metrics["HR@5"] == 0.0 and res.metrics["MRR@5"] == 0.0
    assert res.metrics["Coverage@5"] == pytest.approx(2 / 4)  # items 3, 4 (masked ones are not shown)
    # novelty over the two shown items only: item 3 -log2(2/4) = 1, item 4 -log2(1/4) = 2 -> 1.5
    assert res.metrics["Novelty@5"] == pytest.approx(1.5)
    # not excluded: the target is first
    res = evaluate_ranking(score, es, 4, RankingConfig(ks=(5,), exclude_seen=False))
    assert res.metrics["HR@5"] == 1.0 and res.metrics["MRR@5"] == 1.0
    # drop: no user is left, and the result still reports every metric
    res = evaluate_ranking(score, es, 4, RankingConfig(ks=(5,), seen_targets="drop"))
    assert res.protocol["users_evaluated"] == 0 and res.users.size == 0
    assert res.metrics["HR@5"] == 0.0 and res.metrics["NDCG@5"] == 0.0 and res.metrics["Coverage@5"] == 0.0


@pytest.mark.parametrize("shape", [(1, 4), (2, 5), (5,)])
def test_scorer_with_wrong_shape_raises(shape: tuple[int, ...]) -> None:
    es = EvalSet(Histories.from_lists([[1]], user=[1]), Histories.from_lists([[2]], user=[1]))

    def score(hist: Histories) -> NDArray[np.float32]:
        return np.zeros(shape, dtype=np.float32)

    with pytest.raises(ValueError, match=re.escape(f"scorer returned shape {shape}, expected (1, 5)")):
        evaluate_ranking(score, es, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ks": ()}, "ks must be positive cut-offs, got ()"),
        ({"ks": (0, 5)}, "ks must be positive cut-offs, got (0, 5)"),
        ({"batch_size": 0}, "batch_size must be >= 1, got 0"),
        ({"seen_targets": "keep"}, "seen_targets must be 'miss' or 'drop', got 'keep'"),
    ],
)
def test_ranking_config_rejects_invalid_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        RankingConfig(**kwargs)
