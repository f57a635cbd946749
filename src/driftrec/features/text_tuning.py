"""Light fine-tuning of the item-text encoder on behaviour pairs (DESIGN.md §6).

A pretrained sentence encoder knows what words mean, not which items shoppers treat as related:
"phone case" and "screen protector" read differently yet are bought one after the other. Here
the top few Transformer layers learn from pairs of items that users move between (consecutive
distinct items of the *training* split), with in-batch negatives, while the embeddings and lower
layers stay frozen, so the model keeps its language knowledge and a CPU is enough (docs/sequential.md).

The loop is plain torch around sentence-transformers' own ``MultipleNegativesRankingLoss``, not
``SentenceTransformerTrainer``: the trainer needs the ``datasets`` and ``accelerate`` packages,
which driftrec does not otherwise depend on, for what is here a twenty-line loop. The result is
an ordinary sentence-transformers folder: ``TextEncoderConfig(model=str(path))`` uses it.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.idmap import IdMap
from driftrec.data.interactions import InteractionLog
from driftrec.features.text import (
    _DEVICE,
    BUILTIN_MODEL,
    DEFAULT_TEXT_FIELDS,
    TextEncoderConfig,
    _is_count,
    _resolve_device,
    _torch_threads,
    item_texts_by_id,
    load_sentence_transformer,
    model_identity,
)
from driftrec.progress import track

__all__ = [
    "TUNING_FILE",
    "TextTuningConfig",
    "behaviour_pairs",
    "fine_tune_text_encoder",
    "tune_item_text_encoder",
]

logger = logging.getLogger(__name__)  # not `log`: that names the InteractionLog here

TUNING_FILE = "driftrec_tuning.json"


@dataclass(frozen=True)
class TextTuningConfig:
    """What to tune and how. Only the top ``train_layers`` Transformer layers learn; all else is frozen.

    ``max_pairs`` caps the training pairs (a seeded subset), which bounds the cost on a CPU;
    ``num_threads`` caps torch threads during training only; ``device=None`` picks CUDA when seen.
    """

    base_model: str = BUILTIN_MODEL
    train_layers: int = 2
    epochs: int = 1
    batch_size: int = 64
    lr: float = 5e-5
    max_pairs: int = 20_000
    max_seq_length: int = 64
    seed: int = 0
    num_threads: int | None = None
    device: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.base_model, str) or not self.base_model.strip():
            raise ValueError(f"base_model must be a non-empty model name or path, got {self.base_model!r}")
        for name in ("train_layers", "epochs", "max_pairs", "max_seq_length"):
            if not _is_count(getattr(self, name)):
                raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
        if not _is_count(self.batch_size) or self.batch_size < 2:
            raise ValueError(
                f"batch_size must be an integer >= 2 (in-batch negatives), got {self.batch_size!r}"
            )
        if isinstance(self.lr, bool) or not isinstance(self.lr, int | float) or not 0 < self.lr < math.inf:
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        if self.num_threads is not None and not _is_count(self.num_threads):
            raise ValueError(f"num_threads must be None or an integer >= 1, got {self.num_threads!r}")
        if self.device is not None and not (isinstance(self.device, str) and _DEVICE.match(self.device)):
            raise ValueError(f"device must be None, 'cpu', 'cuda', 'cuda:N' or 'mps', got {self.device!r}")


def _consecutive_pairs(log: InteractionLog) -> NDArray[np.int64]:
    """All distinct unordered pairs (low id, high id) of consecutive distinct items of one user, sorted."""
    a, b = log.item[:-1], log.item[1:]
    keep = (log.user[:-1] == log.user[1:]) & (a != b) & (a > 0) & (b > 0)
    pairs = np.stack([np.minimum(a, b)[keep], np.maximum(a, b)[keep]], axis=1).astype(np.int64)
    return np.unique(pairs.reshape(-1, 2), axis=0)


def _subset(pairs: NDArray[np.int64], max_pairs: int, seed: int) -> NDArray[np.int64]:
    """A seeded random subset of at most ``max_pairs`` rows, kept in their original order."""
    if pairs.shape[0] <= max_pairs:
        return pairs
    rows = np.sort(np.random.default_rng(seed).choice(pairs.shape[0], size=max_pairs, replace=False))
    return pairs[rows]


def behaviour_pairs(log: InteractionLog, max_pairs: int, seed: int) -> NDArray[np.int64]:
    """(n, 2) dense item ids of items shoppers moved between: consecutive distinct items in a user's
    sequence, deduplicated as unordered pairs (low id first), a seeded subset of at most ``max_pairs``.

    Pass the *training* split only: pairs from validation or test events would leak the answers
    into the text vectors a model is then evaluated with.
    """
    if not _is_count(max_pairs):
        raise ValueError(f"max_pairs must be an integer >= 1, got {max_pairs!r}")
    return _subset(_consecutive_pairs(log), max_pairs, seed)


def _top_layers(model: Any, k: int) -> Any:
    """The last ``k`` layers of a BERT-like encoder under a sentence-transformers model."""
    try:
        layers = model[0].auto_model.encoder.layer
    except (AttributeError, IndexError, TypeError, KeyError) as exc:
        raise ValueError(
            "fine-tuning needs a BERT-like sentence-transformers model (model[0].auto_model.encoder.layer); "
            f"{type(model).__name__} has no such structure"
        ) from exc
    if k > len(layers):
        raise ValueError(f"train_layers={k} exceeds the {len(layers)} Transformer layers of the model")
    return layers[-k:]


def _freeze_all_but_top(model: Any, k: int) -> list[Any]:
    """Freeze every parameter, then unfreeze the top ``k`` layers; returns the trainable parameters."""
    top = _top_layers(model, k)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for parameter in top.parameters():
        parameter.requires_grad_(True)
    return [parameter for parameter in model.parameters() if parameter.requires_grad]


def _check_texts(texts_a: Sequence[str], texts_b: Sequence[str]) -> None:
    for name, texts in (("texts_a", texts_a), ("texts_b", texts_b)):
        if isinstance(texts, str) or not all(isinstance(text, str) for text in texts):
            raise TypeError(f"{name} must be a sequence of strings")
    if len(texts_a) != len(texts_b):
        raise ValueError(f"texts_a and texts_b must pair up, got {len(texts_a)} and {len(texts_b)} texts")
    if len(texts_a) < 2:
        raise ValueError(f"at least 2 pairs are needed (in-batch negatives), got {len(texts_a)}")


def _batches(n: int, config: TextTuningConfig) -> list[NDArray[np.int64]]:
    """Shuffled batches for every epoch from a seeded generator; a last batch of one pair is dropped."""
    rng = np.random.default_rng(config.seed)
    out = []
    for _ in range(config.epochs):
        order = rng.permutation(n)
        out += [order[s : s + config.batch_size] for s in range(0, n, config.batch_size)]
    return [batch for batch in out if batch.shape[0] >= 2]


def _mean_loss(losses: Sequence[float], first: bool) -> float:
    """Mean over the first (or last) 10% of steps, at least one step."""
    span = max(1, math.ceil(0.1 * len(losses)))
    return float(np.mean(losses[:span] if first else losses[-span:]))


def _features(model: Any, texts: list[str], device: str) -> dict[str, Any]:
    """Tokenised texts on ``device`` (non-tensor entries, such as a modality tag, pass through)."""
    tokenize = getattr(model, "preprocess", None) or model.tokenize  # tokenize is deprecated in 6.x
    return {
        key: value.to(device) if hasattr(value, "to") else value for key, value in tokenize(texts).items()
    }


def _train(
    model: Any,
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    config: TextTuningConfig,
    device: str,
    progress: bool | None,
) -> list[float]:
    """The training loop proper; returns the loss of every step."""
    import torch

    try:
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    except ImportError:  # sentence-transformers 5.x
        from sentence_transformers.losses import MultipleNegativesRankingLoss  # type: ignore[no-redef]

    trainable = _freeze_all_but_top(model, config.train_layers)
    loss_fn = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(trainable, lr=config.lr)
    batches = _batches(len(texts_a), config)
    losses: list[float] = []
    torch.manual_seed(config.seed)  # dropout; the caller's RNG state is forked and restored around this
    model.train()
    label = f"tuning text encoder ({len(texts_a)} pairs)"
    for batch in track(batches, label, total=len(batches), enabled=progress):
        rows = batch.tolist()
        features = [
            _features(model, [texts_a[i] for i in rows], device),
            _features(model, [texts_b[i] for i in rows], device),
        ]
        loss = loss_fn(features, labels=None)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


def fine_tune_text_encoder(
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    config: TextTuningConfig,
    out_dir: str | Path,
    progress: bool | None = None,
) -> Path:
    """Tune ``config.base_model`` so that ``texts_a[i]`` and ``texts_b[i]`` embed close; save to ``out_dir``.

    Loads a private copy of the model (the shared one of :func:`load_encoder` is never changed) and
    writes a sentence-transformers folder plus ``driftrec_tuning.json`` (config, pairs, steps, loss,
    seconds). The same seed gives the same weights on a CPU. ``progress=None``: a bar on a terminal.
    """
    import torch

    _check_texts(texts_a, texts_b)
    started = time.perf_counter()
    device = _resolve_device(config.device)
    model = load_sentence_transformer(config.base_model, device, config.max_seq_length)
    cuda = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with _torch_threads(config.num_threads), torch.random.fork_rng(devices=cuda):
        losses = _train(model, texts_a, texts_b, config, device, progress)
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    first, last = _mean_loss(losses, first=True), _mean_loss(losses, first=False)
    seconds = time.perf_counter() - started
    report = {
        "config": asdict(config),
        "pairs": len(texts_a),
        "steps": len(losses),
        "first_loss": first,
        "last_loss": last,
        "seconds": round(seconds, 3),
        "base_model_identity": model_identity(
            TextEncoderConfig(model=config.base_model, max_seq_length=config.max_seq_length)
        ),
    }
    (out / TUNING_FILE).write_text(json.dumps(report, indent=2))
    logger.info(
        "tuned text encoder on %d pairs, %d steps, %.1f s: loss %.4f -> %.4f (first/last 10%% of steps); %s",
        len(texts_a),
        len(losses),
        seconds,
        first,
        last,
        out,
    )
    return out


def tune_item_text_encoder(
    log: InteractionLog,
    item_ids: IdMap,
    items: pl.DataFrame,
    config: TextTuningConfig,
    out_dir: str | Path,
    fields: Sequence[str] = DEFAULT_TEXT_FIELDS,
    progress: bool | None = None,
) -> Path:
    """Fine-tune on the behaviour pairs of ``log`` (the training split only) with the items' texts.

    Texts are aligned with dense ids exactly as :func:`item_text_matrix` aligns them; pairs where
    either item has no text are dropped before the ``max_pairs`` subset is drawn.
    """
    texts = item_texts_by_id(item_ids, items, fields)
    if len(log) and int(log.item.max()) >= len(texts):
        raise ValueError(f"the log has item id {int(log.item.max())} but item_ids holds only {len(item_ids)}")
    pairs = _consecutive_pairs(log)
    has_text = np.array([text != "" for text in texts], dtype=np.bool_)
    pairs = _subset(pairs[has_text[pairs].all(axis=1)], config.max_pairs, config.seed)
    if pairs.shape[0] < 2:
        raise ValueError(
            f"no usable behaviour pairs: {pairs.shape[0]} pairs of consecutive distinct items with text "
            "(at least 2 are needed)"
        )
    texts_a = [texts[i] for i in pairs[:, 0].tolist()]
    texts_b = [texts[i] for i in pairs[:, 1].tolist()]
    return fine_tune_text_encoder(texts_a, texts_b, config, out_dir, progress)
