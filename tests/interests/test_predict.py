"""Next-new-category prediction: runs, a leak-free temporal split, accuracy@k, Markov and Transformer."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
import torch

from driftrec.interests.predict import (
    CategoryMarkov,
    CategoryTransformer,
    accuracy_at_k,
    category_runs,
    evaluate_next_category,
    next_category_split,
)
from driftrec.models.sequential import SequentialConfig
from driftrec.training.config import TrainingConfig

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
CHAIN = ["A", "B", "C", "D", "E"]
ITEMS = pl.DataFrame(
    {
        "item_id": [f"{c}{k}" for c in CHAIN for k in range(2)],
        "category": [f"{c} > sub{k}" for c in CHAIN for k in range(2)],
    }
)


def _events(rows: list[tuple[str, str, dt.datetime]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "ts": [r[2] for r in rows],
            "event": ["view"] * len(rows),
        },
        schema_overrides={"ts": pl.Datetime("us", "UTC")},
    )


def _chain_log(n_users: int = 12, n_runs: int = 30, seed: int = 0) -> pl.DataFrame:
    """Every user walks A -> B -> C -> D -> E -> A ..., 1-3 events per run, from a random start."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        t = T0 + u * dt.timedelta(minutes=7)
        start = int(rng.integers(len(CHAIN)))
        for r in range(n_runs):
            cat = CHAIN[(start + r) % len(CHAIN)]
            for _ in range(int(rng.integers(1, 4))):
                rows.append((f"u{u}", f"{cat}{int(rng.integers(2))}", t))
                t += HOUR
    return _events(rows)


def test_category_runs_collapse_consecutive_events_of_one_category() -> None:
    events = _events(
        [
            ("u", "A0", T0),
            ("u", "A1", T0 + HOUR),  # same top-level category: same run
            ("u", "B0", T0 + 2 * HOUR),
            ("u", "A0", T0 + 3 * HOUR),
            ("v", "C0", T0),
        ]
    )
    runs = category_runs(events, ITEMS, level=0)
    assert runs.select("user_id", "run", "category", "n_events").rows() == [
        ("u", 0, "A", 2),
        ("u", 1, "B", 1),
        ("u", 2, "A", 1),
        ("v", 0, "C", 1),
    ]
    assert runs.row(0, named=True)["end"] == T0 + HOUR
    leaf = category_runs(events, ITEMS, level=1)
    assert leaf.filter(pl.col("user_id") == "u").height == 4  # A > sub0, A > sub1 differ at level 1


def test_accuracy_at_k_masks_the_current_category_and_breaks_ties_against_the_target() -> None:
    scores = np.array(
        [
            [9.0, 5.0, 4.0, 3.0],  # column 0 is padding: never ranked
            [0.0, 1.0, 1.0, 0.0],  # tie between 1 and 2: target 2 ranks second
            [0.0, 1.0, 2.0, 3.0],
        ]
    )
    current = np.array([1, 0, 3])  # row 0: category 1 masked, target 2 becomes first
    target = np.array([2, 2, 0])  # row 2: unknown target is a miss
    acc = accuracy_at_k(scores, current, target, (1, 2))
    assert acc == {"accuracy@1": pytest.approx(1 / 3), "accuracy@2": pytest.approx(2 / 3)}


def test_split_is_temporal_and_leak_free() -> None:
    events = _chain_log()
    cut = T0 + 40 * HOUR
    split = next_category_split(events, ITEMS, cut, valid_start=T0 + 30 * HOUR)
    cut_us = int(cut.timestamp() * 1e6)
    assert split.train.ts.max() < int((T0 + 30 * HOUR).timestamp() * 1e6)
    test = split.test
    assert len(test) > 0 and (test.targets.ts >= cut_us).all()
    # every history entry started before its move; histories hold no repeats of the current category
    rows = test.histories.row_index()
    assert (test.histories.ts < test.targets.ts[rows]).all()
    last, mask = test.histories.last(1)
    assert (last[mask[:, 0], 0] != test.targets.items[mask[:, 0]]).all()
    # events after the test period change nothing about the earlier cases
    later = pl.concat([events, _events([("u0", "A0", T0 + 10_000 * HOUR), ("u0", "C0", T0 + 10_001 * HOUR)])])
    again = next_category_split(later, ITEMS, cut, valid_start=T0 + 30 * HOUR)
    assert len(again.test) == len(test) + 2
    before = np.flatnonzero(again.test.targets.ts < int((T0 + 10_000 * HOUR).timestamp() * 1e6))
    kept = again.test.histories.take(before)
    assert np.array_equal(again.test.targets.items[before], test.targets.items)
    assert np.array_equal(kept.offsets, test.histories.offsets)
    assert np.array_equal(kept.items, test.histories.items)


def test_markov_predicts_a_deterministic_chain_perfectly() -> None:
    events = _chain_log()
    split = next_category_split(events, ITEMS, T0 + 40 * HOUR)
    acc = evaluate_next_category(CategoryMarkov().fit(split), split.test, (1, 5))
    assert acc == {"accuracy@1": 1.0, "accuracy@5": 1.0}


def test_transformer_learns_a_second_order_chain_that_markov_cannot() -> None:
    torch.manual_seed(0)
    # after A comes B or C depending on what preceded A: X A B ... and Y A C ...
    rows = []
    for u in range(24):
        t = T0 + u * dt.timedelta(minutes=3)
        pattern = ["D", "A", "B"] if u % 2 else ["E", "A", "C"]
        for r in range(24):
            rows.append((f"u{u}", f"{pattern[r % 3]}0", t))
            t += HOUR
    events = _events(rows)
    split = next_category_split(events, ITEMS, T0 + 16 * HOUR, valid_start=T0 + 12 * HOUR)
    cfg = SequentialConfig(
        hidden=16,
        blocks=1,
        heads=1,
        inner=32,
        max_len=8,
        dropout=0.0,
        training=TrainingConfig(
            epochs=20, batch_size=16, lr=1e-2, patience=0, monitor="HR@1", device="cpu", num_threads=1
        ),
    )
    transformer = evaluate_next_category(CategoryTransformer(cfg).fit(split), split.test, (1,))
    markov = evaluate_next_category(CategoryMarkov().fit(split), split.test, (1,))
    assert markov["accuracy@1"] < 0.9
    assert transformer["accuracy@1"] > 0.95
