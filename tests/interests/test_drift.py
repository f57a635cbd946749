from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy.spatial.distance import jensenshannon

from driftrec.interests import ProfileConfig, build_profiles, consecutive_drift, drift_summary, js_divergence


def test_jsd_by_hand() -> None:
    # p = (1, 0), q = (1/2, 1/2), m = (3/4, 1/4)
    # KL(p||m) = log2(1 / (3/4)) = log2(4/3) = 0.4150375
    # KL(q||m) = 1/2 log2((1/2)/(3/4)) + 1/2 log2((1/2)/(1/4)) = 1/2 (-0.5849625) + 1/2 (1) = 0.2075187
    # JSD = (0.4150375 + 0.2075187) / 2 = 0.3112781 bits
    expected = 0.5 * (math.log2(4 / 3) + 0.5 * math.log2(2 / 3) + 0.5)
    assert expected == pytest.approx(0.3112781, abs=1e-7)
    assert float(js_divergence(np.array([1.0, 0.0]), np.array([0.5, 0.5]))) == pytest.approx(
        expected, abs=1e-12
    )
    assert float(js_divergence(np.array([2.0, 0.0]), np.array([3.0, 3.0]))) == pytest.approx(
        expected
    )  # unnormalised
    assert float(js_divergence(np.array([1.0, 0.0]), np.array([0.0, 1.0]))) == pytest.approx(1.0)  # disjoint
    assert float(js_divergence(np.array([0.2, 0.8]), np.array([0.2, 0.8]))) == pytest.approx(0.0, abs=1e-15)
    assert float(js_divergence(np.array([1.0, 0.0]), np.array([0.5, 0.5]), base=math.e)) == pytest.approx(
        expected * math.log(2)
    )


def test_jsd_matches_scipy_and_marks_empty_as_nan() -> None:
    rng = np.random.default_rng(0)
    p, q = rng.random((50, 6)), rng.random((50, 6))
    p[p < 0.3] = 0.0
    ours = js_divergence(p, q)
    theirs = np.array([jensenshannon(a, b, base=2) ** 2 for a, b in zip(p, q, strict=True)])
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert np.isnan(js_divergence(np.zeros(3), np.ones(3)))
    with pytest.raises(ValueError, match="non-negative"):
        js_divergence(np.array([-1.0, 1.0]), np.ones(2))


def test_consecutive_drift_skips_empty_windows(switch_and_stable: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    events, items = switch_and_stable
    profiles = build_profiles(events, items, ProfileConfig(window="10d"))
    drift = consecutive_drift(profiles)
    switch, stable = (
        profiles.user_ids.to_list().index("u_switch"),
        profiles.user_ids.to_list().index("u_stable"),
    )
    assert np.isnan(drift[switch, 0])
    assert int(np.nanargmax(drift[switch])) == 5  # window 5 starts at day 50
    assert np.nanmax(drift[stable]) < 0.1
    # an empty window is skipped: compare with the last active one
    values = profiles.values.copy()
    values[switch, 4] = 0.0
    gapped = type(profiles)(profiles.user_ids, profiles.categories, profiles.window_starts, values,
                            profiles.n_events, profiles.config)  # fmt: skip
    skipped = consecutive_drift(gapped)
    assert np.isnan(skipped[switch, 4])
    assert skipped[switch, 5] == pytest.approx(float(js_divergence(values[switch, 5], values[switch, 3])))
    assert np.isnan(consecutive_drift(gapped, skip_empty=False)[switch, 5])
    summary = drift_summary(profiles)
    assert summary.filter(user_id="u_switch")["max_jsd"].item() == pytest.approx(np.nanmax(drift[switch]))
