"""Configuration of the CTR ranker: architecture, inputs and how to train (validated on creation)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from driftrec.training.config import TrainingConfig

__all__ = ["ARCHITECTURES", "CTRConfig"]

#: ``mlp``: mean-pooled sequence; ``din``: target attention; ``dien``: GRU + target attention + AUGRU.
ARCHITECTURES = ("mlp", "din", "dien")
Architecture = Literal["mlp", "din", "dien"]


def _default_training() -> TrainingConfig:
    return TrainingConfig(
        epochs=8, batch_size=256, lr=2e-3, weight_decay=1e-5, patience=2, monitor="AUC@valid", num_threads=1
    )


@dataclass(frozen=True)
class CTRConfig:
    """``architecture``: see ``ARCHITECTURES``; ``embed_dim``: item/category/behaviour embedding size;
    ``max_len``: behaviour events before the impression the sequence part sees; ``hidden``: sizes of
    the prediction MLP; ``text_dim``: PCA size of the item text vectors (0 = no text); ``aux_weight``:
    weight of DIEN's auxiliary next-behaviour loss (``dien`` only; 0 = off); ``dropout``;
    ``training``: the loop's section (monitor is ``AUC@valid``, validation AUC).
    """

    architecture: Architecture = "dien"
    embed_dim: int = 16
    max_len: int = 30
    hidden: tuple[int, ...] = (64, 32)
    text_dim: int = 16
    aux_weight: float = 0.5
    dropout: float = 0.1
    user_embedding: bool = False
    training: TrainingConfig = field(default_factory=_default_training)

    def __post_init__(self) -> None:
        if isinstance(self.training, dict):
            object.__setattr__(
                self, "training", TrainingConfig(**{**_default_training_kwargs(), **self.training})
            )
        if isinstance(self.hidden, list):
            object.__setattr__(self, "hidden", tuple(self.hidden))
        checks = (
            ("architecture", self.architecture in ARCHITECTURES, f"one of {', '.join(ARCHITECTURES)}"),
            ("embed_dim", _int(self.embed_dim, 1), "an integer >= 1"),
            ("max_len", _int(self.max_len, 1), "an integer >= 1"),
            ("hidden", bool(self.hidden) and all(_int(h, 1) for h in self.hidden), "non-empty sizes >= 1"),
            ("text_dim", _int(self.text_dim, 0), "an integer >= 0 (0 = no text)"),
            ("aux_weight", _num(self.aux_weight) and self.aux_weight >= 0, "a number >= 0"),
            ("dropout", _num(self.dropout) and 0 <= self.dropout < 1, "in [0, 1)"),
            ("user_embedding", isinstance(self.user_embedding, bool), "True or False"),
        )
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"CTRConfig.{name} must be {allowed}, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["hidden"] = list(self.hidden)
        return out


def _default_training_kwargs() -> dict[str, Any]:
    t = _default_training()
    return {f.name: getattr(t, f.name) for f in dataclasses.fields(t)}


def _int(value: object, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _num(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
