"""AdamW with a warm-up ramp and a decay, as pure step -> factor functions that tests can tabulate.

Transformers trained from scratch with Adam diverge or stall without a warm-up when the learning
rate is high; decoupled weight decay (AdamW) is kept off biases and LayerNorm gains, where it only
hurts.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

__all__ = ["build_optimizer", "build_scheduler", "lr_factor"]


def lr_factor(step: int, total_steps: int, warmup_steps: int, decay: str) -> float:
    """Multiplier of the base learning rate before optimiser step ``step`` (0-based).

    Warm-up rises linearly to 1 over ``warmup_steps`` steps (the first step uses 1/warmup_steps, never
    0, so no step is wasted); then ``linear`` falls to 0 at ``total_steps``, ``cosine`` follows half a
    cosine to 0, and ``constant`` stays at 1.
    """
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    if decay == "constant":
        return 1.0
    span = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0) / span, 1.0)
    if decay == "linear":
        return 1.0 - progress
    if decay == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(f"decay must be one of linear, cosine, constant, got {decay!r}")


def build_optimizer(module: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices (ndim >= 2: linear weights, embeddings) only."""
    decayed = [p for p in module.parameters() if p.requires_grad and p.ndim >= 2]
    plain = [p for p in module.parameters() if p.requires_grad and p.ndim < 2]
    groups = [
        {"params": decayed, "weight_decay": weight_decay},
        {"params": plain, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr)


def build_scheduler(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int, decay: str
) -> LambdaLR:
    lr_factor(0, total_steps, warmup_steps, decay)  # fail now on a bad decay name, not at the first step
    return LambdaLR(optimizer, lambda step: lr_factor(step, total_steps, warmup_steps, decay))
