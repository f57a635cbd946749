"""Metrics against values worked out by hand (and against scikit-learn for AUC and LogLoss)."""

from __future__ import annotations

from math import log, log2

import numpy as np
import pytest
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.metrics import roc_auc_score

from driftrec.evaluation.metrics import (
    auc,
    catalogue_coverage,
    f1_at_k,
    group_auc,
    hit_matrix,
    hr_at_k,
    log_loss,
    mrr_at_k,
    ndcg_at_k,
    novelty_at_k,
    precision_at_k,
    recall_at_k,
)

# Four users, lists of 5. a: hits at ranks 2 and 5, 2 targets; b: hit at rank 1, 1 target;
# c: no hit, 1 target; d: hits at ranks 3, 4, 5, 5 targets (more targets than k).
HITS = np.array(
    [
        [0, 1, 0, 0, 1],
        [1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 1, 1, 1],
    ],
    dtype=bool,
)
N_TARGETS = np.array([2, 1, 1, 5])

D1, D2, D3, D4, D5 = (1 / log2(r + 1) for r in range(1, 6))  # discounts 1, .6309, .5, .4307, .3869


@pytest.mark.parametrize(
    ("k", "expected"),
    [(1, [0, 1, 0, 0]), (2, [1, 1, 0, 0]), (3, [1, 1, 0, 1]), (5, [1, 1, 0, 1])],
)
def test_hr(k: int, expected: list[float]) -> None:
    np.testing.assert_allclose(hr_at_k(HITS, k), expected)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, [0 / 2, 1 / 1, 0, 0 / 5]),
        (3, [1 / 2, 1 / 1, 0, 1 / 5]),
        (5, [2 / 2, 1 / 1, 0, 3 / 5]),
    ],
)
def test_recall(k: int, expected: list[float]) -> None:
    np.testing.assert_allclose(recall_at_k(HITS, N_TARGETS, k), expected)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, [0, 1, 0, 0]),
        (3, [1 / 3, 1 / 3, 0, 1 / 3]),
        (5, [2 / 5, 1 / 5, 0, 3 / 5]),
        (10, [2 / 10, 1 / 10, 0, 3 / 10]),  # k beyond the list length still divides by k
    ],
)
def test_precision(k: int, expected: list[float]) -> None:
    np.testing.assert_allclose(precision_at_k(HITS, k), expected)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        # F1 = 2PR / (P + R)
        # a: P=2/5, R=1 -> 0.8/1.4 = 4/7; b: P=1/5, R=1 -> 0.4/1.2 = 1/3; d: P=R=3/5 -> 3/5
        (5, [4 / 7, 1 / 3, 0, 3 / 5]),
        # a: P=1/3, R=1/2 -> (1/3)/(5/6) = 2/5; b: P=1/3, R=1 -> (2/3)/(4/3) = 1/2;
        # d: P=1/3, R=1/5 -> (2/15)/(8/15) = 1/4
        (3, [2 / 5, 1 / 2, 0, 1 / 4]),
    ],
)
def test_f1(k: int, expected: list[float]) -> None:
    np.testing.assert_allclose(f1_at_k(HITS, N_TARGETS, k), expected)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        # a: DCG = D2 + D5, IDCG = D1 + D2 (2 targets); b: D1/D1; c: 0
        # d: DCG = D3 + D4 + D5, IDCG = D1 + ... + D5 (min(5 targets, k=5))
        (5, [(D2 + D5) / (D1 + D2), 1, 0, (D3 + D4 + D5) / (D1 + D2 + D3 + D4 + D5)]),
        # k=3 < n_targets=5 for d: IDCG = D1 + D2 + D3 (a perfect list of 3 hits), DCG = D3
        (3, [D2 / (D1 + D2), 1, 0, D3 / (D1 + D2 + D3)]),
        # k=1: only the first slot counts; IDCG = D1 for everybody
        (1, [0, 1, 0, 0]),
    ],
)
def test_ndcg(k: int, expected: list[float]) -> None:
    np.testing.assert_allclose(ndcg_at_k(HITS, N_TARGETS, k), expected)


def test_ndcg_single_target_is_inverse_log_of_rank() -> None:
    hits = np.eye(5, dtype=bool)  # user r has its one target at rank r+1
    np.testing.assert_allclose(ndcg_at_k(hits, np.ones(5, dtype=np.int64), 5), [D1, D2, D3, D4, D5])
    # numbers: 1, 1/log2(3) = 0.63093, 1/2, 1/log2(5) = 0.43068, 1/log2(6) = 0.38685
    np.testing.assert_allclose(
        ndcg_at_k(hits, np.ones(5, dtype=np.int64), 5), [1, 0.63093, 0.5, 0.43068, 0.38685], atol=1e-5
    )


def test_metrics_with_zero_targets_and_short_lists() -> None:
    hits = np.array([[False, False], [True, False]])
    n = np.array([0, 1])
    np.testing.assert_allclose(recall_at_k(hits, n, 5), [0, 1])
    np.testing.assert_allclose(ndcg_at_k(hits, n, 5), [0, 1])  # no target: IDCG 0 -> 0, not NaN
    np.testing.assert_allclose(f1_at_k(hits, n, 5), [0, 2 * (1 / 5) * 1 / (1 / 5 + 1)])


