"""The funnel and ratings respond to affinity and price in the documented directions."""

from __future__ import annotations

import numpy as np

from driftrec.data.synthetic import SyntheticShopConfig
from driftrec.data.synthetic.behaviour import (
    examination_probability,
    expected_events_per_view,
    funnel_probabilities,
    satisfaction_stars,
)

CFG = SyntheticShopConfig()


def test_funnel_rises_with_affinity_and_falls_with_price() -> None:
    affinity = np.array([0.0, 0.5, 1.0])
    by_affinity = funnel_probabilities(affinity, np.ones(3), CFG)
    by_price = funnel_probabilities(np.ones(3), np.array([0.5, 1.0, 2.0]), CFG)
    for step in by_affinity:
        assert np.all(np.diff(step) > 0)
    for step in by_price:
        assert np.all(np.diff(step) < 0)
    click_on, click_off = by_affinity[0][2], by_affinity[0][0]
    assert click_on == CFG.click_prob and click_on > 10 * click_off


def test_stars_are_higher_on_interest() -> None:
    rng = np.random.default_rng(0)
    quality = rng.normal(size=5_000)
    on = satisfaction_stars(np.ones(5_000), quality, rng)
    off = satisfaction_stars(np.zeros(5_000), quality, rng)
    assert on.min() >= 1 and on.max() <= 5 and off.min() >= 1
    assert on.mean() > off.mean() + 1.0


def test_examination_decays_with_position() -> None:
    p = examination_probability(np.arange(10, dtype=np.float64), 0.8)
    assert p[0] == 1.0 and np.all(np.diff(p) < 0)


def test_expected_yield_is_deterministic_and_plausible() -> None:
    assert expected_events_per_view(CFG) == expected_events_per_view(CFG)
    assert 1.0 < expected_events_per_view(CFG) < expected_events_per_view(CFG.replace(click_prob=0.9))
