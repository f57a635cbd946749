"""Re-rank candidates with any model that scores histories, e.g. the SQN (Q-learning) sequence model.

:class:`ModelReranker` is a :class:`~driftrec.policy.bandits.Policy` that ranks a batch's candidates by a
fitted model's scores of the users' live histories (``Candidates.histories``). It learns nothing online:
it is the offline-trained policy served greedily, so the online simulation can compare it with the
bandits. :func:`sqn_factory` builds the Q-learning policy of :mod:`driftrec.policy.sqn_model` for the
simulator (torch is imported only when the factory runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from driftrec.policy.bandits import Candidates, Feedback, top_k_columns

__all__ = ["ModelReranker", "sqn_factory"]


@dataclass
class ModelReranker:
    """Greedy top-k of the candidates by ``model.score(histories, **score_kwargs)``."""

    model: Any
    name: str = "model-rerank"
    score_kwargs: dict[str, Any] | None = None

    def select(self, candidates: Candidates, k: int) -> np.ndarray:
        if candidates.histories is None:
            raise ValueError(f"{self.name} needs Candidates.histories (the users' live histories)")
        scores = np.asarray(self.model.score(candidates.histories, **(self.score_kwargs or {})), np.float64)
        value = np.take_along_axis(scores, candidates.items, axis=1)
        value = np.where(np.isfinite(value), value, -1e30)
        return top_k_columns(value, candidates.valid, k)

    def update(self, feedback: Feedback) -> None:
        return None


def sqn_factory(
    variant: str = "qlearning",
    rank_by: str = "supervised",
    epochs: int = 20,
    hidden: int = 32,
    max_len: int = 20,
    threads: int = 1,
    name: str | None = None,
) -> Any:
    """A simulator policy factory: fit SQN (5b's :class:`SQNRecommender`) on the training log, serve it."""

    def factory(context: Any) -> ModelReranker:
        from driftrec.models.sequential.config import SequentialConfig
        from driftrec.policy.sqn import SQNConfig
        from driftrec.policy.sqn_model import SQNRecommender
        from driftrec.training.config import TrainingConfig

        training = TrainingConfig(
            epochs=epochs, batch_size=128, lr=2e-3, patience=0, seed=context.seed, num_threads=threads
        )
        sequence = SequentialConfig(
            max_len=max_len,
            hidden=hidden,
            blocks=1,
            heads=2,
            inner=4 * hidden,
            behaviours=True,
            sliding_window=True,
            training=training,
        )
        config = SQNConfig(variant=variant, rank_by=rank_by, sequence=sequence)
        model = SQNRecommender(config).fit(context.train_log)
        return ModelReranker(model, name=name or f"sqn-{variant}")

    return factory
