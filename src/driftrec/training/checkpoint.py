"""Checkpoints that let a stopped run resume where it left off.

A checkpoint directory holds

- ``weights.safetensors``: the module's state after the last finished epoch;
- ``best.safetensors``: the state with the best validation metric so far (restored at the end);
- ``trainer.json``: the last finished epoch, early-stopping counters, the history so far, the config;
- ``optimizer.pt``: AdamW moments and the scheduler position (``torch.save``; loaded weights-only).

Each file is written to a temporary name and renamed, so a run killed mid-write leaves the previous
checkpoint intact rather than a torn one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

__all__ = ["Checkpoint", "has_checkpoint", "load_checkpoint", "save_checkpoint", "state_copy"]

WEIGHTS = "weights.safetensors"
BEST = "best.safetensors"
TRAINER = "trainer.json"
OPTIMIZER = "optimizer.pt"

State = dict[str, torch.Tensor]


def state_copy(module: nn.Module) -> State:
    """A detached CPU copy of a module's state (parameters and persistent buffers)."""
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in module.state_dict().items()}


@dataclass(frozen=True)
class Checkpoint:
    """What ``load_checkpoint`` hands back besides the state it loads into module and optimiser."""

    trainer: dict[str, Any]
    best_state: State | None


def has_checkpoint(directory: str | Path) -> bool:
    path = Path(directory)
    return all((path / name).is_file() for name in (WEIGHTS, TRAINER, OPTIMIZER))


def _replace(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)


def save_checkpoint(
    directory: str | Path,
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    trainer: dict[str, Any],
    best_state: State | None,
) -> None:
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    save_file(state_copy(module), str(path / f"{WEIGHTS}.tmp"))
    _replace(path / f"{WEIGHTS}.tmp", path / WEIGHTS)
    if best_state is not None:
        save_file(best_state, str(path / f"{BEST}.tmp"))
        _replace(path / f"{BEST}.tmp", path / BEST)
    torch.save(
        {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, path / f"{OPTIMIZER}.tmp"
    )
    _replace(path / f"{OPTIMIZER}.tmp", path / OPTIMIZER)
    # the JSON goes last: its epoch number vouches for the files written before it
    (path / f"{TRAINER}.tmp").write_text(json.dumps(trainer, indent=2, sort_keys=True) + "\n")
    _replace(path / f"{TRAINER}.tmp", path / TRAINER)


def load_checkpoint(
    directory: str | Path,
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
) -> Checkpoint:
    """Load module, optimiser and scheduler state in place; return the trainer record and best state."""
    path = Path(directory)
    if not has_checkpoint(path):
        raise FileNotFoundError(f"no complete checkpoint in {path} (need {WEIGHTS}, {TRAINER}, {OPTIMIZER})")
    device = next(module.parameters()).device
    module.load_state_dict(load_file(str(path / WEIGHTS), device=str(device)))
    saved = torch.load(path / OPTIMIZER, map_location=device, weights_only=True)
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    trainer: dict[str, Any] = json.loads((path / TRAINER).read_text())
    best = load_file(str(path / BEST)) if (path / BEST).is_file() else None
    return Checkpoint(trainer, best)
