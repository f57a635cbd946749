"""The training loop: AdamW, warm-up and decay, clipping, early stopping, checkpoints, DDP.

The loop knows nothing about recommenders. It trains any ``nn.Module`` whose ``forward(batch)``
returns a scalar loss (so DDP, which hooks ``forward``, sees the whole computation), fed by a
``TrainData`` that turns example indices into a batch of tensors, and judged by an optional
``validate`` callback that returns metrics. Under ``torchrun`` it shards examples per rank,
averages gradients, evaluates and writes checkpoints on rank 0 only, and broadcasts rank 0's
early-stopping decision so every rank stops after the same epoch.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from numpy.typing import NDArray
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from torch import nn

from driftrec.progress import progress_enabled
from driftrec.training.checkpoint import State, has_checkpoint, load_checkpoint, save_checkpoint, state_copy
from driftrec.training.config import TrainingConfig
from driftrec.training.device import move_batch, resolve_device, torch_threads
from driftrec.training.distributed import (
    DistInfo,
    all_reduce_sum,
    broadcast_values,
    dist_info,
    process_group,
    shard_indices,
    wrap_module,
)
from driftrec.training.history import EpochRecord, TrainingHistory
from driftrec.training.schedule import build_optimizer, build_scheduler
from driftrec.training.seed import data_order_rng, epoch_rng, seed_torch

__all__ = ["TrainData", "train"]

log = logging.getLogger(__name__)

Validator = Callable[[], dict[str, float]]
EpochHook = Callable[[EpochRecord], bool]


class TrainData(Protocol):
    """Training examples that ``collate`` turns into a batch (a NamedTuple of CPU tensors)."""

    def __len__(self) -> int: ...

    def collate(self, indices: NDArray[np.int64], rng: np.random.Generator) -> Any: ...


def _batches(indices: NDArray[np.int64], size: int) -> list[NDArray[np.int64]]:
    return [indices[i : i + size] for i in range(0, indices.shape[0], size)]


class _Bar:
    """A Rich bar over an epoch's batches with the running loss and the last validation result.

    Does nothing when bars are off (not a terminal, DRIFTREC_PROGRESS=0, or not rank 0); each epoch's
    bar is removed when the epoch ends, since the epoch's log line says the same for good.
    """

    def __init__(self, enabled: bool) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                transient=True,
            )
            self._progress.start()

    def start(self, description: str, total: int, note: str) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task(description, total=total, loss="-", note=note)

    def advance(self, loss: float | None) -> None:
        if self._progress is None or self._task is None:
            return
        if loss is None:
            self._progress.update(self._task, advance=1)
        else:
            self._progress.update(self._task, advance=1, loss=f"{loss:.4f}")

    def finish(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _note(history: TrainingHistory) -> str:
    """The bar's reminder of how validation went: last and best monitored value."""
    evaluated = [r for r in history.epochs if history.monitor in r.metrics]
    if not evaluated or history.best_metric is None:
        return ""
    last = evaluated[-1].metrics[history.monitor]
    return f"{history.monitor} {last:.4f} (best {history.best_metric:.4f} @ {history.best_epoch})"


def train(
    module: nn.Module,
    data: TrainData,
    config: TrainingConfig,
    *,
    validate: Validator | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    on_epoch_end: EpochHook | None = None,
) -> TrainingHistory:
    """Train ``module`` in place and return its history; the best validated weights are restored.

    ``validate`` runs on rank 0 after every ``eval_every`` epochs and must return ``config.monitor``
    (higher = better). ``checkpoint_dir``: write a checkpoint after every epoch there; with
    ``resume``, continue from the checkpoint found there (a missing one starts afresh).
    ``on_epoch_end`` may return True to stop after that epoch (rank 0 decides; a time budget, say).
    The module is left on the training device, in eval mode.
    """
    if len(data) == 0:
        raise ValueError("no training examples: every sequence is too short to predict anything")
    info = dist_info()
    device = resolve_device(config.device, info.local_rank)
    with torch_threads(config.num_threads), process_group(info, device):
        return _run(module, data, config, info, device, validate, checkpoint_dir, resume, on_epoch_end)


