from __future__ import annotations

import numpy as np
import pytest

from driftrec.policy.ope import (
    BootstrapConfig,
    LoggedFeedback,
    bootstrap_interval,
    estimate,
    estimate_all,
    fit_reward_model,
    round_values,
)


def _bandit(
    n: int = 4000, n_actions: int = 5, seed: int = 0
) -> tuple[LoggedFeedback, np.ndarray, np.ndarray, float]:
    """Contextual Bernoulli bandit with a known reward function and a known evaluation policy."""
    rng = np.random.default_rng(seed)
    context = rng.normal(size=(n, 2))
    weights = rng.normal(size=(2, n_actions))
    mu = 1 / (1 + np.exp(-(context @ weights - 1.0)))  # (n, A) true click rates
    logits = rng.normal(size=(n, n_actions))
    behaviour = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    action = (behaviour.cumsum(axis=1) > rng.random(n)[:, None]).argmax(axis=1)
    reward = (rng.random(n) < mu[np.arange(n), action]).astype(float)
    target = 0.2 / n_actions + 0.8 * (mu == mu.max(axis=1, keepdims=True))  # mostly greedy on truth
    target = target / target.sum(axis=1, keepdims=True)
    true_value = float((target * mu).sum(axis=1).mean())
    data = LoggedFeedback.from_arrays(reward, action, behaviour[np.arange(n), action], context=context)
    return data, target[:, :, None], mu[:, :, None], true_value


def test_hand_computed_values() -> None:
    data = LoggedFeedback.from_arrays(reward=[1.0, 0.0], action=[0, 1], pscore=[0.5, 0.25])
    dist = np.array([[[0.8], [0.2]], [[0.5], [0.5]]])
    q = np.array([[[0.6], [0.1]], [[0.4], [0.2]]])
    np.testing.assert_allclose(round_values("ips", data, dist), [1.6, 0.0])
    np.testing.assert_allclose(round_values("ips", data, dist, clip=1.0), [1.0, 0.0])
    np.testing.assert_allclose(round_values("snips", data, dist), [1.6 / 1.8, 0.0])
    np.testing.assert_allclose(round_values("dm", data, dist, q), [0.5, 0.3])
    np.testing.assert_allclose(round_values("dr", data, dist, q), [0.5 + 1.6 * 0.4, 0.3 + 2.0 * -0.2])


def test_estimators_cover_the_true_value() -> None:
    data, target, mu, truth = _bandit()
    wrong_q = np.clip(mu + 0.15, 0, 1)  # a biased reward model: DR must still be right, DM not
    boot = BootstrapConfig(n_samples=400, seed=1)
    for name, q in (("ips", None), ("snips", None), ("dr", wrong_q), ("dm", mu)):
        est = estimate(name, data, target, q, bootstrap=boot)  # type: ignore[arg-type]
        assert est.lower <= truth <= est.upper, (name, est, truth)
        assert est.upper - est.lower < 0.15
    biased = estimate("dm", data, target, wrong_q, bootstrap=boot)
    assert biased.lower > truth


def test_unbiased_on_average_over_logs() -> None:
    """Averaged over independent logs, IPS and DR land on the true value (bias << one log's spread)."""
    values: dict[str, list[float]] = {"ips": [], "dr": []}
    truths = []
    for seed in range(30):
        data, target, mu, truth = _bandit(n=600, seed=seed)
        truths.append(truth)
        q = np.clip(mu - 0.1, 0, 1)
        values["ips"].append(float(round_values("ips", data, target).mean()) - truth)
        values["dr"].append(float(round_values("dr", data, target, q).mean()) - truth)
    for errors in values.values():
        err = np.asarray(errors)
        assert abs(err.mean()) < 3 * err.std() / np.sqrt(err.size)


def test_bootstrap_matches_obp_style_loop() -> None:
    x = np.random.default_rng(3).random(57)
    cfg = BootstrapConfig(n_samples=300, seed=9, chunk_rows=57 * 7)
    rs = np.random.RandomState(9)
    boots = [np.mean(rs.choice(x, size=x.shape[0])) for _ in range(300)]
    lower, upper, mean = bootstrap_interval(x, cfg)
    assert lower == pytest.approx(np.percentile(boots, 2.5), abs=1e-12)
    assert upper == pytest.approx(np.percentile(boots, 97.5), abs=1e-12)
    assert mean == pytest.approx(np.mean(boots), abs=1e-12)


def test_reward_model_and_estimate_all() -> None:
    data, target, _, truth = _bandit(n=1500)
    q_hat = fit_reward_model(data, n_actions=5, len_list=1, n_folds=2)
    assert q_hat.shape == (1500, 5, 1) and np.all((q_hat > 0) & (q_hat < 1))
    out = estimate_all(data, target, q_hat, bootstrap=BootstrapConfig(n_samples=200))
    assert set(out) == {"ips", "snips", "dm", "dr"}
    assert abs(out["dr"].value - truth) < 0.06


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pscore": [0.0, 0.5]}, "pscore must be in \\(0, 1\\]"),
        ({"reward": [np.nan, 1.0]}, "reward contains NaN"),
        ({"action": [0]}, "action must be 1-d of length 2"),
    ],
)
def test_bad_logs_rejected(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"reward": [1.0, 0.0], "action": [0, 1], "pscore": [0.5, 0.5]}
    with pytest.raises(ValueError, match=message):
        LoggedFeedback.from_arrays(**{**base, **kwargs})  # type: ignore[arg-type]


def test_bad_action_dist_and_missing_q() -> None:
    data = LoggedFeedback.from_arrays(reward=[1.0], action=[0], pscore=[0.5])
    with pytest.raises(ValueError, match="sum to 1"):
        round_values("ips", data, np.array([[[0.3], [0.3]]]))
    with pytest.raises(ValueError, match="needs q_hat"):
        round_values("dr", data, np.array([[[0.5], [0.5]]]))
    with pytest.raises(ValueError, match="alpha"):
        BootstrapConfig(alpha=1.5)
