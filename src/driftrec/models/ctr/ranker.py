"""``CTRRanker``: fit on impressions, predict click probabilities, score candidates, save and load.

The ranker keeps the behaviour log it was trained with, so that serving can score a user's
candidates from a history alone: ``load_ranker(path).score(history, candidate_ids)`` recomputes the
point-in-time features (item statistics from the stored log, user statistics from the given history)
at the moment of the request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import polars as pl
import torch
from numpy.typing import NDArray
from safetensors.numpy import load_file as load_arrays
from safetensors.numpy import save_file as save_arrays
from safetensors.torch import load_file, save_file

from driftrec.data.idmap import IdMap
from driftrec.data.interactions import Histories, InteractionLog
from driftrec.evaluation.ctr import roc_auc
from driftrec.features.behaviour import BehaviourFeatureConfig
from driftrec.features.reduce import reduce_matrix
from driftrec.models.ctr.config import CTRConfig
from driftrec.models.ctr.inputs import CTRInputs, Examples, build_inputs
from driftrec.models.ctr.network import CTRNetwork
from driftrec.training.device import move_batch, torch_threads
from driftrec.training.history import TrainingHistory
from driftrec.training.loop import train as train_loop
from driftrec.training.seed import seed_torch

__all__ = ["CTRRanker", "load_ranker"]

log = logging.getLogger(__name__)

RANKER_JSON = "ranker.json"
WEIGHTS = "weights.safetensors"
ARRAYS = "arrays.safetensors"
ITEM_IDS = "items.idmap"


class CTRRanker:
    """A click-through-rate model over (user history, candidate item) at a moment in time.

    ``item_category`` / ``item_price_level``: (n_items + 1,) static item attributes (dense ids);
    ``item_text``: optional (n_items + 1, d) text vectors, reduced to ``config.text_dim`` by PCA;
    ``context_columns``/``numeric_columns``: extra impression columns (categorical codes / numbers).
    """

    name = "ctr"

    def __init__(
        self,
        config: CTRConfig | None = None,
        *,
        item_category: NDArray[np.integer],
        item_price_level: NDArray[np.floating] | None = None,
        item_text: NDArray[np.floating] | None = None,
        context_columns: tuple[str, ...] = (),
        numeric_columns: tuple[str, ...] = (),
        dense_names: tuple[str, ...] | None = None,
        feature_config: BehaviourFeatureConfig | None = None,
    ) -> None:
        self.config = config or CTRConfig()
        self.item_category = np.asarray(item_category, dtype=np.int64)
        n = self.item_category.shape[0]
        self.item_price_level = (
            np.zeros(n, np.float32) if item_price_level is None else np.asarray(item_price_level, np.float32)
        )
        self.item_text: NDArray[np.float32] | None = None
        if item_text is not None and self.config.text_dim > 0:
            text = np.asarray(item_text, dtype=np.float32)
            if text.shape[0] != n:
                raise ValueError(f"item_text has {text.shape[0]} rows, item_category {n}")
            self.item_text = (
                text if text.shape[1] <= self.config.text_dim else reduce_matrix(text, self.config.text_dim)
            )
        self.context_columns = tuple(context_columns)
        self.numeric_columns = tuple(numeric_columns)
        self.dense_names = dense_names
        self.feature_config = feature_config or BehaviourFeatureConfig()
        self.network: CTRNetwork | None = None
        self.mean = np.zeros(0, np.float32)
        self.std = np.ones(0, np.float32)
        self.context_sizes: list[int] = []
        self.n_users_embedded = 0
        self.log: InteractionLog | None = None
        self.history: TrainingHistory | None = None
        #: external item ids of dense ids 1..n (set by whoever built the dense ids; saved with the ranker)
        self.item_ids: IdMap | None = None

    @property
    def n_items(self) -> int:
        return int(self.item_category.shape[0] - 1)

    # ------------------------------------------------------------------------------ inputs
    def inputs(self, log: InteractionLog, impressions: pl.DataFrame) -> CTRInputs:
        """Model inputs of ``impressions`` from the events of ``log`` strictly before each one."""
        x, names = build_inputs(
            log,
            impressions,
            item_category=self.item_category,
            item_price_level=self.item_price_level,
            max_len=self.config.max_len,
            feature_config=self.feature_config,
            context_columns=self.context_columns,
            numeric_columns=self.numeric_columns,
            dense_names=self.dense_names,
        )
        self.dense_names = names
        if self.context_sizes:
            sizes = np.asarray(self.context_sizes, dtype=np.int64)[None, :]
            x = CTRInputs(**{**x.__dict__, "context": np.where(x.context <= sizes, x.context, 0)})
        return x

    def _build_network(self, n_dense: int, n_categories: int) -> CTRNetwork:
        cfg = self.config
        text = None if self.item_text is None else torch.from_numpy(self.item_text)
        return CTRNetwork(
            cfg.architecture,
            torch.from_numpy(self.item_category),
            n_categories,
            n_dense,
            self.context_sizes,
            self.n_users_embedded,
            cfg.embed_dim,
            cfg.hidden,
            cfg.dropout,
            cfg.aux_weight,
            text,
        )

    # ------------------------------------------------------------------------------ training
    def fit(self, log: InteractionLog, train: pl.DataFrame, valid: pl.DataFrame | None = None) -> Self:
        """Train on ``train`` impressions (labels 0/1), early-stopping on ``valid`` AUC when given.

        ``log`` holds the behaviour events features are drawn from (only those before each impression
        count, so passing the whole log is safe).
        """
        cfg = self.config
        if train.height == 0 or train.get_column("label").n_unique() < 2:
            raise ValueError("training impressions need both clicked and unclicked rows")
        x = self.inputs(log, train)
        self.mean = x.dense.mean(axis=0).astype(np.float32)
        self.std = np.maximum(x.dense.std(axis=0), 1e-6).astype(np.float32)
        self.context_sizes = [int(v) for v in x.context.max(axis=0)] if x.context.shape[1] else []
        self.n_users_embedded = log.n_users if cfg.user_embedding else 0
        seed_torch(cfg.training.seed)
        self.network = self._build_network(x.dense.shape[1], int(self.item_category.max(initial=0)))
        self.log = log
        data = Examples(x, self.mean, self.std, self.n_items, self.n_users_embedded, cfg.aux_weight > 0)
        validate = None
        if valid is not None and valid.height and valid.get_column("label").n_unique() == 2:
            vx = self.inputs(log, valid)
            labels = vx.label

            def validate() -> dict[str, float]:
                return {cfg.training.monitor: roc_auc(labels > 0.5, self._predict_inputs(vx))}

        self.history = train_loop(self.network, data, cfg.training, validate=validate)
        self.network.to("cpu")
        return self

    # ------------------------------------------------------------------------------ prediction
    def _predict_inputs(self, x: CTRInputs, batch_size: int = 2048) -> NDArray[np.float32]:
        if self.network is None:
            raise RuntimeError("the ranker is not fitted: call fit() or load() first")
        network = self.network
        device = next(network.parameters()).device
        data = Examples(x, self.mean, self.std, self.n_items, self.n_users_embedded, aux=False)
        rng = np.random.default_rng(0)
        out = np.zeros(len(x), dtype=np.float32)
        was_training = network.training
        network.eval()
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                idx = np.arange(start, min(start + batch_size, len(x)), dtype=np.int64)
                batch = move_batch(data.collate(idx, rng), device)
                out[idx] = torch.sigmoid(network.logits(batch)).float().cpu().numpy()
        network.train(was_training)
        return out

    def predict(self, log: InteractionLog, impressions: pl.DataFrame) -> NDArray[np.float32]:
        """Click probability of each impression (``user, item, ts``) given ``log`` events before it."""
        with torch_threads(self.config.training.num_threads):
            return self._predict_inputs(self.inputs(log, impressions))

    def score_candidates(
        self,
        log: InteractionLog,
        users: NDArray[np.integer],
        candidates: NDArray[np.integer],
        at: int,
        extra: dict[str, NDArray[np.floating]] | None = None,
    ) -> NDArray[np.float32]:
        """(B, C) click probabilities of ``candidates[b]`` for dense ``users[b]`` at time ``at`` (us);
        candidate id 0 (padding) scores 0. ``extra``: (B, C) values of numeric impression columns
        (others are 0)."""
        cand = np.asarray(candidates, dtype=np.int64)
        b, c = cand.shape
        frame = pl.DataFrame(
            {
                "user": np.repeat(np.asarray(users, dtype=np.int64), c),
                "item": np.maximum(cand.reshape(-1), 1),
                "ts": np.full(b * c, int(at), dtype=np.int64),
            }
        )
        if self.context_columns or self.numeric_columns:
            frame = frame.with_columns(
                *[pl.lit(0, dtype=pl.Int64).alias(n) for n in self.context_columns],
                *[pl.lit(0.0).alias(n) for n in self.numeric_columns],
            )
        for name, values in (extra or {}).items():
            frame = frame.with_columns(pl.Series(name, np.asarray(values, dtype=np.float64).reshape(-1)))
        probs = self.predict(log, frame).reshape(b, c)
        return np.where(cand > 0, probs, 0.0).astype(np.float32)

    def score(
        self, histories: Histories, candidate_ids: NDArray[np.integer], at: int | None = None
    ) -> NDArray[np.float32]:
        """Serving entry point: (B, C) click probabilities of dense ``candidate_ids`` for the histories.

        Item statistics come from the stored training log; each history replaces its user's stored
        events (anonymous histories, user 0, become new users). ``at`` (us) defaults to just after the
        latest known event. Histories without ``ts`` are taken as happening just before ``at``.
        """
        if self.log is None:
            raise RuntimeError("the ranker holds no log: fit() or load() it first")
        base = self.log
        n = len(histories)
        latest = max(
            int(base.ts.max(initial=0)), int(histories.ts.max(initial=0)) if histories.ts is not None else 0
        )
        now = latest + 1 if at is None else int(at)
        fresh = base.n_users + 1 + np.arange(n, dtype=np.int64)
        rows = histories.row_index()
        keep = ~np.isin(base.user, histories.user[histories.user > 0])
        ts = histories.ts if histories.ts is not None else np.full(rows.shape[0], now - 1, dtype=np.int64)
        event = histories.event if histories.event is not None else np.zeros(rows.shape[0], dtype=np.int8)
        user = np.concatenate([base.user[keep], fresh[rows]])
        item = np.concatenate([base.item[keep], histories.items])
        times = np.concatenate([base.ts[keep], ts])
        order = np.lexsort((times, user))
        merged = InteractionLog(
            user[order],
            item[order],
            times[order],
            np.concatenate([base.event[keep], event])[order],
            np.concatenate([base.value[keep], np.full(rows.shape[0], np.nan, np.float32)])[order],
            base.n_users + n,
            base.n_items,
        )
        return self.score_candidates(merged, fresh, np.asarray(candidate_ids), now)

    def score_items(
        self, histories: Sequence[Sequence[str]], candidates: Sequence[Sequence[str]], at: int | None = None
    ) -> NDArray[np.float32]:
        """Like :meth:`score` with *external* item ids: ``histories[b]`` (oldest first) and ``candidates[b]``
        (rows of equal length). Unknown history items are skipped; unknown candidates score 0 (nan-free).
        Needs ``item_ids`` (saved by ``driftrec rank train`` and ``ctr_experiment``)."""
        if self.item_ids is None:
            raise RuntimeError("the ranker has no item id map: score dense ids with score()")
        encoded = [self.item_ids.encode(pl.Series(list(h), dtype=pl.String)) for h in histories]
        hist = Histories.from_lists([[int(i) for i in row if i > 0] for row in encoded])
        width = max((len(c) for c in candidates), default=0)
        cand = np.zeros((len(candidates), width), dtype=np.int64)
        for b, row in enumerate(candidates):
            cand[b, : len(row)] = self.item_ids.encode(pl.Series(list(row), dtype=pl.String))
        return self.score(hist, cand, at)

    # ------------------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> Path:
        if self.network is None or self.log is None:
            raise RuntimeError("nothing to save: the ranker is not fitted")
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        meta: dict[str, Any] = {
            "model": self.name,
            "format_version": 1,
            "config": self.config.to_dict(),
            "context_columns": list(self.context_columns),
            "numeric_columns": list(self.numeric_columns),
            "dense_names": list(self.dense_names or ()),
            "context_sizes": self.context_sizes,
            "n_users_embedded": self.n_users_embedded,
            "n_users": self.log.n_users,
            "feature_config": {
                "behaviours": list(self.feature_config.behaviours),
                "affinity_weights": dict(self.feature_config.affinity_weights),
                "smoothing": self.feature_config.smoothing,
            },
            "history": None if self.history is None else self.history.to_dict(),
        }
        (out / RANKER_JSON).write_text(json.dumps(meta, indent=2))
        if self.item_ids is not None:
            self.item_ids.save(out / ITEM_IDS)
        arrays = {
            "item_category": self.item_category,
            "item_price_level": self.item_price_level,
            "mean": self.mean,
            "std": self.std,
            "log_user": self.log.user,
            "log_item": self.log.item,
            "log_ts": self.log.ts,
            "log_event": self.log.event,
            "log_value": self.log.value,
        }
        if self.item_text is not None:
            arrays["item_text"] = self.item_text
        save_arrays({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(out / ARRAYS))
        save_file({k: v.contiguous() for k, v in self.network.state_dict().items()}, str(out / WEIGHTS))
        return out

    @classmethod
    def load(cls, directory: str | Path) -> CTRRanker:
        src = Path(directory)
        if not (src / RANKER_JSON).exists():
            raise FileNotFoundError(f"{src} holds no {RANKER_JSON}: is it a saved ranker?")
        meta = json.loads((src / RANKER_JSON).read_text())
        arrays = load_arrays(str(src / ARRAYS))
        cfg_dict = dict(meta["config"])
        config = CTRConfig(**cfg_dict)
        fc = meta["feature_config"]
        ranker = cls(
            config,
            item_category=arrays["item_category"],
            item_price_level=arrays["item_price_level"],
            context_columns=tuple(meta["context_columns"]),
            numeric_columns=tuple(meta["numeric_columns"]),
            dense_names=tuple(meta["dense_names"]),
            feature_config=BehaviourFeatureConfig(
                tuple(fc["behaviours"]), dict(fc["affinity_weights"]), float(fc["smoothing"])
            ),
        )
        ranker.item_text = arrays.get("item_text")
        ranker.mean, ranker.std = arrays["mean"], arrays["std"]
        ranker.context_sizes = [int(v) for v in meta["context_sizes"]]
        ranker.n_users_embedded = int(meta["n_users_embedded"])
        ranker.log = InteractionLog(
            arrays["log_user"],
            arrays["log_item"],
            arrays["log_ts"],
            arrays["log_event"],
            arrays["log_value"],
            int(meta["n_users"]),
            ranker.n_items,
        )
        n_categories = int(ranker.item_category.max(initial=0))
        network = ranker._build_network(len(ranker.mean), n_categories)
        network.load_state_dict(load_file(str(src / WEIGHTS)))
        network.eval()
        ranker.network = network
        if meta.get("history"):
            ranker.history = TrainingHistory.from_dict(meta["history"])
        if (src / ITEM_IDS).exists():
            ranker.item_ids = IdMap.load(src / ITEM_IDS)
        return ranker


def load_ranker(directory: str | Path) -> CTRRanker:
    """Load a ranker written by ``CTRRanker.save`` (e.g. ``<bundle>/ranker``)."""
    return CTRRanker.load(directory)
