"""DistributedDataParallel plumbing for runs started by ``torchrun``.

``torchrun`` sets ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK`` (and the rendezvous address) in each
process's environment; a plain ``python`` run has none of them and trains in one process. The loop
asks ``dist_info()`` once and does the rest through these helpers, so single-process training never
touches ``torch.distributed``.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from numpy.typing import NDArray
from torch import nn
from torch.nn.parallel import DistributedDataParallel

__all__ = [
    "DistInfo",
    "all_reduce_sum",
    "broadcast_values",
    "dist_info",
    "is_main_process",
    "process_group",
    "shard_indices",
    "wrap_module",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: ``world_size`` 1 means no distribution at all."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def dist_info() -> DistInfo:
    """Read torchrun's environment variables (absent -> one process)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"inconsistent torchrun environment: RANK={rank}, WORLD_SIZE={world}")
    return DistInfo(rank, world, local)


def is_main_process() -> bool:
    """True in a single-process run and on rank 0 of a distributed one: the process that saves and logs."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return dist_info().is_main


@contextmanager
def process_group(info: DistInfo, device: torch.device) -> Iterator[None]:
    """Initialise the process group for the block (gloo on CPU, nccl on CUDA) unless one exists.

    A group this function created is destroyed on the way out, so ``fit`` leaves no global state;
    a group the caller created (to save after ``fit``, say) is left alone.
    """
    if not info.enabled or dist.is_initialized():
        yield
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
    log.debug("rank %d/%d joined a %s process group", info.rank, info.world_size, backend)
    try:
        yield
    finally:
        dist.destroy_process_group()


def wrap_module(module: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """DDP around ``module`` when distributed; the module itself otherwise.

    Buffers (the frozen text matrix, the category table) never change, so they are synchronised once
    at construction, not re-broadcast before every forward pass.
    """
    if not info.enabled:
        return module
    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids, forward_sync_buffers=False)


def shard_indices(n: int, order: NDArray[np.int64], info: DistInfo) -> NDArray[np.int64]:
    """This rank's share of an epoch's example order, padded so that every rank gets as many.

    Like torch's DistributedSampler: the order is the same permutation on every rank, padded by
    wrapping around to a multiple of the world size, and rank r takes every world_size-th entry from r.
    Equal shares matter: a rank with one batch more would wait forever for the others' gradients.
    """
    if not info.enabled:
        return order
    per_rank = math.ceil(n / info.world_size)
    padded = np.resize(order, per_rank * info.world_size)  # np.resize repeats from the start
    return padded[info.rank :: info.world_size]


def broadcast_values(values: list[float], info: DistInfo, device: torch.device) -> list[float]:
    """Rank 0's ``values`` on every rank (early-stopping decisions, the validation metric)."""
    if not info.enabled:
        return values
    buf = torch.tensor(values, dtype=torch.float64, device=device)
    dist.broadcast(buf, src=0)
    return [float(v) for v in buf.tolist()]


def all_reduce_sum(values: list[float], info: DistInfo, device: torch.device) -> list[float]:
    """Sum ``values`` over ranks (epoch loss and example counts for the log)."""
    if not info.enabled:
        return values
    buf = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(buf)
    return [float(v) for v in buf.tolist()]
