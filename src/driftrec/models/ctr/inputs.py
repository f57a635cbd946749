"""Turning impressions into model inputs: point-in-time features, sequences, contexts, then batches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import torch
from numpy.typing import NDArray

from driftrec.data.interactions import InteractionLog
from driftrec.features.behaviour import BehaviourFeatureConfig, behaviour_features, event_frame, query_frame
from driftrec.features.sequence import sequences_before
from driftrec.models.ctr.network import CTRBatch

__all__ = ["CTRInputs", "Examples", "build_inputs"]


@dataclass(frozen=True)
class CTRInputs:
    """Row-aligned arrays for N impressions; ``dense`` is raw (the ranker standardises it)."""

    user: NDArray[np.int64]
    target: NDArray[np.int64]
    seq: NDArray[np.int64]
    seq_event: NDArray[np.int64]
    lengths: NDArray[np.int64]
    dense: NDArray[np.float32]
    context: NDArray[np.int64]
    label: NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.target.shape[0])


def sequence_stats(
    seq: NDArray[np.int64], target: NDArray[np.int64], category: NDArray[np.int64]
) -> pl.DataFrame:
    """Short-term features of the sequence: share of its events in the target's category, whether the
    target itself is in it, and how many distinct categories it spans (log1p)."""
    mask = seq > 0
    n = np.maximum(mask.sum(1), 1)
    seq_cat = np.where(mask, category[seq], -1)
    same = (seq_cat == category[target][:, None]) & mask & (category[target][:, None] > 0)
    has_target = ((seq == target[:, None]) & mask).any(1)
    sorted_cats = np.sort(np.where(mask, seq_cat, -1), axis=1)
    distinct = ((np.diff(sorted_cats, axis=1) != 0) & (sorted_cats[:, 1:] >= 0)).sum(1) + (
        sorted_cats[:, 0] >= 0
    )
    return pl.DataFrame(
        {
            "s_same_category": same.sum(1) / n,
            "s_has_target": has_target.astype(np.float64),
            "s_categories": np.log1p(distinct.astype(np.float64)),
            "s_length": np.log1p(mask.sum(1).astype(np.float64)),
        }
    )


def build_inputs(
    log: InteractionLog,
    impressions: pl.DataFrame,
    *,
    item_category: NDArray[np.int64],
    item_price_level: NDArray[np.float32],
    max_len: int,
    feature_config: BehaviourFeatureConfig,
    context_columns: tuple[str, ...] = (),
    numeric_columns: tuple[str, ...] = (),
    dense_names: tuple[str, ...] | None = None,
) -> tuple[CTRInputs, tuple[str, ...]]:
    """Features of every impression from ``log`` events strictly before it; returns inputs and the dense
    feature names (restricted to ``dense_names`` when given, in that order)."""
    user = impressions.get_column("user").to_numpy().astype(np.int64)
    item = impressions.get_column("item").to_numpy().astype(np.int64)
    ts = impressions.get_column("ts").to_numpy().astype(np.int64)
    events = event_frame(log, item_category)
    queries = query_frame(user, item, ts, item_category)
    dense = behaviour_features(events, queries, feature_config, item_price_level)
    seqs = sequences_before(log, user, ts, max_len)
    dense = pl.concat([dense, sequence_stats(seqs.items, item, item_category)], how="horizontal")
    if numeric_columns:
        dense = pl.concat([dense, impressions.select(numeric_columns).cast(pl.Float32)], how="horizontal")
    names = tuple(dense.columns) if dense_names is None else dense_names
    missing = [n for n in names if n not in dense.columns]
    if missing:
        raise ValueError(f"features {missing} are not computed here; known: {dense.columns}")
    context = (
        impressions.select(context_columns).to_numpy().astype(np.int64)
        if context_columns
        else np.zeros((len(user), 0), dtype=np.int64)
    )
    label = (
        impressions.get_column("label").to_numpy().astype(np.float32)
        if "label" in impressions.columns
        else np.zeros(len(user), dtype=np.float32)
    )
    inputs = CTRInputs(
        user=user,
        target=item,
        seq=seqs.items,
        seq_event=seqs.events,
        lengths=seqs.lengths,
        dense=dense.select(names).to_numpy().astype(np.float32),
        context=context,
        label=label,
    )
    return inputs, names


class Examples:
    """``TrainData`` for the training loop: index rows of ``CTRInputs`` into standardised batches."""

    def __init__(
        self,
        inputs: CTRInputs,
        mean: NDArray[np.float32],
        std: NDArray[np.float32],
        n_items: int,
        n_users_embedded: int,
        aux: bool,
    ) -> None:
        self.inputs = inputs
        self.mean, self.std = mean, std
        self.n_items = n_items
        self.n_users_embedded = n_users_embedded
        self.aux = aux

    def __len__(self) -> int:
        return len(self.inputs)

    def collate(self, indices: NDArray[np.int64], rng: np.random.Generator) -> CTRBatch:
        x = self.inputs
        seq = x.seq[indices]
        negatives = (
            rng.integers(1, self.n_items + 1, seq.shape) * (seq > 0)
            if self.aux
            else np.zeros((len(indices), 0), dtype=np.int64)
        )
        user = x.user[indices]
        user = np.where((user >= 1) & (user <= self.n_users_embedded), user, 0)
        return CTRBatch(
            target=torch.from_numpy(x.target[indices]),
            seq=torch.from_numpy(seq),
            seq_event=torch.from_numpy(x.seq_event[indices]),
            lengths=torch.from_numpy(x.lengths[indices]),
            dense=torch.from_numpy((x.dense[indices] - self.mean) / self.std),
            context=torch.from_numpy(x.context[indices]),
            user=torch.from_numpy(user.astype(np.int64)),
            label=torch.from_numpy(x.label[indices]),
            negatives=torch.from_numpy(negatives.astype(np.int64)),
        )
