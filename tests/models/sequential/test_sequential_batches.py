"""Batches built with numpy match a plain per-sequence construction, and carry what each objective needs."""

from __future__ import annotations

import numpy as np
import pytest

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models.sequential.batches import (
    BatchLayout,
    NegativeSampler,
    TrainingExamples,
    history_batch,
    ranges,
    time_bucket_ids,
)

S = 1_000_000


def make_log(
    sequences: list[list[int]], gaps_s: list[list[int]] | None = None, n_items: int = 20
) -> InteractionLog:
    users = np.concatenate([np.full(len(s), u + 1) for u, s in enumerate(sequences)]).astype(np.int64)
    items = np.concatenate([np.asarray(s) for s in sequences]).astype(np.int64)
    if gaps_s is None:
        gaps_s = [[1] * len(s) for s in sequences]
    ts = np.concatenate([np.cumsum(g) * S for g in gaps_s]).astype(np.int64)
    events = (items % 3).astype(np.int8)
    return InteractionLog(users, items, ts, events, np.zeros(len(items), np.float32), len(sequences), n_items)


def test_ranges_concatenates_aranges() -> None:
    got = ranges(np.array([5, 0, 9]), np.array([2, 0, 3]))
    assert got.tolist() == [5, 6, 9, 10, 11]
    assert ranges(np.array([], np.int64), np.array([], np.int64)).shape == (0,)


def test_time_buckets_are_log2_of_the_gap_and_zero_at_each_start() -> None:
    ts = np.array([0, 1, 4, 1004, 0, 3600], dtype=np.int64) * S
    offsets = np.array([0, 4, 6])
    # gaps 1 s -> 1 + floor(log2 2) = 2; 3 s -> 1 + 2 = 3; 1000 s -> 1 + 9 = 10; capped at 7 below
    assert time_bucket_ids(ts, offsets, 64).tolist() == [0, 2, 3, 10, 0, 12]
    assert time_bucket_ids(ts, offsets, 8).tolist() == [0, 2, 3, 7, 0, 7]


def test_causal_examples_shift_targets_and_right_align() -> None:
    log = make_log([[1, 2, 3, 4, 5, 6, 7], [8, 9], [10]])
    layout = BatchLayout(max_len=4, n_items=20)
    examples = TrainingExamples(log, layout, objective="causal")
    assert len(examples) == 2  # the one-event user has nothing to predict
    batch = examples.collate(np.array([0, 1]), np.random.default_rng(0))
    assert batch.items.tolist() == [[3, 4, 5, 6], [0, 0, 0, 8]]
    assert batch.targets is not None
    assert batch.targets.tolist() == [[4, 5, 6, 7], [0, 0, 0, 9]]
    assert batch.time_buckets is None and batch.behaviours is None and batch.negatives is None


def test_sliding_windows_predict_every_event_once() -> None:
    seq = list(range(1, 12))  # 11 events: 10 targets
    log = make_log([seq])
    examples = TrainingExamples(log, BatchLayout(4, 20), objective="causal", sliding_window=True)
    batch = examples.collate(np.arange(len(examples)), np.random.default_rng(0))
    assert batch.targets is not None
    targets = batch.targets[batch.targets > 0].tolist()
    assert sorted(targets) == list(range(2, 12))
    for row_items, row_targets in zip(batch.items.tolist(), batch.targets.tolist(), strict=True):
        for i, t in zip(row_items, row_targets, strict=True):
            assert (i == 0 and t == 0) or t == i + 1


def test_masked_examples_mask_at_least_one_position_and_blank_its_features() -> None:
    log = make_log([[1, 2, 3, 4, 5], [6, 7]], gaps_s=[[1, 2, 3, 4, 5], [9, 9]])
    layout = BatchLayout(max_len=6, n_items=20, time_buckets=16, behaviours=True)
    examples = TrainingExamples(log, layout, objective="masked", mask_prob=0.01)
    batch = examples.collate(np.array([0, 1]), np.random.default_rng(1))
    assert batch.targets is not None and batch.time_buckets is not None and batch.behaviours is not None
    masked = batch.items == layout.mask_id
    assert masked.any(dim=1).all()
    assert (batch.targets[masked] > 0).all() and (batch.targets[~masked] == 0).all()
    assert (batch.time_buckets[masked] == 0).all() and (batch.behaviours[masked] == 0).all()
    # unmasked positions keep their item and features
    assert batch.items[0, 1:5].tolist() == [1, 2, 3, 4] or masked[0, 1:5].any()
    assert batch.behaviours[1, 4].item() == 6 % 3 + 1


