"""Training for torch models: the loop, schedules, checkpoints, seeds, devices and DDP.

Generic over the model: anything whose ``forward(batch)`` returns a loss, fed by data with a
``collate``. The recommenders call :func:`train` from their ``fit``.
"""

from __future__ import annotations

from driftrec.training.config import TrainingConfig
from driftrec.training.distributed import is_main_process
from driftrec.training.history import EpochRecord, TrainingHistory
from driftrec.training.loop import TrainData, train

__all__ = ["EpochRecord", "TrainData", "TrainingConfig", "TrainingHistory", "is_main_process", "train"]
