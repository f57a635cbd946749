"""TrainingConfig refuses bad settings with the field name and its allowed range."""

from __future__ import annotations

from typing import Any

import pytest

from driftrec.training import TrainingConfig

INVALID: list[tuple[dict[str, Any], str]] = [
    ({"epochs": 0}, "TrainingConfig.epochs must be an integer >= 1, got 0"),
    ({"epochs": True}, "TrainingConfig.epochs must be an integer >= 1, got True"),
    ({"batch_size": 0}, "TrainingConfig.batch_size must be an integer >= 1, got 0"),
    ({"lr": 0.0}, "TrainingConfig.lr must be a number > 0, got 0.0"),
    ({"lr": float("nan")}, "TrainingConfig.lr must be a number > 0, got nan"),
    ({"weight_decay": -0.1}, "TrainingConfig.weight_decay must be a number >= 0, got -0.1"),
    ({"warmup": 1.0}, "TrainingConfig.warmup must be in [0, 1), got 1.0"),
    ({"warmup": -0.1}, "TrainingConfig.warmup must be in [0, 1), got -0.1"),
    ({"decay": "step"}, "TrainingConfig.decay must be one of linear, cosine, constant, got 'step'"),
    ({"clip_norm": -1.0}, "TrainingConfig.clip_norm must be a number >= 0 (0 = off), got -1.0"),
    ({"patience": -1}, "TrainingConfig.patience must be an integer >= 0 (0 = never stop early), got -1"),
    ({"monitor": "ndcg"}, "TrainingConfig.monitor must be a metric name like 'NDCG@10', got 'ndcg'"),
    ({"eval_every": 0}, "TrainingConfig.eval_every must be an integer >= 1, got 0"),
    ({"valid_users": -5}, "TrainingConfig.valid_users must be an integer >= 0 (0 = all), got -5"),
    ({"seed": -1}, "TrainingConfig.seed must be an integer >= 0, got -1"),
    ({"device": "gpu"}, "TrainingConfig.device must be 'auto', 'cpu', 'cuda' or 'cuda:<index>', got 'gpu'"),
    (
        {"device": "cuda:x"},
        "TrainingConfig.device must be 'auto', 'cpu', 'cuda' or 'cuda:<index>', got 'cuda:x'",
    ),
    ({"num_threads": -2}, "TrainingConfig.num_threads must be an integer >= 0 (0 = torch's default), got -2"),
    ({"precision": "fp16"}, "TrainingConfig.precision must be one of fp32, bf16, got 'fp16'"),
]


@pytest.mark.parametrize(("fields", "message"), INVALID)
def test_invalid_fields_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as err:
        TrainingConfig(**fields)
    assert str(err.value) == message


@pytest.mark.parametrize("device", ["auto", "cpu", "cuda", "cuda:1"])
def test_device_names_accepted(device: str) -> None:
    assert TrainingConfig(device=device).device == device
