"""On-disk embedding cache keyed by text hash, and the loop that fills it: each distinct text is
encoded once per model identity, ever.

Layout: ``<root>/<model-slug>/`` holds ``meta.json`` and append-only shards, each a pair
``<id>.vecs.npy`` (n, d) float32 and ``<id>.keys.npy`` (n, 32) uint8 (sha256 digests). A shard is
written to a temporary name and renamed, vectors before keys, so a reader that sees a keys file also
sees its complete vectors; several processes may append at once because shard ids are random.
Shards are never rewritten, so the in-memory key index only ever needs to learn new shards.
Anything unreadable is logged, deleted and treated as a miss: the cache can always be rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

import numpy as np
from numpy.typing import NDArray

from driftrec.progress import track

__all__ = ["EmbeddingCache", "EmbeddingStats", "TextEncoder", "embed_cached", "model_slug", "text_keys"]

log = logging.getLogger(__name__)

_KEYS: Final = ".keys.npy"
_VECS: Final = ".vecs.npy"
_DIGEST: Final = 32
_SHARD_ROWS: Final = 4096  # flush to disk this often, so an interrupted long run keeps its work


class TextEncoder(Protocol):
    """Turns texts into fixed-width float32 rows."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


@dataclass(frozen=True)
class EmbeddingStats:
    """What one call did, so callers and tests see the cache at work without timing anything."""

    requested: int
    unique: int
    cached: int
    encoded: int
    seconds: float


def text_keys(identity: str, texts: Sequence[str]) -> list[bytes]:
    """sha256(identity + newline + text): the key changes whenever the model or its settings do."""
    prefix = hashlib.sha256((identity + "\n").encode())
    keys = []
    for text in texts:
        digest = prefix.copy()
        digest.update(text.encode())
        keys.append(digest.digest())
    return keys


def model_slug(name: str, identity: str) -> str:
    """A readable, filesystem-safe folder name that is still unique per identity."""
    base = re.sub(r"[^a-z0-9]+", "-", Path(name).name.lower()).strip("-")[:48] or "model"
    return f"{base}-{hashlib.sha256(identity.encode()).hexdigest()[:10]}"


def _save_atomic(path: Path, array: NDArray[np.generic]) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}.npy")
    try:
        with tmp.open("wb") as handle:
            np.save(handle, array, allow_pickle=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class EmbeddingCache:
    """Embeddings of one model identity under ``directory`` (see the module docstring for the layout)."""

    def __init__(self, directory: Path, identity: str) -> None:
        self.directory = directory
        self.identity = identity
        self._index: dict[bytes, tuple[str, int]] = {}
        self._shards: set[str] = set()

    @property
    def dimension(self) -> int | None:
        """The embedding width recorded by an earlier run, so a caller can skip loading the model."""
        try:
            meta = json.loads((self.directory / "meta.json").read_text())
            return int(meta["dimension"]) if meta.get("identity") == self.identity else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def __len__(self) -> int:
        self._refresh()
        return len(self._index)

    def get(self, keys: Sequence[bytes], dimension: int) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
        """(found mask, vectors); rows of keys not found are zeros."""
        self._refresh()
        found = np.zeros(len(keys), dtype=np.bool_)
        out = np.zeros((len(keys), dimension), dtype=np.float32)
        by_shard: dict[str, tuple[list[int], list[int]]] = {}
        for position, key in enumerate(keys):
            hit = self._index.get(key)
            if hit is not None:
                rows, positions = by_shard.setdefault(hit[0], ([], []))
                rows.append(hit[1])
                positions.append(position)
        for shard, (rows, positions) in by_shard.items():
            vectors = self._read_vectors(shard, max(rows) + 1, dimension)
            if vectors is None:
                continue
            out[positions] = vectors[rows]
            found[positions] = True
        return found, out

    def put(self, keys: Sequence[bytes], vectors: NDArray[np.float32]) -> None:
        """Append one shard; failures are logged, never raised, since the cache is only an accelerator."""
        if not keys:
            return
        if vectors.shape[0] != len(keys) or vectors.dtype != np.float32:
            raise ValueError(
                f"expected ({len(keys)}, d) float32 vectors, got {vectors.shape} {vectors.dtype}"
            )
        shard = uuid.uuid4().hex
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._write_meta(int(vectors.shape[1]))
            key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), _DIGEST)
            _save_atomic(self.directory / f"{shard}{_VECS}", np.ascontiguousarray(vectors))
            _save_atomic(self.directory / f"{shard}{_KEYS}", key_array)
        except OSError as exc:
            log.warning(
                "text embedding cache %s is not writable (%s); continuing without it", self.directory, exc
            )
            return
        self._shards.add(shard)
        for row, key in enumerate(keys):
            self._index.setdefault(key, (shard, row))

    def _write_meta(self, dimension: int) -> None:
        path = self.directory / "meta.json"
        if self.dimension == dimension:
            return
        tmp = path.with_name(f".tmp-{uuid.uuid4().hex}.json")
        tmp.write_text(json.dumps({"identity": self.identity, "dimension": dimension}, indent=2))
        os.replace(tmp, path)

    def _refresh(self) -> None:
        """Learn shards written since the last look (by us or another process); forget deleted ones."""
        try:
            present = {p.name[: -len(_KEYS)] for p in self.directory.glob(f"*{_KEYS}")}
        except OSError:
            present = set()
        if self._shards - present:
            self._index = {k: v for k, v in self._index.items() if v[0] in present}
            self._shards &= present
        for shard in sorted(present - self._shards):
            keys = self._read_keys(shard)
            self._shards.add(shard)
            if keys is None:
                continue
            for row, key in enumerate(keys):
                self._index.setdefault(key, (shard, row))

    def _read_keys(self, shard: str) -> list[bytes] | None:
        try:
            keys = np.load(self.directory / f"{shard}{_KEYS}", allow_pickle=False)
            if keys.ndim != 2 or keys.shape[1] != _DIGEST or keys.dtype != np.uint8:
                raise ValueError(f"keys of shape {keys.shape} {keys.dtype}")
        except (OSError, ValueError, EOFError) as exc:
            self._drop(shard, exc)
            return None
        return [bytes(row) for row in keys]

    def _read_vectors(self, shard: str, min_rows: int, dimension: int) -> NDArray[np.float32] | None:
        try:
            vectors = np.load(self.directory / f"{shard}{_VECS}", mmap_mode="r", allow_pickle=False)
            if vectors.ndim != 2 or vectors.shape[0] < min_rows or vectors.shape[1] != dimension:
                raise ValueError(f"vectors of shape {vectors.shape}, expected (>={min_rows}, {dimension})")
            if vectors.dtype != np.float32:
                raise ValueError(f"vectors of dtype {vectors.dtype}")
        except (OSError, ValueError, EOFError) as exc:
            self._drop(shard, exc)
            return None
        return np.asarray(vectors)

    def _drop(self, shard: str, reason: BaseException) -> None:
        log.warning(
            "dropping unreadable text embedding cache shard %s/%s (%s)", self.directory, shard, reason
        )
        self._index = {k: v for k, v in self._index.items() if v[0] != shard}
        for suffix in (_KEYS, _VECS):
            with contextlib.suppress(OSError):
                (self.directory / f"{shard}{suffix}").unlink(missing_ok=True)


