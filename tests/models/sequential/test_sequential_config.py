"""Every invalid setting is refused with a message naming the field and what it allows."""

from __future__ import annotations

from typing import Any

import pytest

from driftrec.models.sequential import BERT4RecConfig, SequentialConfig
from driftrec.training import TrainingConfig

INVALID: list[tuple[dict[str, Any], str]] = [
    ({"objective": "next"}, "SequentialConfig.objective must be one of 'causal', 'masked', got 'next'"),
    ({"loss": "softmax"}, "SequentialConfig.loss must be one of 'full', 'sampled', 'bce', got 'softmax'"),
    ({"n_negatives": 0}, "SequentialConfig.n_negatives must be an integer >= 1, got 0"),
    (
        {"negative_sampling": "zipf"},
        "SequentialConfig.negative_sampling must be one of 'popularity', 'uniform'",
    ),
    ({"mask_prob": 0.0}, "SequentialConfig.mask_prob must be a number in (0, 1), got 0.0"),
    ({"mask_prob": 1.0}, "SequentialConfig.mask_prob must be a number in (0, 1), got 1.0"),
    ({"max_len": 1}, "SequentialConfig.max_len must be an integer >= 2, got 1"),
    ({"max_len": 20.0}, "SequentialConfig.max_len must be an integer >= 2, got 20.0"),
    ({"sliding_window": 1}, "SequentialConfig.sliding_window must be a bool, got 1"),
    ({"hidden": 0}, "SequentialConfig.hidden must be an integer >= 1, got 0"),
    ({"blocks": 0}, "SequentialConfig.blocks must be an integer >= 1, got 0"),
    (
        {"hidden": 64, "heads": 3},
        "SequentialConfig.heads must be an integer >= 1 that divides hidden (64), got 3",
    ),
    ({"inner": -1}, "SequentialConfig.inner must be an integer >= 1, got -1"),
    ({"dropout": 1.0}, "SequentialConfig.dropout must be a number in [0, 1), got 1.0"),
    ({"norm": "rms"}, "SequentialConfig.norm must be one of 'pre', 'post', got 'rms'"),
    ({"time_intervals": "yes"}, "SequentialConfig.time_intervals must be a bool, got 'yes'"),
    ({"time_buckets": 1}, "SequentialConfig.time_buckets must be an integer >= 2, got 1"),
    ({"categories": None}, "SequentialConfig.categories must be a bool, got None"),
    ({"behaviours": 0}, "SequentialConfig.behaviours must be a bool, got 0"),
    ({"fusion": "image"}, "SequentialConfig.fusion must be one of 'id', 'text', 'id+text', got 'image'"),
    ({"fusion_op": "concat"}, "SequentialConfig.fusion_op must be one of 'gate', 'sum', got 'concat'"),
    (
        {"text_projection": "cnn"},
        "SequentialConfig.text_projection must be one of 'linear', 'mlp', got 'cnn'",
    ),
    ({"score_batch_size": 0}, "SequentialConfig.score_batch_size must be an integer >= 1, got 0"),
    ({"training": 3}, "SequentialConfig.training must be a TrainingConfig, got 3"),
    ({"training": {"epochs": 0}}, "TrainingConfig.epochs must be an integer >= 1, got 0"),
]


@pytest.mark.parametrize(("fields", "message"), INVALID)
def test_invalid_fields_are_refused_with_the_field_and_its_range(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as err:
        SequentialConfig(**fields)
    assert message in str(err.value)


def test_defaults_are_sasrec_and_bert4rec() -> None:
    assert SequentialConfig().objective == "causal"
    assert BERT4RecConfig().objective == "masked"
    assert BERT4RecConfig().max_len == SequentialConfig().max_len


def test_training_section_accepts_a_mapping_and_round_trips_through_a_dict() -> None:
    config = SequentialConfig(training={"epochs": 3, "lr": 0.01})  # type: ignore[arg-type]
    assert config.training == TrainingConfig(epochs=3, lr=0.01)
    assert SequentialConfig(**config.to_dict()) == config


def test_config_is_frozen() -> None:
    with pytest.raises(AttributeError):
        SequentialConfig().hidden = 8  # type: ignore[misc]
