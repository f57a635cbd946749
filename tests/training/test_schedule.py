"""Warm-up and decay shapes, worked out by hand, and weight decay kept off biases and norms."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from driftrec.training.schedule import build_optimizer, build_scheduler, lr_factor

TABLE = [
    # step, total, warmup, decay, factor
    (0, 10, 0, "linear", 1.0),
    (5, 10, 0, "linear", 0.5),
    (10, 10, 0, "linear", 0.0),
    (0, 10, 4, "linear", 0.25),
    (3, 10, 4, "linear", 1.0),
    (4, 10, 4, "linear", 1.0),
    (7, 10, 4, "linear", 0.5),
    (4, 10, 4, "cosine", 1.0),
    (7, 10, 4, "cosine", 0.5),
    (10, 10, 4, "cosine", 0.0),
    (1, 10, 2, "constant", 1.0),
    (0, 10, 2, "constant", 0.5),
    (9, 10, 2, "constant", 1.0),
]


@pytest.mark.parametrize(("step", "total", "warmup", "decay", "factor"), TABLE)
def test_lr_factor(step: int, total: int, warmup: int, decay: str, factor: float) -> None:
    assert lr_factor(step, total, warmup, decay) == pytest.approx(factor)


def test_unknown_decay_is_refused_when_the_scheduler_is_built() -> None:
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="decay must be one of linear, cosine, constant, got 'step'"):
        build_scheduler(opt, 10, 0, "step")


def test_scheduler_follows_the_factor() -> None:
    param = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=2.0)
    sched = build_scheduler(opt, total_steps=4, warmup_steps=2, decay="linear")
    seen = []
    for _ in range(4):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == pytest.approx([1.0, 2.0, 2.0, 1.0])


def test_weight_decay_only_on_matrices() -> None:
    module = nn.Sequential(nn.Embedding(5, 3), nn.Linear(3, 2), nn.LayerNorm(2))
    opt = build_optimizer(module, lr=0.1, weight_decay=0.5)
    decayed, plain = opt.param_groups
    assert decayed["weight_decay"] == 0.5 and plain["weight_decay"] == 0.0
    assert all(p.ndim >= 2 for p in decayed["params"]) and len(decayed["params"]) == 2
    assert all(p.ndim == 1 for p in plain["params"]) and len(plain["params"]) == 3