def test_masking_rate_is_about_mask_prob() -> None:
    log = make_log([list(range(1, 21))] * 200, n_items=20)
    examples = TrainingExamples(log, BatchLayout(20, 20), objective="masked", mask_prob=0.3)
    batch = examples.collate(np.arange(200), np.random.default_rng(0))
    rate = (batch.items == 21).float().mean().item()
    assert rate == pytest.approx(0.3, abs=0.03)


def test_negatives_shapes_per_loss() -> None:
    log = make_log([[1, 2, 3], [4, 5, 6]])
    sampler = NegativeSampler(log.item_popularity(), "uniform")
    layout = BatchLayout(4, 20)
    sampled = TrainingExamples(
        log, layout, objective="causal", loss="sampled", n_negatives=7, sampler=sampler
    )
    bce = TrainingExamples(log, layout, objective="causal", loss="bce", sampler=sampler)
    rng = np.random.default_rng(0)
    neg = sampled.collate(np.array([0, 1]), rng).negatives
    assert neg is not None and neg.shape == (7,)
    neg = bce.collate(np.array([0, 1]), rng).negatives
    assert neg is not None and neg.shape == (2, 4)
    with pytest.raises(ValueError, match="needs a NegativeSampler"):
        TrainingExamples(log, layout, objective="causal", loss="bce")


def test_sampler_follows_add_one_popularity_and_never_draws_padding() -> None:
    counts = np.array([0, 9, 0, 4])
    sampler = NegativeSampler(counts, "popularity")
    draws = sampler.draw(np.random.default_rng(0), 40_000)
    assert draws.min() >= 1 and draws.max() <= 3
    share = np.bincount(draws, minlength=4)[1:] / draws.size
    np.testing.assert_allclose(share, [10 / 16, 1 / 16, 5 / 16], atol=0.01)
    np.testing.assert_allclose(np.exp(sampler.log_q[1:]), [10 / 16, 1 / 16, 5 / 16], rtol=1e-6)


def test_history_batch_matches_last_and_appends_mask() -> None:
    hist = Histories.from_lists([[1, 2, 3, 4, 5], [7], []])
    layout = BatchLayout(max_len=4, n_items=20)
    items, _ = hist.last(4)
    assert history_batch(hist, layout, append_mask=False).items.numpy().tolist() == items.tolist()
    with_mask = history_batch(hist, layout, append_mask=True).items.tolist()
    assert with_mask == [[3, 4, 5, 21], [0, 0, 7, 21], [0, 0, 0, 21]]


def test_history_features_match_training_features() -> None:
    log = make_log([[1, 2, 3, 4, 5, 6]], gaps_s=[[1, 10, 100, 1000, 5, 50]])
    layout = BatchLayout(max_len=4, n_items=20, time_buckets=32, behaviours=True)
    train = TrainingExamples(log, layout, objective="causal").collate(np.array([0]), np.random.default_rng(0))
    hist = log.histories()
    # the training window's inputs are events 2..5; a history of events 1..5 gives the same last four
    scored = history_batch(hist.take(np.array([0])), layout, append_mask=False)
    assert train.time_buckets is not None and scored.time_buckets is not None
    assert scored.time_buckets[0, :3].tolist() == train.time_buckets[0, 1:].tolist()
    assert train.behaviours is not None and scored.behaviours is not None
    assert scored.behaviours[0, :3].tolist() == train.behaviours[0, 1:].tolist()
    bare = history_batch(Histories.from_lists([[1, 2]]), layout, append_mask=False)
    assert bare.time_buckets is not None and bare.time_buckets.sum().item() == 0  # no ts: bucket 0
