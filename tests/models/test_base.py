"""top_k (order, ties, clipping) and mask_seen."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftrec.data.interactions import Histories
from driftrec.models.base import mask_seen, top_k

NEG = -np.inf


@pytest.mark.parametrize(
    ("scores", "k", "expected"),
    [
        # plain descending order; column 0 is padding (-inf)
        ([[NEG, 0.1, 0.9, 0.5]], 2, [[2, 3]]),
        ([[NEG, 0.1, 0.9, 0.5]], 3, [[2, 3, 1]]),
        # all tied: lower id first
        ([[NEG, 1, 1, 1, 1]], 2, [[1, 2]]),
        # tie across the cut: 5 (score 3) first, then of the three items at 1 the two lowest ids
        ([[NEG, 1, 1, 1, 1, 3]], 3, [[5, 1, 2]]),
        # tie whose later members score higher ids: 4 and 2 tie at 2, 2 wins by id
        ([[NEG, 0, 2, 0, 2, 0]], 2, [[2, 4]]),
        # k larger than the catalogue is clipped to n_items (never the padding column first)
        ([[NEG, 0.2, 0.1]], 5, [[1, 2]]),
        # NaN ranks as -inf; among -inf items ids ascend (padding 0 comes first of them)
        ([[NEG, np.nan, 0.5, NEG]], 3, [[2, 0, 1]]),
        # several rows are independent
        ([[NEG, 1, 2, 3], [NEG, 3, 2, 1], [NEG, 5, 5, 5]], 2, [[3, 2], [1, 2], [1, 2]]),
    ],
)
def test_top_k_table(scores: list[list[float]], k: int, expected: list[list[int]]) -> None:
    got = top_k(np.array(scores, dtype=np.float32), k)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


def test_top_k_empty_batch_and_zero_k() -> None:
    assert top_k(np.zeros((0, 5), dtype=np.float32), 3).shape == (0, 3)
    assert top_k(np.zeros((2, 5), dtype=np.float32), 0).shape == (2, 0)


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(st.lists(st.integers(-2, 3), min_size=2, max_size=40), min_size=1, max_size=4),
    k=st.integers(1, 45),
    width=st.integers(2, 40),
)
def test_top_k_equals_full_stable_sort(rows: list[list[int]], k: int, width: int) -> None:
    # Few distinct values, so ties at the cut are the rule; -2 stands for a masked (-inf) item.
    scores = np.array([(r * width)[:width] for r in rows], dtype=np.float32)
    scores[scores == -2] = NEG
    got = top_k(scores, k)
    n_keep = min(k, width - 1)
    for b, row in enumerate(scores):
        ref = sorted(range(width), key=lambda i: (-row[i], i))[:n_keep]
        assert got[b].tolist() == ref
    # deterministic, and a row's answer does not depend on the other rows of the batch
    np.testing.assert_array_equal(top_k(scores.copy(), k), got)
    np.testing.assert_array_equal(top_k(scores[::-1].copy(), k), got[::-1])


def test_mask_seen_in_place_with_duplicates_and_empty_rows() -> None:
    hist = Histories.from_lists([[2, 2, 4], [], [1]])
    scores = np.arange(15, dtype=np.float32).reshape(3, 5)
    out = mask_seen(scores, hist)
    assert out is scores
    expected = np.arange(15, dtype=np.float32).reshape(3, 5)
    expected[0, [2, 4]] = NEG
    expected[2, 1] = NEG
    np.testing.assert_array_equal(out, expected)
