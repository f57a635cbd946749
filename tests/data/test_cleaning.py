"""Cleaning: duplicates, k-core to a fixed point, minimum sequence length, config validation."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftrec.data.cleaning import CleaningConfig, clean, drop_duplicates, k_core, min_sequence_length


def _frame(pairs: list[tuple[str, str]]) -> pl.DataFrame:
    """(user, item) pairs, each at its own second, in the given order."""
    return pl.DataFrame(
        {
            "user_id": [u for u, _ in pairs],
            "item_id": [i for _, i in pairs],
            "ts": [datetime.fromtimestamp(n, UTC) for n in range(len(pairs))],
            "event": ["view"] * len(pairs),
        }
    )


def _pairs(frame: pl.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["user_id"].to_list(), frame["item_id"].to_list(), strict=True))


# --- duplicates ------------------------------------------------------------------------------


def test_drop_duplicates_keeps_first_occurrence_and_order() -> None:
    t1, t2 = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "user_id": ["u", "v", "u", "u", "u", "v"],
            "item_id": ["a", "b", "a", "a", "a", "b"],
            "ts": [t2, t1, t2, t1, t2, t1],
            "event": ["view", "view", "view", "view", "cart", "view"],
            "value": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0],  # marks the rows; not part of the key
        }
    )
    out, stats = drop_duplicates(frame)
    # row 2 repeats row 0, row 5 repeats row 1; row 3 (other ts) and row 4 (other event) are distinct
    assert out["value"].to_list() == [0.0, 1.0, 3.0, 4.0]
    assert (stats.step, stats.rows_before, stats.rows_after, stats.removed) == ("drop_duplicates", 6, 4, 2)


# --- k-core ----------------------------------------------------------------------------------

# user_k = item_k = 2. Core: u1 and u2 both had i1 and i2. Chain: u3 had i1 and i3, u4 only i3.
# Round 1: users -> u4 (1 event) goes; items -> i3 now has 1 event (u3) and goes.
#          u3 is left with one event (i1): one pass is not enough.
# Round 2: users -> u3 goes; items -> i1 still has u1, u2.   Round 3: nothing changes.
CHAIN = [("u1", "i1"), ("u3", "i1"), ("u1", "i2"), ("u2", "i1"), ("u3", "i3"), ("u2", "i2"), ("u4", "i3")]
CORE = [("u1", "i1"), ("u1", "i2"), ("u2", "i1"), ("u2", "i2")]


def _one_pass(frame: pl.DataFrame, user_k: int, item_k: int) -> pl.DataFrame:
    frame = frame.filter(pl.len().over("user_id") >= user_k)
    return frame.filter(pl.len().over("item_id") >= item_k)


def test_k_core_needs_more_than_one_pass() -> None:
    once = _one_pass(_frame(CHAIN), 2, 2)
    assert once.group_by("user_id").len()["len"].min() == 1  # u3 under the threshold after one pass
    out, stats = k_core(_frame(CHAIN), user_k=2, item_k=2)
    assert _pairs(out) == CORE  # file order kept
    assert (stats.rows_before, stats.rows_after) == (7, 4)
    assert "fixed point after 3 round(s)" in stats.detail


def test_k_core_raises_without_convergence() -> None:
    with pytest.raises(RuntimeError, match="did not converge within 2 rounds"):
        k_core(_frame(CHAIN), user_k=2, item_k=2, max_rounds=2)


def test_k_core_off_for_k_at_most_one() -> None:
    out, stats = k_core(_frame(CHAIN), user_k=1, item_k=0)
    assert out.height == 7 and stats.removed == 0


def _reference_core(pairs: list[tuple[str, str]], user_k: int, item_k: int) -> list[tuple[str, str]]:
    """Items first, then users, row by row, until nothing changes (the k-core is unique)."""
    rows = list(pairs)
    while True:
        items = {i: sum(1 for _, j in rows if j == i) for _, i in rows}
        kept = [r for r in rows if items[r[1]] >= item_k]
        users = {u: sum(1 for v, _ in kept if v == u) for u, _ in kept}
        kept = [r for r in kept if users[r[0]] >= user_k]
        if kept == rows:
            return rows
        rows = kept


@settings(max_examples=60, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from("pqrstuvw")), max_size=60),
    user_k=st.integers(0, 4),
    item_k=st.integers(0, 4),
)
def test_k_core_property(pairs: list[tuple[str, str]], user_k: int, item_k: int) -> None:
    out, _ = k_core(_frame(pairs), user_k, item_k)
    got = _pairs(out)
    assert got == _reference_core(pairs, user_k, item_k)
    if got:
        assert out.group_by("user_id").len()["len"].min() >= user_k
        assert out.group_by("item_id").len()["len"].min() >= item_k
    again, stats = k_core(out, user_k, item_k)  # a fixed point: a second run removes nothing
    assert stats.removed == 0 and _pairs(again) == got


# --- minimum length and the pipeline ---------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "users_left"), [(0, "u1 u2 u3 u4"), (1, "u1 u2 u3 u4"), (2, "u1 u2 u3"), (3, "")]
)
def test_min_sequence_length(n: int, users_left: str) -> None:
    out, stats = min_sequence_length(_frame(CHAIN), n)
    assert sorted(set(out["user_id"].to_list())) == users_left.split()
    assert stats.rows_before == 7 and stats.detail == f"n={n}"


def test_clean_runs_configured_steps_in_order() -> None:
    frame = _frame([*CHAIN, ("u5", "i9")])
    frame = pl.concat([frame, frame.head(1)])  # an exact duplicate of the first row
    out, stats = clean(frame, CleaningConfig(user_k=2, item_k=2, min_sequence_length=3))
    assert [s.step for s in stats] == ["drop_duplicates", "k_core", "min_sequence_length"]
    assert [s.rows_after for s in stats] == [8, 4, 0]
    assert out.height == 0
    out, stats = clean(frame, CleaningConfig(drop_duplicates=False))
    assert stats == [] and out.height == 9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"user_k": -1}, "user_k must be >= 0, got -1"),
        ({"item_k": -2}, "item_k must be >= 0, got -2"),
        ({"min_sequence_length": -3}, "min_sequence_length must be >= 0, got -3"),
        ({"max_k_core_rounds": 0}, "max_k_core_rounds must be >= 1, got 0"),
    ],
)
def test_cleaning_config_rejects_invalid_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        CleaningConfig(**kwargs)