def embed_cached(
    texts: Sequence[str],
    cache: EmbeddingCache,
    load: Callable[[], TextEncoder],
    batch_size: int,
    progress: bool | None = None,
) -> tuple[NDArray[np.float32], EmbeddingStats]:
    """Embed ``texts`` through ``cache``; ``load`` is called only if something must be encoded.

    Identical texts are encoded once; the rest are sorted by length so that a batch pads little.
    """
    started = time.perf_counter()
    if isinstance(texts, str) or not all(isinstance(text, str) for text in texts):
        raise TypeError("texts must be a sequence of strings")
    unique = list(dict.fromkeys(texts))
    position = {text: i for i, text in enumerate(unique)}
    inverse = np.fromiter((position[text] for text in texts), dtype=np.int64, count=len(texts))
    encoder = None
    dimension = cache.dimension
    if dimension is None:  # first use of this cache: only the model knows the width
        encoder = load()
        dimension = encoder.dimension
    keys = text_keys(cache.identity, unique)
    found, vectors = cache.get(keys, dimension)
    missing = np.flatnonzero(~found).tolist()
    if missing:
        encoder = encoder or load()
        if encoder.dimension != dimension:
            raise RuntimeError(
                f"{cache.directory} holds {dimension}-d vectors but {encoder.name} gives "
                f"{encoder.dimension}-d; delete that folder"
            )
        missing.sort(key=lambda i: -len(unique[i]))
        batches = [missing[start : start + batch_size] for start in range(0, len(missing), batch_size)]
        enabled = progress if progress is not None else (None if len(batches) > 1 else False)
        pending: list[int] = []
        label = f"embedding {len(missing)} texts ({encoder.name})"
        for batch in track(batches, label, total=len(batches), enabled=enabled):
            vectors[batch] = encoder.encode([unique[i] for i in batch])
            pending.extend(batch)
            if len(pending) >= _SHARD_ROWS:
                cache.put([keys[i] for i in pending], vectors[pending])
                pending = []
        cache.put([keys[i] for i in pending], vectors[pending])
    stats = EmbeddingStats(
        len(texts), len(unique), len(unique) - len(missing), len(missing), time.perf_counter() - started
    )
    log.info(
        "text embeddings: %d texts, %d distinct, %d from cache, %d encoded in %.2f s (%s)",
        stats.requested,
        stats.unique,
        stats.cached,
        stats.encoded,
        stats.seconds,
        cache.directory.name,
    )
    return vectors[inverse], stats
