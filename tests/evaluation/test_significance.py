import numpy as np

from driftrec.evaluation import paired_bootstrap_ci, sign_flip_p_value


def test_clear_gain_has_interval_above_zero_and_small_p() -> None:
    rng = np.random.default_rng(1)
    diff = rng.normal(0.05, 0.1, 2000)
    low, high = paired_bootstrap_ci(diff, n=500)
    assert 0.0 < low < 0.05 < high
    assert sign_flip_p_value(diff, n=2000) < 0.01


def test_zero_mean_noise_interval_covers_zero_and_p_is_large() -> None:
    half = np.random.default_rng(2).normal(0.0, 0.1, 1000)
    diff = np.concatenate([half, -half])  # mean exactly 0: no gain either way
    low, high = paired_bootstrap_ci(diff, n=500)
    assert low < 0.0 < high
    assert sign_flip_p_value(diff, n=2000) > 0.05


def test_identical_models_give_p_one_and_zero_interval() -> None:
    diff = np.zeros(100)
    assert sign_flip_p_value(diff) == 1.0
    assert paired_bootstrap_ci(diff, n=50) == [0.0, 0.0]
    assert paired_bootstrap_ci(np.zeros(0)) == [0.0, 0.0]


def test_same_seed_same_interval() -> None:
    diff = np.random.default_rng(3).normal(0.01, 0.1, 300)
    assert paired_bootstrap_ci(diff, n=200, seed=7) == paired_bootstrap_ci(diff, n=200, seed=7)
