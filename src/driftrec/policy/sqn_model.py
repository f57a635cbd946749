"""The SQN recommender: fit on a multi-behaviour log, score histories, save and load.

It reuses the sequence model's parts unchanged (``build_network``, the causal windows, the generic
training loop); only the objective (:class:`~driftrec.policy.sqn.SQNObjective`) is new. Ranking uses
the head named by ``SQNConfig.rank_by``: the supervised head by default, as in SQN, whose Q-head
shapes the shared representation rather than ranking directly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Self

import numpy as np
import torch
from numpy.typing import NDArray
from safetensors.torch import load_file, save_file

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models._common import MODEL_JSON, RecommendMixin, check_histories, finish_scores, not_fitted
from driftrec.models.sequential.batches import BatchLayout, history_batch
from driftrec.models.sequential.network import build_network
from driftrec.policy.sqn import RLExamples, SQNConfig, SQNObjective, hard_update
from driftrec.training.checkpoint import state_copy
from driftrec.training.device import move_batch, torch_threads
from driftrec.training.history import EpochRecord, TrainingHistory
from driftrec.training.loop import train as train_loop
from driftrec.training.seed import seed_torch

__all__ = ["SQNRecommender"]

log = logging.getLogger(__name__)

WEIGHTS_FILE = "weights.safetensors"
MODEL_NAME = "sqn"


class SQNRecommender(RecommendMixin):
    """A causal Transformer with a supervised head and (unless variant "none") a Q-head."""

    name: str = MODEL_NAME

    def __init__(self, config: SQNConfig | None = None) -> None:
        self.config = config or SQNConfig()
        self._objective: SQNObjective | None = None
        self.n_items = 0
        self.history: TrainingHistory | None = None

    def _layout(self, n_items: int) -> BatchLayout:
        seq = self.config.sequence
        return BatchLayout(
            seq.max_len, n_items, seq.time_buckets if seq.time_intervals else 0, seq.behaviours
        )

    def fit(
        self,
        train: InteractionLog,
        validate: Callable[[Self], dict[str, float]] | None = None,
        *,
        on_epoch_end: Callable[[EpochRecord], bool] | None = None,
    ) -> Self:
        """Train on ``train``; ``validate(model)`` (optional) returns metrics incl. ``training.monitor``
        for early stopping with the best epoch's weights restored."""
        seq = self.config.sequence
        examples = RLExamples(train, self._layout(train.n_items), self.config.rewards, seq.sliding_window)
        seed_torch(seq.training.seed)
        network = build_network(seq, train.n_items)
        self._objective = SQNObjective(network, self.config)
        self.n_items = train.n_items
        log.info(
            "sqn[%s]: %d training windows, %d items, %d parameters",
            self.config.variant,
            len(examples),
            train.n_items,
            sum(p.numel() for p in self._objective.parameters() if p.requires_grad),
        )
        hook = None if validate is None else (lambda: validate(self))
        self.history = train_loop(
            self._objective, examples, seq.training, validate=hook, on_epoch_end=on_epoch_end
        )
        return self

    def _require(self) -> SQNObjective:
        if self._objective is None:
            raise not_fitted(self)
        return self._objective

    @property
    def objective(self) -> SQNObjective:
        return self._require()

    def state_scores(self, states: torch.Tensor, head: str | None = None) -> torch.Tensor:
        """(P, n_items + 1) scores of states from ``head`` (default ``config.rank_by``); column 0 unused."""
        objective = self._require()
        head = head or self.config.rank_by
        if head == "supervised":
            return states @ objective.network.item_table().T
        if objective.q_head is None:
            raise ValueError("this model has no Q-head (variant 'none')")
        q = objective.q_head(states)
        return torch.cat([torch.full_like(q[:, :1], -torch.inf), q], dim=1)

    def score(self, histories: Histories, head: str | None = None) -> NDArray[np.float32]:
        objective = self._require()
        check_histories(histories, self.n_items)
        layout = self._layout(self.n_items)
        size = self.config.sequence.score_batch_size
        device = next(objective.parameters()).device
        out = np.empty((len(histories), self.n_items + 1), dtype=np.float32)
        objective.eval()
        with torch.inference_mode(), torch_threads(self.config.sequence.training.num_threads):
            for start in range(0, len(histories), size):
                rows = np.arange(start, min(start + size, len(histories)), dtype=np.int64)
                batch = move_batch(history_batch(histories.take(rows), layout, append_mask=False), device)
                last = objective.network.encode(batch)[:, -1]
                out[rows] = self.state_scores(last, head).float().cpu().numpy()
        return finish_scores(out)

    # ----------------------------------------------------------------------------------- save/load
    def save(self, directory: str | Path) -> None:
        objective = self._require()
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        state = {k: v for k, v in state_copy(objective).items() if not k.startswith("target.")}
        save_file(state, str(path / WEIGHTS_FILE))
        meta = {
            "model": MODEL_NAME,
            "config": self.config.to_dict(),
            "n_items": self.n_items,
            "training_history": None if self.history is None else self.history.to_dict(),
        }
        (path / MODEL_JSON).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """Rebuild on the CPU (the target network, a training device only, is not saved)."""
        path = Path(directory)
        meta = json.loads((path / MODEL_JSON).read_text())
        if meta.get("model") != MODEL_NAME:
            raise ValueError(f"{directory} holds model {meta.get('model')!r}, not {MODEL_NAME!r}")
        config = SQNConfig(**meta["config"])
        model = cls(config)
        n_items = int(meta["n_items"])
        objective = SQNObjective(build_network(config.sequence, n_items), config)
        missing, unexpected = objective.load_state_dict(load_file(str(path / WEIGHTS_FILE)), strict=False)
        if unexpected or any(not k.startswith("target.") for k in missing):
            raise ValueError(
                f"{directory}: weights do not match the config (missing {missing}, extra {unexpected})"
            )
        if objective.target is not None:
            hard_update(objective.target, objective.online_critic())
        objective.eval()
        model._objective, model.n_items = objective, n_items
        raw = meta.get("training_history")
        model.history = None if raw is None else TrainingHistory.from_dict(raw)
        return model
