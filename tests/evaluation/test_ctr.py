"""CTR metrics agree with scikit-learn and with a per-user loop."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.metrics import roc_auc_score

from driftrec.evaluation.ctr import ctr_metrics, grouped_auc, roc_auc


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_matches_sklearn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.random(500) < 0.2
    s = np.round(rng.random(500) + 0.4 * y, 1)  # rounding makes many ties
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_logloss_matches_sklearn() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.4).astype(int)
    p = np.clip(rng.random(300), 0.01, 0.99)
    assert ctr_metrics(y, p)["LogLoss"] == pytest.approx(sk_log_loss(y, p), rel=1e-9)


def test_gauc_is_the_impression_weighted_mean_of_user_aucs() -> None:
    rng = np.random.default_rng(4)
    g = rng.integers(0, 20, 600)
    y = rng.random(600) < 0.3
    s = rng.random(600) + 0.3 * y
    value, n = grouped_auc(g, y, s)
    total = weight = 0.0
    used = 0
    for user in np.unique(g):
        m = g == user
        if y[m].all() or not y[m].any():
            continue
        total += roc_auc_score(y[m], s[m]) * m.sum()
        weight += m.sum()
        used += 1
    assert value == pytest.approx(total / weight, abs=1e-12)
    assert n == used


def test_gauc_without_mixed_groups_is_nan() -> None:
    value, n = grouped_auc(np.array([1, 1, 2]), np.array([1, 1, 0]), np.array([0.1, 0.2, 0.3]))
    assert np.isnan(value) and n == 0