@pytest.mark.parametrize(
    ("k", "expected"),
    [(5, [1 / 2, 1, 0, 1 / 3]), (2, [1 / 2, 1, 0, 0]), (1, [0, 1, 0, 0])],
)
def test_mrr(k: int, expected: list[float]) -> None:
    np.testing.assert_allclose(mrr_at_k(HITS, k), expected)


def test_hit_matrix() -> None:
    recommended = np.array([[3, 1, 2], [4, 5, 6], [9, 7, 8]])
    # row 0 targets {1, 9}; row 1 none; row 2 {8}. 9 is row 0's target, not row 2's.
    offsets = np.array([0, 2, 2, 3])
    items = np.array([1, 9, 8])
    expected = [[False, True, False], [False, False, False], [False, False, True]]
    np.testing.assert_array_equal(hit_matrix(recommended, offsets, items), expected)


def test_catalogue_coverage() -> None:
    recommended = np.array([[1, 2], [2, 3], [0, 0]])
    assert catalogue_coverage(recommended, n_items=10) == pytest.approx(3 / 10)  # {1,2,3}; 0 is padding


def test_novelty() -> None:
    item_users = np.array([0, 4, 2, 1, 0])  # users who had items 1..4, out of 4 users
    recommended = np.array([[1, 2], [3, 4]])
    # row 0: -log2(4/4) = 0, -log2(2/4) = 1 -> 0.5
    # row 1: -log2(1/4) = 2, item 4 (nobody) counts as one user: -log2(1/4) = 2 -> 2
    np.testing.assert_allclose(novelty_at_k(recommended, item_users, n_users=4), [0.5, 2.0])
    # empty slots (0) of short lists are not items: row 0 = -log2(2/4) = 1 alone; an empty row is 0
    np.testing.assert_allclose(novelty_at_k(np.array([[2, 0], [0, 0]]), item_users, n_users=4), [1.0, 0.0])


@pytest.mark.parametrize(
    ("labels", "scores", "expected"),
    [
        ([1, 0], [0.9, 0.1], 1.0),
        ([1, 0], [0.1, 0.9], 0.0),
        ([1, 0], [0.5, 0.5], 0.5),  # a tie counts one half
        # 3 positives x 2 negatives = 6 pairs. pos .9 beats .8 and .4 (2); pos .4 loses to .8,
        # ties .4 (0.5); pos .1 loses both (0) -> 2.5 / 6 = 5/12
        ([1, 0, 1, 0, 1], [0.9, 0.8, 0.4, 0.4, 0.1], 5 / 12),
        ([True, False, False], [0.2, 0.2, 0.2], 0.5),
    ],
)
def test_auc_hand(labels: list[int], scores: list[float], expected: float) -> None:
    assert auc(np.array(labels), np.array(scores)) == pytest.approx(expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_matches_sklearn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=300)
    scores = np.round(rng.random(300) + 0.3 * labels, 1)  # one decimal: many ties
    assert auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


@pytest.mark.parametrize("labels", [[1, 1, 1], [0, 0]])
def test_auc_needs_both_classes(labels: list[int]) -> None:
    with pytest.raises(ValueError, match="both positive and negative"):
        auc(np.array(labels), np.zeros(len(labels)))


def test_group_auc_hand() -> None:
    # group 1: labels 1,0,0 scores .8,.3,.9 -> the positive beats .3, loses to .9 -> AUC 1/2, size 3
    # group 2: labels 0,1 scores .2,.6 -> AUC 1, size 2
    # group 3: only positives, group 4: only a negative -> skipped
    # gAUC = (1/2 * 3 + 1 * 2) / (3 + 2) = 3.5 / 5 = 0.7
    groups = np.array([3, 1, 2, 1, 4, 2, 1, 3])
    labels = np.array([1, 1, 0, 0, 0, 1, 0, 1])
    scores = np.array([0.5, 0.8, 0.2, 0.3, 0.1, 0.6, 0.9, 0.4])
    assert group_auc(groups, labels, scores) == pytest.approx(0.7)


def test_group_auc_single_group_equals_auc_and_needs_a_mixed_group() -> None:
    rng = np.random.default_rng(3)
    labels, scores = rng.integers(0, 2, 50), rng.random(50)
    assert group_auc(np.zeros(50, dtype=np.int64), labels, scores) == pytest.approx(auc(labels, scores))
    with pytest.raises(ValueError, match="at least one group with both classes"):
        group_auc(np.array([1, 1, 2]), np.array([1, 1, 0]), np.array([0.1, 0.2, 0.3]))


def test_log_loss_hand() -> None:
    # -(ln 0.8 + ln(1 - 0.4)) / 2
    assert log_loss(np.array([1, 0]), np.array([0.8, 0.4])) == pytest.approx(-(log(0.8) + log(0.6)) / 2)
    # probabilities are clipped to [eps, 1 - eps]: a confident miss costs -ln(eps), not infinity
    assert log_loss(np.array([1]), np.array([0.0]), eps=1e-7) == pytest.approx(-log(1e-7))
    assert log_loss(np.array([0]), np.array([1.0]), eps=1e-7) == pytest.approx(-log(1e-7), rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_log_loss_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=500)
    probs = rng.uniform(0.01, 0.99, size=500)
    assert log_loss(labels, probs) == pytest.approx(sk_log_loss(labels, probs), rel=1e-12)
