"""Device and CPU-thread choices made at run time, so one config runs on a laptop and on a GPU box."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch

__all__ = ["move_batch", "resolve_device", "torch_threads"]


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> ``cuda:<local_rank>`` when CUDA is present, else CPU; ``cuda`` -> the rank's GPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' was asked for but torch sees no CUDA device")
        return torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
    return torch.device(name)


@contextmanager
def torch_threads(num_threads: int) -> Iterator[None]:
    """Run a block with ``num_threads`` torch CPU threads (0 = leave as is), then restore the old value."""
    if num_threads <= 0:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def move_batch(batch: Any, device: torch.device) -> Any:
    """A NamedTuple (or mapping) of tensors and Nones with every tensor on ``device``.

    Batches are built on the CPU by ``collate``; moving them is the loop's job, never ``forward``'s.
    """
    non_blocking = device.type == "cuda"
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=non_blocking)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(move_batch(v, device) for v in batch))
    if isinstance(batch, Mapping):
        return {k: move_batch(v, device) for k, v in batch.items()}
    return batch
