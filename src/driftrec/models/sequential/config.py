"""The sequential model's config: architecture, objective, features, fusion, and a training section.

One frozen dataclass validates every field on construction and names the field and allowed range
in its message. ``BERT4RecConfig`` differs only in defaults, so the registry can offer the masked
model as its own name while both share one implementation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from driftrec.models._common import check_field, is_int, is_real
from driftrec.training.config import TrainingConfig

__all__ = [
    "FUSIONS",
    "FUSION_OPS",
    "LOSSES",
    "NEGATIVE_SAMPLING",
    "NORMS",
    "OBJECTIVES",
    "TEXT_PROJECTIONS",
    "BERT4RecConfig",
    "SequentialConfig",
]

OBJECTIVES = ("causal", "masked")
LOSSES = ("full", "sampled", "bce")
NEGATIVE_SAMPLING = ("popularity", "uniform")
NORMS = ("pre", "post")
FUSIONS = ("id", "text", "id+text")
FUSION_OPS = ("gate", "sum")
TEXT_PROJECTIONS = ("linear", "mlp")


def _one_of(options: tuple[str, ...]) -> str:
    return "one of " + ", ".join(repr(o) for o in options)


@dataclass(frozen=True)
class SequentialConfig:
    """objective: "causal" (SASRec: predict the next item at every position) or "masked" (BERT4Rec:
    Cloze on randomly masked positions, mask_prob each, at least one per sequence);
    loss: "full" softmax cross-entropy over the catalogue, "sampled" softmax with ``n_negatives``
    shared negatives and logQ correction, or "bce" with one negative per position (SASRec's paper);
    max_len: positions the encoder sees; sliding_window: also train on earlier windows of sequences
    longer than max_len (otherwise only the most recent window);
    hidden, blocks, heads, inner (FFN width), dropout, norm ("pre" or "post" LayerNorm): the encoder;
    time_intervals (with time_buckets log2 buckets of the gap in seconds), categories (needs an item ->
    category array), behaviours (event types): optional embeddings added at each position;
    fusion: item vectors from "id" embeddings, a projection of frozen "text" vectors, or "id+text"
    combined by fusion_op "gate" or "sum"; text_projection: "linear" or "mlp"; id_dropout: with
    "id+text", the share of items whose vector is their text part alone at each training step, so the
    text path also works by itself -- what items never seen in training (cold start) get;
    score_batch_size: histories per forward pass when scoring; training: the loop's own section.
    """

    objective: str = "causal"
    loss: str = "full"
    n_negatives: int = 256
    negative_sampling: str = "popularity"
    mask_prob: float = 0.2
    max_len: int = 50
    sliding_window: bool = False
    hidden: int = 64
    blocks: int = 2
    heads: int = 2
    inner: int = 256
    dropout: float = 0.2
    norm: str = "pre"
    time_intervals: bool = False
    time_buckets: int = 32
    categories: bool = False
    behaviours: bool = False
    fusion: str = "id"
    fusion_op: str = "gate"
    text_projection: str = "linear"
    id_dropout: float = 0.0
    score_batch_size: int = 256
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def __post_init__(self) -> None:
        if isinstance(self.training, Mapping):  # from model.json, or a plain dict in a parameter table
            object.__setattr__(self, "training", TrainingConfig(**self.training))
        check_field(self, "objective", self.objective in OBJECTIVES, _one_of(OBJECTIVES))
        check_field(self, "loss", self.loss in LOSSES, _one_of(LOSSES))
        check_field(self, "n_negatives", is_int(self.n_negatives, 1), "an integer >= 1")
        check_field(
            self, "negative_sampling", self.negative_sampling in NEGATIVE_SAMPLING, _one_of(NEGATIVE_SAMPLING)
        )
        check_field(
            self,
            "mask_prob",
            is_real(self.mask_prob, 0.0, inclusive=False) and self.mask_prob < 1,
            "a number in (0, 1)",
        )
        check_field(self, "max_len", is_int(self.max_len, 2), "an integer >= 2")
        check_field(self, "sliding_window", isinstance(self.sliding_window, bool), "a bool")
        check_field(self, "hidden", is_int(self.hidden, 1), "an integer >= 1")
        check_field(self, "blocks", is_int(self.blocks, 1), "an integer >= 1")
        check_field(
            self,
            "heads",
            is_int(self.heads, 1) and is_int(self.hidden, 1) and self.hidden % self.heads == 0,
            f"an integer >= 1 that divides hidden ({self.hidden})",
        )
        check_field(self, "inner", is_int(self.inner, 1), "an integer >= 1")
        check_field(self, "dropout", is_real(self.dropout, 0.0) and self.dropout < 1, "a number in [0, 1)")
        check_field(self, "norm", self.norm in NORMS, _one_of(NORMS))
        for flag in ("time_intervals", "categories", "behaviours"):
            check_field(self, flag, isinstance(getattr(self, flag), bool), "a bool")
        check_field(self, "time_buckets", is_int(self.time_buckets, 2), "an integer >= 2")
        check_field(self, "fusion", self.fusion in FUSIONS, _one_of(FUSIONS))
        check_field(self, "fusion_op", self.fusion_op in FUSION_OPS, _one_of(FUSION_OPS))
        check_field(
            self, "text_projection", self.text_projection in TEXT_PROJECTIONS, _one_of(TEXT_PROJECTIONS)
        )
        check_field(
            self, "id_dropout", is_real(self.id_dropout, 0.0) and self.id_dropout < 1, "a number in [0, 1)"
        )
        if self.id_dropout > 0 and self.fusion != "id+text":
            raise ValueError(f"id_dropout needs fusion 'id+text', got fusion {self.fusion!r}")
        check_field(self, "score_batch_size", is_int(self.score_batch_size, 1), "an integer >= 1")
        check_field(self, "training", isinstance(self.training, TrainingConfig), "a TrainingConfig")

    @property
    def uses_text(self) -> bool:
        return self.fusion != "id"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class BERT4RecConfig(SequentialConfig):
    """BERT4Rec defaults: the masked (Cloze) objective; everything else as ``SequentialConfig``."""

    objective: str = "masked"
