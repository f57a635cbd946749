"""Markov transition probabilities on a hand-made log, worked out by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models.markov import MarkovChain, MarkovConfig, transition_counts


@pytest.fixture
def log(make_log: Any) -> InteractionLog:
    # user 1: 1 2 3; user 2: 1 2 4; user 3: 2 3; user 4: 1 1 2 (a repeat), item 5 never seen
    rows = [(1, 1, 0), (1, 2, 1), (1, 3, 2), (2, 1, 0), (2, 2, 1), (2, 4, 2), (3, 2, 0), (3, 3, 1)]
    rows += [(4, 1, 0), (4, 1, 1), (4, 2, 2)]
    return make_log([(u, i, float(t)) for u, i, t in rows], 4, 5)


# events per item: 1 -> 4, 2 -> 4, 3 -> 2, 4 -> 1, 5 -> 0 (11 in all)
POP = np.array([0, 4, 4, 2, 1, 0]) / 11


def test_transition_counts(log: InteractionLog) -> None:
    counts = transition_counts(log, MarkovConfig()).toarray()
    expected = np.zeros((6, 6))
    expected[1, 2] = 3  # users 1, 2, 4 (the repeat 1 1 is not a move)
    expected[2, 3] = 2
    expected[2, 4] = 1
    np.testing.assert_array_equal(counts, expected)
    with_repeats = transition_counts(log, MarkovConfig(skip_repeats=False)).toarray()
    assert with_repeats[1, 1] == 1 and with_repeats[1, 2] == 3


def test_probabilities_with_smoothing(log: InteractionLog) -> None:
    model = MarkovChain(MarkovConfig(smoothing=2.0)).fit(log)
    scores = model.score(Histories.from_lists([[3, 1], [2], [4], []]))
    from_1 = 2.0 * POP / (3 + 2.0)
    from_1[2] += 3 / (3 + 2.0)
    from_2 = 2.0 * POP / (3 + 2.0)
    from_2[3] += 2 / 5
    from_2[4] += 1 / 5
    np.testing.assert_allclose(scores[0, 1:], from_1[1:], rtol=1e-6)
    np.testing.assert_allclose(scores[1, 1:], from_2[1:], rtol=1e-6)
    # item 4 has no outgoing moves, an empty history has no last item: both are popularity
    np.testing.assert_allclose(scores[2, 1:], POP[1:], rtol=1e-6)
    np.testing.assert_allclose(scores[3, 1:], POP[1:], rtol=1e-6)
    np.testing.assert_allclose(scores[:, 1:].sum(axis=1), 1.0, rtol=1e-6)
    assert scores[0, 5] == 0.0  # never seen in training: zero, still finite


def test_zero_smoothing_gives_raw_frequencies(log: InteractionLog) -> None:
    scores = MarkovChain(MarkovConfig(smoothing=0.0)).fit(log).score(Histories.from_lists([[2]]))
    np.testing.assert_allclose(scores[0, 1:], [0, 0, 2 / 3, 1 / 3, 0], rtol=1e-6)


def test_window_mixes_the_last_items_with_decay(log: InteractionLog) -> None:
    model = MarkovChain(MarkovConfig(smoothing=0.0, window=2, decay=0.5)).fit(log)
    # last two items 1 then 2: weights 0.5 / 1.5 on item 1, 1 / 1.5 on item 2
    scores = model.score(Histories.from_lists([[1, 2], [1, 2, 2]]))
    expected = np.array([0, 1.0, 2 / 3, 1 / 3, 0]) * np.array([0, 1 / 3, 2 / 3, 2 / 3, 0])
    np.testing.assert_allclose(scores[0, 1:], expected, rtol=1e-6)
    # consecutive repeats in the history collapse, as in training
    np.testing.assert_allclose(scores[1], scores[0], rtol=1e-6)


def test_max_gap_drops_moves_across_long_pauses(make_log: Any) -> None:
    log = make_log([(1, 1, 0.0), (1, 2, 0.5), (1, 3, 10.0), (2, 1, 0.0), (2, 1, 9.0), (2, 3, 9.5)], 2, 3)
    counts = transition_counts(log, MarkovConfig(max_gap_hours=1.0)).toarray()
    # 1 -> 2 (0.5 h) kept; 2 -> 3 (9.5 h) dropped; user 2's gap is measured from the latest 1
    assert counts[1, 2] == 1 and counts[2, 3] == 0 and counts[1, 3] == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"smoothing": -1.0}, "MarkovConfig.smoothing must be a number >= 0, got -1.0"),
        ({"window": 0}, "MarkovConfig.window must be an integer >= 1, got 0"),
        ({"decay": 0.0}, "MarkovConfig.decay must be a number in (0, 1], got 0.0"),
        ({"decay": 1.5}, "MarkovConfig.decay must be a number in (0, 1], got 1.5"),
        ({"skip_repeats": "yes"}, "MarkovConfig.skip_repeats must be a bool, got 'yes'"),
        ({"max_gap_hours": -2}, "MarkovConfig.max_gap_hours must be None or a number >= 0, got -2"),
    ],
)
def test_config_validation(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as err:
        MarkovConfig(**params)
    assert str(err.value) == message
