"""SASRec / BERT4Rec behind the ``Recommender`` contract, with optional item text, categories, time.

One class serves both objectives: ``SequentialConfig(objective="causal")`` is SASRec and
``objective="masked"`` is BERT4Rec (the registry's ``bert4rec`` is this class with BERT4Rec's
default config). Saved as ``model.json`` (config, sizes, training history) + ``weights.safetensors``
(parameters and the frozen buffers: text matrix, item categories), which is all ``load`` needs to give
identical scores.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import numpy as np
import torch
from numpy.typing import NDArray
from safetensors.torch import load_file, save_file

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.data.splits import EvalSet
from driftrec.models._common import (
    MODEL_JSON,
    RecommendMixin,
    check_histories,
    finish_scores,
    not_fitted,
    read_meta,
)
from driftrec.models.sequential.batches import BatchLayout, NegativeSampler, TrainingExamples, history_batch
from driftrec.models.sequential.config import BERT4RecConfig, SequentialConfig
from driftrec.models.sequential.network import SequenceNetwork, build_network
from driftrec.models.sequential.objectives import SequenceObjective
from driftrec.training.checkpoint import state_copy
from driftrec.training.device import move_batch, torch_threads
from driftrec.training.history import EpochRecord, TrainingHistory
from driftrec.training.loop import train as train_loop
from driftrec.training.seed import seed_torch

__all__ = ["BERT4Rec", "SequentialRecommender"]

log = logging.getLogger(__name__)

WEIGHTS_FILE = "weights.safetensors"
FORMAT_VERSION = 1
_NAMES = {"causal": "sasrec", "masked": "bert4rec"}
#: Config classes by the name ``save`` records, so a loaded config compares equal to the saved one.
_CONFIG_TYPES: dict[str, type[SequentialConfig]] = {c.__name__: c for c in (SequentialConfig, BERT4RecConfig)}


class SequentialRecommender(RecommendMixin):
    """A Transformer over each history's last ``max_len`` events, scoring the next item.

    ``item_text``: (n_items + 1, d) float32 frozen text vectors, row 0 zeros (needed by fusion "text"
    and "id+text"); ``item_category``: (n_items + 1,) int category ids, 0 = unknown (needed by
    ``categories=True``). Both are indexed by the dense item ids of the log given to ``fit``.
    """

    name: str = "sasrec"
    config_type: type[SequentialConfig] = SequentialConfig

    def __init__(
        self,
        config: SequentialConfig | None = None,
        item_text: NDArray[np.floating] | None = None,
        item_category: NDArray[np.integer] | None = None,
    ) -> None:
        self.config = config or self.config_type()
        self.name = _NAMES[self.config.objective]
        if self.config.uses_text and item_text is None:
            raise ValueError(f"fusion {self.config.fusion!r} needs item_text, an (n_items + 1, d) matrix")
        if self.config.categories and item_category is None:
            raise ValueError("categories=True needs item_category, an (n_items + 1,) array of category ids")
        self._item_text = None if item_text is None else _check_text(item_text)
        self._item_category = None if item_category is None else _check_categories(item_category)
        self._network: SequenceNetwork | None = None
        self.n_users = 0
        self.n_items = 0
        self.n_train_items = 0
        self.history: TrainingHistory | None = None

    # ----------------------------------------------------------------------------------- training
    def fit(
        self,
        train: InteractionLog,
        valid: EvalSet | None = None,
        *,
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
        on_epoch_end: Callable[[EpochRecord], bool] | None = None,
        warm_start: str | Path | None = None,
    ) -> Self:
        """Train on ``train``; with ``valid``, stop early on its full-ranking ``training.monitor`` and keep
        the best epoch's weights. ``checkpoint_dir``/``resume``/``on_epoch_end``: see ``training.train``.

        ``warm_start``: start from the weights of another run of the same architecture: a saved model
        directory or a ``.safetensors`` file (a training checkpoint's ``best.safetensors`` too), e.g. to
        finish with the exact full softmax a model trained cheaply with sampled softmax. A checkpoint
        being resumed from ``checkpoint_dir`` takes precedence.
        """
        cfg = self.config
        n_items = train.n_items
        text = self._aligned_text(n_items)
        categories = self._aligned_categories(n_items)
        counts = train.item_popularity()
        sampler = NegativeSampler(counts, cfg.negative_sampling) if cfg.loss != "full" else None
        examples = TrainingExamples(
            train,
            self._layout(n_items),
            objective=cfg.objective,
            mask_prob=cfg.mask_prob,
            sliding_window=cfg.sliding_window,
            loss=cfg.loss,
            n_negatives=cfg.n_negatives,
            sampler=sampler,
        )
        seed_torch(cfg.training.seed)
        network = build_network(cfg, n_items, text, categories, has_id=torch.from_numpy(counts > 0))
        if warm_start is not None:
            load_warm_start(network, warm_start)
        log_q = None if sampler is None else torch.from_numpy(sampler.log_q)
        objective = SequenceObjective(network, cfg.loss, log_q)
        self._network, self.n_items, self.n_train_items, self.n_users = (
            network,
            n_items,
            n_items,
            train.n_users,
        )
        log.info(
            "%s: %d training sequences, %d items, %d parameters",
            self.name,
            len(examples),
            n_items,
            sum(p.numel() for p in network.parameters()),
        )
        validate = self._validator(valid) if valid is not None and len(valid) else None
        self.history = train_loop(
            objective,
            examples,
            cfg.training,
            validate=validate,
            checkpoint_dir=checkpoint_dir,
            resume=resume,
            on_epoch_end=on_epoch_end,
        )
        return self

    def _validator(self, valid: EvalSet) -> Callable[[], dict[str, float]]:
        # imported here: evaluation imports models.base, whose package imports this module
        from driftrec.evaluation.ranking import RankingConfig, evaluate_ranking

        training = self.config.training
        if 0 < training.valid_users < len(valid):
            rng = np.random.default_rng([training.seed, 7])
            rows = np.sort(rng.choice(len(valid), training.valid_users, replace=False)).astype(np.int64)
            valid = EvalSet(valid.histories.take(rows), valid.targets.take(rows))
        k = int(training.monitor.rsplit("@", 1)[1])
        ranking = RankingConfig(ks=(k,), batch_size=self.config.score_batch_size)
        subset = valid

        def validate() -> dict[str, float]:
            return evaluate_ranking(self.score, subset, self.n_items, ranking, progress=False).metrics

        return validate

    def _layout(self, n_items: int) -> BatchLayout:
        cfg = self.config
        return BatchLayout(
            cfg.max_len, n_items, cfg.time_buckets if cfg.time_intervals else 0, cfg.behaviours
        )

    def _aligned_text(self, n_items: int) -> torch.Tensor | None:
        if self._item_text is None or not self.config.uses_text:
            return None
        if self._item_text.shape[0] != n_items + 1:
            raise ValueError(
                f"item_text has {self._item_text.shape[0]} rows; the log's catalogue needs "
                f"n_items + 1 = {n_items + 1} (row 0 = padding)"
            )
        return torch.from_numpy(self._item_text)

    def _aligned_categories(self, n_items: int) -> torch.Tensor | None:
        if self._item_category is None or not self.config.categories:
            return None
        if self._item_category.shape[0] != n_items + 1:
            raise ValueError(
                f"item_category has {self._item_category.shape[0]} entries; the log's catalogue needs "
                f"n_items + 1 = {n_items + 1} (entry 0 = padding)"
            )
        return torch.from_numpy(self._item_category)

    # ------------------------------------------------------------------------------------ scoring
    def _require(self) -> SequenceNetwork:
        if self._network is None:
            raise not_fitted(self)
        return self._network

    @property
    def network(self) -> SequenceNetwork:
        """The torch module behind the model (to inspect, export or test it)."""
        return self._require()

    @property
    def device(self) -> torch.device:
        return next(self._require().parameters()).device

    def to(self, device: str | torch.device) -> Self:
        """Move the network (for scoring) to another device."""
        self._require().to(device)
        return self

    def score(self, histories: Histories) -> NDArray[np.float32]:
        network = self._require()
        check_histories(histories, self.n_items)
        layout = self._layout(self.n_items)
        masked = self.config.objective == "masked"
        device, size = self.device, self.config.score_batch_size
        out = np.empty((len(histories), self.n_items + 1), dtype=np.float32)
        network.eval()
        with torch.inference_mode(), torch_threads(self.config.training.num_threads):
            table = network.item_table()
            for start in range(0, len(histories), size):
                rows = np.arange(start, min(start + size, len(histories)), dtype=np.int64)
                batch = move_batch(history_batch(histories.take(rows), layout, append_mask=masked), device)
                last = network.encode(batch)[:, -1]
                out[rows] = (last @ table.T).float().cpu().numpy()
        return finish_scores(out)

    def user_vectors(self, histories: Histories) -> NDArray[np.float32]:
        """(n, hidden) user states: ``score(h) == user_vectors(h) @ item_vectors().T`` (padding aside).

        Runs on the caller's torch threads, unlike ``score``: a server sets its thread count once at
        start-up, and switching torch's global count per request (from concurrent threads) is slow.
        """
        network = self._require()
        check_histories(histories, self.n_items)
        layout = self._layout(self.n_items)
        masked = self.config.objective == "masked"
        device, size = self.device, self.config.score_batch_size
        parts = [np.zeros((0, self.config.hidden), dtype=np.float32)]
        network.eval()
        with torch.inference_mode():
            for start in range(0, len(histories), size):
                rows = np.arange(start, min(start + size, len(histories)), dtype=np.int64)
                batch = move_batch(history_batch(histories.take(rows), layout, append_mask=masked), device)
                parts.append(network.encode(batch)[:, -1].float().cpu().numpy())
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def item_vectors(self) -> NDArray[np.float32]:
        """(n_items + 1, hidden) the item table the scores are inner products with (row 0: padding)."""
        with torch.inference_mode():
            table: NDArray[np.float32] = self._require().item_table().float().cpu().numpy()
        return np.ascontiguousarray(table, dtype=np.float32)

    def add_items(
        self, text_vectors: NDArray[np.floating], categories: NDArray[np.integer] | None = None
    ) -> NDArray[np.int64]:
        """Make new items rankable from their text alone, without retraining; returns their new ids.

        The ids continue the catalogue (n_items + 1, ...). Their vectors are the trained projection of
        their text (no id part), so they can be recommended and can appear in histories at once.
        """
        network = self._require()
        if not self.config.uses_text:
            raise ValueError("add_items needs a model with fusion 'text' or 'id+text'; this one has 'id'")
        text = _check_text(text_vectors)
        n_new = text.shape[0]
        cats = np.zeros(n_new, np.int64) if categories is None else _check_categories(categories)
        if cats.shape != (n_new,):
            raise ValueError(f"categories must have one entry per new item ({n_new}), got shape {cats.shape}")
        network.extend(torch.from_numpy(text).to(self.device), torch.from_numpy(cats))
        new_ids = np.arange(self.n_items + 1, self.n_items + 1 + n_new, dtype=np.int64)
        self.n_items += n_new
        return new_ids

    # ----------------------------------------------------------------------------------- save/load
    def save(self, directory: str | Path) -> None:
        network = self._require()
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        save_file(state_copy(network), str(path / WEIGHTS_FILE))
        meta = {
            "model": self.name,
            "format_version": FORMAT_VERSION,
            "config": self.config.to_dict(),
            "config_type": type(self.config).__name__,
            "n_users": self.n_users,
            "n_items": self.n_items,
            "n_train_items": self.n_train_items,
            "training_history": None if self.history is None else self.history.to_dict(),
        }
        (path / MODEL_JSON).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        """Rebuild on the CPU (``.to("cuda")`` to move); the class must match the saved name unless it is
        ``SequentialRecommender`` itself, which loads either objective."""
        meta = read_meta(directory)
        saved = meta.get("model")
        if saved not in _NAMES.values() or (cls is not SequentialRecommender and saved != cls.name):
            raise ValueError(f"{directory} holds model {saved!r}, not {cls.name!r}")
        config = _CONFIG_TYPES.get(meta.get("config_type", ""), cls.config_type)(**meta["config"])
        state = load_file(str(Path(directory) / WEIGHTS_FILE))
        text, categories = state.get("items.text"), state.get("features.item_category")
        model = cls(
            config, None if text is None else text.numpy(), None if categories is None else categories.numpy()
        )
        network = build_network(
            config, int(meta["n_items"]), text, categories, has_id=state.get("items.has_id")
        )
        network.load_state_dict(state)
        network.eval()
        model._network = network
        model.n_users, model.n_items = int(meta["n_users"]), int(meta["n_items"])
        model.n_train_items = int(meta.get("n_train_items", meta["n_items"]))
        raw_history: dict[str, Any] | None = meta.get("training_history")
        model.history = None if raw_history is None else TrainingHistory.from_dict(raw_history)
        return model


class BERT4Rec(SequentialRecommender):
    """The registry's ``bert4rec``: ``SequentialRecommender`` with the masked objective by default."""

    name: str = "bert4rec"
    config_type: type[SequentialConfig] = BERT4RecConfig


def load_warm_start(network: SequenceNetwork, source: str | Path) -> None:
    """Load ``source``'s weights into ``network``; every tensor must match by name and shape."""
    path = Path(source)
    file = path / WEIGHTS_FILE if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"warm start: no weights at {file}")
    prefix = "network."  # training checkpoints hold the objective module, which wraps the network
    state = {k.removeprefix(prefix): v for k, v in load_file(str(file)).items()}
    expected = network.state_dict()
    problems = [f"missing {k}" for k in expected if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    problems += [
        f"{k}: {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    if problems:
        shown = "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")
        raise ValueError(f"warm start from {file} does not fit this model: {shown}")
    network.load_state_dict(state)
    log.info("warm start from %s", file)


def _check_text(text: NDArray[np.floating]) -> NDArray[np.float32]:
    arr = np.ascontiguousarray(text, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"item text vectors must be a 2-D (n, d) matrix, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("item text vectors must be finite (no NaN or inf)")
    return arr


def _check_categories(categories: NDArray[np.integer]) -> NDArray[np.int64]:
    arr = np.ascontiguousarray(categories, dtype=np.int64)
    if arr.ndim != 1 or (arr.size and arr.min() < 0):
        raise ValueError(
            f"item categories must be a 1-D array of ids >= 0 (0 = unknown), got shape {arr.shape}"
        )
    return arr
