"""The generic loop on a toy regression: early stopping, best-weight restore, hooks, checkpoints, resume."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from driftrec.training import EpochRecord, TrainingConfig, train
from driftrec.training.checkpoint import BEST, OPTIMIZER, TRAINER, WEIGHTS, has_checkpoint
from driftrec.training.device import move_batch, resolve_device, torch_threads
from driftrec.training.distributed import DistInfo, shard_indices


class Pair(NamedTuple):
    x: Tensor  # (B, 3) float32
    y: Tensor  # (B,) float32


class Toy:
    """y = x @ w + noise: 100 examples."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(100, 3)).astype(np.float32)
        self.y = (self.x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=100)).astype(np.float32)

    def __len__(self) -> int:
        return 100

    def collate(self, indices: np.ndarray, rng: np.random.Generator) -> Pair:
        return Pair(torch.from_numpy(self.x[indices]), torch.from_numpy(self.y[indices]))


class Regression(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(3, 1)
        self.drop = nn.Dropout(0.1)  # so the torch random stream matters for resume

    def forward(self, batch: Pair) -> Tensor:
        loss: Tensor = ((self.linear(self.drop(batch.x)).squeeze(-1) - batch.y) ** 2).mean()
        return loss


def config(**kw: object) -> TrainingConfig:
    base: dict[str, object] = {"epochs": 6, "batch_size": 16, "lr": 0.05, "num_threads": 1, "patience": 0}
    base.update(kw)
    return TrainingConfig(**base)  # type: ignore[arg-type]


def test_loss_falls_and_history_has_one_record_per_epoch() -> None:
    history = train(Regression(), Toy(), config())
    assert len(history.epochs) == 6 and history.best_epoch == 0
    assert history.losses[-1] < 0.5 * history.losses[0]
    assert all(r.sequences_per_s > 0 and r.metrics == {} for r in history.epochs)


def test_bf16_autocast_trains_to_the_same_fit_as_fp32() -> None:
    fp32 = train(Regression(), Toy(), config())
    bf16 = train(Regression(), Toy(), config(precision="bf16"))
    assert bf16.losses[-1] < 0.5 * bf16.losses[0]
    assert bf16.losses[-1] == pytest.approx(fp32.losses[-1], rel=0.1, abs=0.02)


def test_early_stopping_restores_the_best_epoch() -> None:
    scripted = iter([0.1, 0.3, 0.2, 0.25, 0.9, 0.9])
    snapshots: dict[int, dict[str, Tensor]] = {}
    module = Regression()

    def validate() -> dict[str, float]:
        return {"NDCG@10": next(scripted)}

    def remember(record: EpochRecord) -> bool:
        snapshots[record.epoch] = {k: v.clone() for k, v in module.state_dict().items()}
        return False

    history = train(module, Toy(), config(patience=2), validate=validate, on_epoch_end=remember)
    assert [r.epoch for r in history.epochs] == [1, 2, 3, 4]  # epochs 3 and 4 did not improve on 0.3
    assert history.stopped_early and history.best_epoch == 2 and history.best_metric == 0.3
    for key, value in module.state_dict().items():
        torch.testing.assert_close(value, snapshots[2][key])


def test_validate_must_return_the_monitored_metric() -> None:
    with pytest.raises(KeyError, match="not the monitored NDCG@10"):
        train(Regression(), Toy(), config(), validate=lambda: {"HR@10": 0.0})


def test_hook_can_stop_the_run() -> None:
    history = train(Regression(), Toy(), config(), on_epoch_end=lambda r: r.epoch == 2)
    assert len(history.epochs) == 2 and not history.stopped_early


def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path: Path) -> None:
    whole = Regression()
    train(whole, Toy(), config())
    first = Regression()
    stopped = train(first, Toy(), config(), checkpoint_dir=tmp_path, on_epoch_end=lambda r: r.epoch == 3)
    assert len(stopped.epochs) == 3 and has_checkpoint(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {WEIGHTS, TRAINER, OPTIMIZER}
    resumed = Regression()
    history = train(resumed, Toy(), config(), checkpoint_dir=tmp_path, resume=True)
    assert history.resumed_from_epoch == 3
    assert [r.epoch for r in history.epochs] == [1, 2, 3, 4, 5, 6]
    for key, value in resumed.state_dict().items():
        torch.testing.assert_close(value, whole.state_dict()[key], rtol=0, atol=0)


def test_best_weights_are_checkpointed_too(tmp_path: Path) -> None:
    train(Regression(), Toy(), config(epochs=2), validate=lambda: {"NDCG@10": 0.5}, checkpoint_dir=tmp_path)
    assert (tmp_path / BEST).is_file()


def test_resume_without_a_checkpoint_starts_afresh(tmp_path: Path) -> None:
    history = train(Regression(), Toy(), config(epochs=2), checkpoint_dir=tmp_path / "none", resume=True)
    assert history.resumed_from_epoch == 0 and len(history.epochs) == 2


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    a, b, c = Regression(), Regression(), Regression()
    la = train(a, Toy(), config(seed=3)).losses
    lb = train(b, Toy(), config(seed=3)).losses
    lc = train(c, Toy(), config(seed=4)).losses
    assert la == lb and la != lc


def test_empty_data_is_refused() -> None:
    class Empty(Toy):
        def __len__(self) -> int:
            return 0

    with pytest.raises(ValueError, match="no training examples"):
        train(Regression(), Empty(), config())


def test_threads_are_set_for_the_run_and_restored() -> None:
    before = torch.get_num_threads()
    seen: list[int] = []

    def record_threads(record: EpochRecord) -> bool:
        seen.append(torch.get_num_threads())
        return False

    train(Regression(), Toy(), config(epochs=1), on_epoch_end=record_threads)
    assert seen == [1] and torch.get_num_threads() == before
    with torch_threads(1):
        assert torch.get_num_threads() == 1


def test_shards_are_disjoint_equal_and_cover_everything() -> None:
    order = np.random.default_rng(0).permutation(11).astype(np.int64)
    shards = [shard_indices(11, order, DistInfo(rank=r, world_size=3)) for r in range(3)]
    assert {s.shape[0] for s in shards} == {4}
    assert set(np.concatenate(shards).tolist()) == set(range(11))
    assert shard_indices(11, order, DistInfo()).tolist() == order.tolist()


def test_devices_and_batches_move() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    batch = move_batch(Pair(torch.zeros(2, 3), torch.zeros(2)), torch.device("cpu"))
    assert isinstance(batch, Pair)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device"):
            resolve_device("cuda")


def test_early_stopped_run_resumed_with_more_patience_continues_as_if_never_stopped(tmp_path: Path) -> None:
    scores = [0.1, 0.3, 0.2, 0.25, 0.9, 0.5]

    def scripted(values: list[float]) -> Callable[[], dict[str, float]]:
        it = iter(values)
        return lambda: {"NDCG@10": next(it)}

    whole = Regression()
    uninterrupted = train(whole, Toy(), config(patience=3), validate=scripted(scores))
    stopped = train(
        Regression(), Toy(), config(patience=2), validate=scripted(scores), checkpoint_dir=tmp_path
    )
    assert stopped.stopped_early and len(stopped.epochs) == 4
    same = train(
        Regression(), Toy(), config(patience=2), validate=scripted([]), checkpoint_dir=tmp_path, resume=True
    )
    assert same.stopped_early and len(same.epochs) == 4  # same patience: the run stays finished
    resumed = Regression()
    history = train(
        resumed,
        Toy(),
        config(patience=3),
        validate=scripted(scores[4:]),
        checkpoint_dir=tmp_path,
        resume=True,
    )
    assert [r.epoch for r in history.epochs] == [r.epoch for r in uninterrupted.epochs] == [1, 2, 3, 4, 5, 6]
    assert history.best_epoch == uninterrupted.best_epoch == 5 and not history.stopped_early
    for key, value in resumed.state_dict().items():
        torch.testing.assert_close(value, whole.state_dict()[key], rtol=0, atol=0)
