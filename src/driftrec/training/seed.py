"""Seeds derived from (seed, epoch, rank), so a resumed run replays exactly what a whole run would do.

Nothing keeps random state across epochs: each epoch re-derives its data order, its masks and
negatives, and torch's dropout stream from the run seed and the epoch number. A run stopped after
epoch k and resumed therefore computes the same epoch k+1 as an uninterrupted run.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["data_order_rng", "epoch_rng", "seed_torch"]

_MIX = 0x9E3779B1  # odd constant so (seed, epoch, rank) triples map to distinct torch seeds


def seed_torch(seed: int, epoch: int = 0, rank: int = 0) -> None:
    """Seed torch's CPU (and CUDA) generators for one epoch of one process."""
    torch.manual_seed((seed * _MIX + epoch * 1_000_003 + rank * 7_919) % (2**63 - 1))


def data_order_rng(seed: int, epoch: int) -> np.random.Generator:
    """The generator of an epoch's example order; the same on every rank, so shards never overlap."""
    return np.random.default_rng([seed, epoch, 0])


def epoch_rng(seed: int, epoch: int, rank: int) -> np.random.Generator:
    """The generator ``collate`` draws masks and negatives from, distinct per rank."""
    return np.random.default_rng([seed, epoch, 1, rank])
