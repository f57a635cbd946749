"""Typed batches, built with numpy from flat arrays: no Python loop per example.

Training examples are windows ``[start, stop)`` into an ``InteractionLog``'s flat (user, time)-sorted
arrays; ``collate`` gathers a batch of windows into right-aligned (B, L) matrices (0-padded on the
left, as ``Histories.last`` gives), draws masks and negatives from the generator it is handed, and
converts to tensors. Scoring builds the same batch from ``Histories``. ``forward`` only ever sees
tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.data.schema import EVENT_TYPES

__all__ = [
    "N_BEHAVIOURS",
    "BatchLayout",
    "NegativeSampler",
    "SequenceBatch",
    "TrainingExamples",
    "history_batch",
    "ranges",
    "time_bucket_ids",
]

#: Behaviour embedding rows: 0 = padding / unknown, code + 1 for each event type.
N_BEHAVIOURS = len(EVENT_TYPES) + 1
_US_PER_S = 1_000_000


class SequenceBatch(NamedTuple):
    """One batch of right-aligned sequences; B = batch, L = max_len."""

    items: Tensor  # (B, L) int64 input item ids; 0 = padding, n_items + 1 = [MASK]
    targets: Tensor | None  # (B, L) int64 item to predict at each position, 0 = none; None when scoring
    time_buckets: Tensor | None  # (B, L) int64 log2 gap bucket; 0 = padding, first event or unknown
    behaviours: Tensor | None  # (B, L) int64 event code + 1; 0 = padding or unknown
    negatives: Tensor | None  # (N,) int64 shared negatives ("sampled"), (B, L) one per position ("bce")


@dataclass(frozen=True)
class BatchLayout:
    """What a batch carries: the window length, where [MASK] sits, which optional features are on."""

    max_len: int
    n_items: int
    time_buckets: int = 0  # 0 = no time-interval feature
    behaviours: bool = False

    @property
    def mask_id(self) -> int:
        return self.n_items + 1


def ranges(starts: NDArray[np.int64], lengths: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenation of ``arange(s, s + l)`` for every (s, l), without a Python loop."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lengths), lengths)
    out: NDArray[np.int64] = np.arange(total, dtype=np.int64) + shift
    return out


def time_bucket_ids(ts: NDArray[np.int64], offsets: NDArray[np.int64], n_buckets: int) -> NDArray[np.int64]:
    """Bucket of each event's gap to the previous event of the same sequence.

    1 + floor(log2(1 + seconds)), capped at ``n_buckets - 1``: one second and one month differ by
    21 buckets, while gaps of 10 and 11 days share one. The first event of each sequence gets 0.
    """
    gap_s = np.maximum(np.diff(ts, prepend=ts[:1]), 0) / _US_PER_S
    buckets = 1 + np.minimum(np.floor(np.log2(1.0 + gap_s)), n_buckets - 2).astype(np.int64)
    starts = offsets[:-1][np.diff(offsets) > 0]
    buckets[starts] = 0
    return buckets


class NegativeSampler:
    """Draws item ids 1..n_items from popularity (add-one smoothed, so every item can be drawn) or
    uniformly; ``log_q`` is the log-probability each item is drawn with, for the logQ correction.
    """

    def __init__(self, counts: NDArray[np.int64], kind: str) -> None:
        weights = np.ones(counts.shape[0], dtype=np.float64)
        if kind == "popularity":
            weights += counts
        weights[0] = 0.0
        q = weights / weights.sum()
        self._cdf = np.cumsum(q)
        self._cdf[-1] = 1.0
        with np.errstate(divide="ignore"):
            self.log_q: NDArray[np.float32] = np.log(q).astype(np.float32)
        self.log_q[0] = 0.0

    def draw(self, rng: np.random.Generator, shape: int | tuple[int, ...]) -> NDArray[np.int64]:
        ids = np.searchsorted(self._cdf, rng.random(shape), side="right")
        return np.clip(ids, 1, self._cdf.shape[0] - 1).astype(np.int64)


class TrainingExamples:
    """Windows of the training log, and ``collate`` turning a batch of them into a ``SequenceBatch``.

    Causal: each window of up to max_len + 1 events gives inputs ``w[:-1]`` and targets ``w[1:]``.
    Masked: each window of up to max_len events is masked at random (mask_prob per position, at least
    one) and the masked positions are the targets; their time and behaviour features are blanked as
    they are for the [MASK] appended at inference. Without ``sliding_window`` a user contributes their
    most recent window; with it, earlier windows too, tiled so each event is a target once.
    """

    def __init__(
        self,
        log: InteractionLog,
        layout: BatchLayout,
        *,
        objective: str,
        mask_prob: float = 0.2,
        sliding_window: bool = False,
        loss: str = "full",
        n_negatives: int = 0,
        sampler: NegativeSampler | None = None,
    ) -> None:
        self.layout = layout
        self.objective = objective
        self.mask_prob = mask_prob
        self.loss = loss
        self.n_negatives = n_negatives
        self.sampler = sampler
        if loss != "full" and sampler is None:
            raise ValueError(f"loss {loss!r} needs a NegativeSampler")
        self.item = log.item
        offsets = log.user_offsets()[1:]
        self.time = time_bucket_ids(log.ts, offsets, layout.time_buckets) if layout.time_buckets else None
        self.event = log.event.astype(np.int64) + 1 if layout.behaviours else None
        self.starts, self.stops = self._windows(offsets, sliding_window)

    def _windows(
        self, offsets: NDArray[np.int64], sliding: bool
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        causal = self.objective == "causal"
        window = self.layout.max_len + 1 if causal else self.layout.max_len
        stride = (
            window - 1 if causal else window
        )  # causal windows share one event: input of one, target of the next
        begin, end = offsets[:-1], offsets[1:]
        lengths = end - begin
        keep = lengths >= 2
        begin, end, lengths = begin[keep], end[keep], lengths[keep]
        if sliding:
            count = np.maximum(-(-(lengths - (window - stride)) // stride), 1)
        else:
            count = np.ones_like(lengths)
        owner = np.repeat(np.arange(lengths.shape[0]), count)
        back = ranges(np.zeros_like(count), count)  # 0 for the latest window, 1 for the one before...
        stops = end[owner] - back * stride
        starts = np.maximum(begin[owner], stops - window)
        ok = stops - starts >= 2
        return starts[ok].astype(np.int64), stops[ok].astype(np.int64)

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def collate(self, indices: NDArray[np.int64], rng: np.random.Generator) -> SequenceBatch:
        starts, stops = self.starts[indices], self.stops[indices]
        size, width = indices.shape[0], self.layout.max_len
        causal = self.objective == "causal"
        n_in = stops - starts - (1 if causal else 0)
        rows = np.repeat(np.arange(size), n_in)
        cols = ranges(width - n_in, n_in)
        src = ranges(starts, n_in)
        items = np.zeros((size, width), dtype=np.int64)
        items[rows, cols] = self.item[src]
        time = behaviour = None
        if self.time is not None:
            time = np.zeros((size, width), dtype=np.int64)
            time[rows, cols] = self.time[src]
        if self.event is not None:
            behaviour = np.zeros((size, width), dtype=np.int64)
            behaviour[rows, cols] = self.event[src]
        if causal:
            targets = np.zeros((size, width), dtype=np.int64)
            targets[rows, cols] = self.item[src + 1]
        else:
            masked = (rng.random((size, width)) < self.mask_prob) & (items > 0)
            masked[~masked.any(axis=1), width - 1] = True  # the last position always holds an item
            targets = np.where(masked, items, 0)
            items = np.where(masked, self.layout.mask_id, items)
            for feature in (time, behaviour):
                if feature is not None:
                    feature[masked] = 0
        negatives = None
        if self.sampler is not None and self.loss == "sampled":
            negatives = self.sampler.draw(rng, self.n_negatives)
        elif self.sampler is not None and self.loss == "bce":
            negatives = self.sampler.draw(rng, (size, width))
        return SequenceBatch(
            torch.from_numpy(items),
            torch.from_numpy(targets),
            None if time is None else torch.from_numpy(time),
            None if behaviour is None else torch.from_numpy(behaviour),
            None if negatives is None else torch.from_numpy(negatives),
        )


def history_batch(histories: Histories, layout: BatchLayout, append_mask: bool) -> SequenceBatch:
    """The scoring batch: each history's last events right-aligned, then [MASK] if ``append_mask``.

    The output at the last position predicts the next item. Histories without ``ts`` or ``event``
    get the "unknown" feature bucket 0.
    """
    width = layout.max_len
    keep = width - 1 if append_mask else width
    lengths = np.minimum(histories.lengths(), keep)
    src = ranges(histories.offsets[1:] - lengths, lengths)
    rows = np.repeat(np.arange(len(histories)), lengths)
    cols = ranges(keep - lengths, lengths)
    items = np.zeros((len(histories), width), dtype=np.int64)
    items[rows, cols] = histories.items[src]
    if append_mask:
        items[:, -1] = layout.mask_id
    time = behaviour = None
    if layout.time_buckets:
        time = np.zeros_like(items)
        if histories.ts is not None:
            time[rows, cols] = time_bucket_ids(histories.ts, histories.offsets, layout.time_buckets)[src]
    if layout.behaviours:
        behaviour = np.zeros_like(items)
        if histories.event is not None:
            behaviour[rows, cols] = histories.event[src].astype(np.int64) + 1
    return SequenceBatch(
        torch.from_numpy(items),
        None,
        None if time is None else torch.from_numpy(time),
        None if behaviour is None else torch.from_numpy(behaviour),
        None,
    )
