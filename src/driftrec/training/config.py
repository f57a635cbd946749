"""How to train, kept apart from what to train: the loop reads only this section.

A model config holds one of these as its ``training`` field, so a saved model records how it was
trained, but no model code reads optimiser settings and the loop reads no model settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DECAYS", "PRECISIONS", "TrainingConfig"]

#: Learning-rate shapes after warm-up.
DECAYS = ("linear", "cosine", "constant")
#: Numeric precision of the training forward pass.
PRECISIONS = ("fp32", "bf16")


def _is_int(value: object, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _is_real(value: object, low: float, high: float = math.inf, low_open: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    v = float(value)
    return math.isfinite(v) and (v > low if low_open else v >= low) and v <= high


@dataclass(frozen=True)
class TrainingConfig:
    """epochs: the most epochs to run; batch_size: sequences per optimiser step, over all processes;
    lr, weight_decay: AdamW (decay only on matrices, never on biases or norms);
    warmup: share of all steps with a linear ramp from 0 to ``lr``; decay: shape after the ramp;
    clip_norm: gradient-norm clip (0 = off); patience: evaluations without a better ``monitor`` before
    stopping (0 = never stop early); eval_every: epochs between validations; valid_users: evaluate on a
    fixed random subset of this many validation users (0 = all), for speed on big logs;
    seed: fixes initialisation, data order, masks and negatives; device: "auto" (CUDA if present),
    "cpu", "cuda", "cuda:1"...; num_threads: torch CPU threads (0 = torch's default);
    precision: "fp32", or "bf16" to run the training forward pass under bfloat16 autocast (matmuls in
    bf16, losses and weights in fp32) -- about 2x faster full-softmax steps on CPUs with AVX512-BF16/AMX
    and on recent GPUs; validation and inference stay fp32.
    """

    epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup: float = 0.0
    decay: str = "linear"
    clip_norm: float = 1.0
    patience: int = 5
    monitor: str = "NDCG@10"
    eval_every: int = 1
    valid_users: int = 0
    seed: int = 0
    device: str = "auto"
    num_threads: int = 0
    precision: str = "fp32"

    def __post_init__(self) -> None:
        checks = (
            ("epochs", _is_int(self.epochs, 1), "an integer >= 1"),
            ("batch_size", _is_int(self.batch_size, 1), "an integer >= 1"),
            ("lr", _is_real(self.lr, 0.0, low_open=True), "a number > 0"),
            ("weight_decay", _is_real(self.weight_decay, 0.0), "a number >= 0"),
            ("warmup", _is_real(self.warmup, 0.0, 1.0, low_open=False) and self.warmup < 1, "in [0, 1)"),
            ("decay", self.decay in DECAYS, f"one of {', '.join(DECAYS)}"),
            ("clip_norm", _is_real(self.clip_norm, 0.0), "a number >= 0 (0 = off)"),
            ("patience", _is_int(self.patience, 0), "an integer >= 0 (0 = never stop early)"),
            (
                "monitor",
                isinstance(self.monitor, str) and "@" in self.monitor,
                "a metric name like 'NDCG@10'",
            ),
            ("eval_every", _is_int(self.eval_every, 1), "an integer >= 1"),
            ("valid_users", _is_int(self.valid_users, 0), "an integer >= 0 (0 = all)"),
            ("seed", _is_int(self.seed, 0), "an integer >= 0"),
            ("device", _valid_device(self.device), "'auto', 'cpu', 'cuda' or 'cuda:<index>'"),
            ("num_threads", _is_int(self.num_threads, 0), "an integer >= 0 (0 = torch's default)"),
            ("precision", self.precision in PRECISIONS, f"one of {', '.join(PRECISIONS)}"),
        )
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"TrainingConfig.{name} must be {allowed}, got {getattr(self, name)!r}")


def _valid_device(value: object) -> bool:
    if not isinstance(value, str):
        return False
    if value in ("auto", "cpu", "cuda", "mps"):
        return True
    kind, _, index = value.partition(":")
    return kind == "cuda" and index.isdigit()