def _run(
    module: nn.Module,
    data: TrainData,
    config: TrainingConfig,
    info: DistInfo,
    device: torch.device,
    validate: Validator | None,
    checkpoint_dir: str | Path | None,
    resume: bool,
    on_epoch_end: EpochHook | None,
) -> TrainingHistory:
    module.to(device)
    wrapped = wrap_module(module, info, device)
    n = len(data)
    per_rank_batch = max(1, math.ceil(config.batch_size / info.world_size))
    steps_per_epoch = math.ceil(math.ceil(n / info.world_size) / per_rank_batch)
    total_steps = steps_per_epoch * config.epochs
    optimizer = build_optimizer(module, config.lr, config.weight_decay)
    scheduler = build_scheduler(optimizer, total_steps, round(config.warmup * total_steps), config.decay)

    history = TrainingHistory(monitor=config.monitor, world_size=info.world_size)
    best_state: State | None = None
    bad_evals = 0
    start_epoch = 1
    if resume and checkpoint_dir is not None and has_checkpoint(checkpoint_dir):
        saved = load_checkpoint(checkpoint_dir, module, optimizer, scheduler)
        history = TrainingHistory.from_dict(saved.trainer["history"])
        history.world_size = info.world_size
        best_state, bad_evals = saved.best_state, int(saved.trainer["bad_evals"])
        start_epoch = int(saved.trainer["epoch"]) + 1
        history.resumed_from_epoch = start_epoch - 1
        if info.is_main:
            log.info("resuming from %s after epoch %d", checkpoint_dir, start_epoch - 1)
        if history.stopped_early and 0 < config.patience <= bad_evals:
            start_epoch = config.epochs + 1  # that run had already finished
        elif history.stopped_early:  # a larger patience would not have stopped there: go on
            history.stopped_early = False
            if info.is_main:
                log.info("patience %d > %d evaluations without gain: continuing", config.patience, bad_evals)

    bar = _Bar(info.is_main and progress_enabled())
    try:
        for epoch in range(start_epoch, config.epochs + 1):
            started = time.perf_counter()
            bar.start(f"Epoch {epoch}/{config.epochs}", steps_per_epoch, _note(history))
            loss = _train_epoch(wrapped, optimizer, scheduler, data, config, info, device, epoch, bar)
            bar.finish()
            train_s = time.perf_counter() - started
            loss_sum, count = all_reduce_sum([loss[0], loss[1]], info, device)
            metrics: dict[str, float] = {}
            evaluate = validate is not None and (epoch % config.eval_every == 0 or epoch == config.epochs)
            if evaluate and info.is_main and validate is not None:
                module.eval()
                metrics = validate()
                if config.monitor not in metrics:
                    raise KeyError(
                        f"validate() returned {sorted(metrics)}, not the monitored {config.monitor}"
                    )
            value = metrics.get(config.monitor, -math.inf)
            improved = evaluate and (history.best_metric is None or value > history.best_metric)
            record = EpochRecord(
                epoch=epoch,
                loss=loss_sum / max(count, 1.0),
                metrics=metrics,
                seconds=time.perf_counter() - started,
                train_seconds=train_s,
                sequences_per_s=count / max(train_s, 1e-9),
                lr=float(optimizer.param_groups[0]["lr"]),
            )
            if evaluate:
                bad_evals = 0 if improved else bad_evals + 1
            stop = evaluate and config.patience > 0 and bad_evals >= config.patience
            asked = on_epoch_end is not None and info.is_main and on_epoch_end(record)
            improved_f, stop_f, asked_f, value = broadcast_values(
                [float(improved), float(stop), float(asked), value], info, device
            )
            if improved_f:
                best_state = state_copy(module)
                history.best_epoch, history.best_metric = epoch, value
            history.epochs.append(record)
            history.stopped_early = bool(stop_f)
            if info.is_main:
                _log_epoch(record, config)
                if checkpoint_dir is not None:
                    trainer = {
                        "epoch": epoch,
                        "bad_evals": bad_evals,
                        "history": history.to_dict(),
                        "config": {k: getattr(config, k) for k in config.__dataclass_fields__},
                    }
                    save_checkpoint(checkpoint_dir, module, optimizer, scheduler, trainer, best_state)
            if stop_f or asked_f:
                if stop_f and info.is_main:
                    log.info(
                        "early stop after epoch %d: best %s %.4f at epoch %d",
                        epoch,
                        config.monitor,
                        history.best_metric or 0.0,
                        history.best_epoch,
                    )
                break
    finally:
        bar.close()
    if best_state is not None:
        module.load_state_dict({k: v.to(device) for k, v in best_state.items()})
    module.eval()
    return history


def _train_epoch(
    wrapped: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    data: TrainData,
    config: TrainingConfig,
    info: DistInfo,
    device: torch.device,
    epoch: int,
    bar: _Bar,
) -> tuple[float, float]:
    """One pass over this rank's shard; returns (sum of per-batch loss x batch size, sequences)."""
    wrapped.train()
    seed_torch(config.seed, epoch, info.rank)
    n = len(data)
    order = data_order_rng(config.seed, epoch).permutation(n).astype(np.int64)
    shard = shard_indices(n, order, info)
    rng = epoch_rng(config.seed, epoch, info.rank)
    per_rank_batch = max(1, math.ceil(config.batch_size / info.world_size))
    batches = _batches(shard, per_rank_batch)
    params = [p for p in wrapped.parameters() if p.requires_grad]
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    bf16 = config.precision == "bf16"
    for step, indices in enumerate(batches):
        batch = move_batch(data.collate(indices, rng), device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = wrapped(batch)
        loss = loss.float()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, config.clip_norm)
        optimizer.step()
        scheduler.step()
        loss_sum += loss.detach().to(torch.float64) * indices.shape[0]
        # reading the loss back syncs a GPU, so the bar shows it only now and then
        bar.advance(float(loss.item()) if step % 20 == 0 or step == len(batches) - 1 else None)
    return float(loss_sum.item()), float(shard.shape[0])


def _log_epoch(record: EpochRecord, config: TrainingConfig) -> None:
    k = config.monitor.rsplit("@", 1)[-1]
    wanted = (config.monitor, f"HR@{k}")  # the rest stays in the history, not on the console
    shown = "  ".join(f"{name} {record.metrics[name]:.4f}" for name in wanted if name in record.metrics)
    log.info(
        "epoch %d/%d  loss %.4f  %s  %.1fs  %.0f seq/s",
        record.epoch,
        config.epochs,
        record.loss,
        shown or "(not validated)",
        record.seconds,
        record.sequences_per_s,
    )
