"""What a training run reports: one record per epoch and the early-stopping outcome."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["EpochRecord", "TrainingHistory"]


@dataclass(frozen=True)
class EpochRecord:
    """loss: mean training loss over all processes; metrics: validation metrics (empty when not
    evaluated this epoch); seconds: the whole epoch with validation; sequences_per_s: training
    examples per second of training time, summed over processes.
    """

    epoch: int
    loss: float
    metrics: dict[str, float]
    seconds: float
    train_seconds: float
    sequences_per_s: float
    lr: float

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> EpochRecord:
        return cls(**{**raw, "metrics": dict(raw.get("metrics", {}))})


@dataclass
class TrainingHistory:
    """best_epoch is 0 when nothing was validated (the last weights are kept)."""

    monitor: str
    epochs: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0
    best_metric: float | None = None
    stopped_early: bool = False
    resumed_from_epoch: int = 0
    world_size: int = 1

    @property
    def losses(self) -> list[float]:
        return [r.loss for r in self.epochs]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainingHistory:
        values = dict(raw)
        values["epochs"] = [EpochRecord.from_dict(r) for r in values.get("epochs", [])]
        return cls(**values)
