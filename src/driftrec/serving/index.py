"""Retrieval index over item vectors: exact for small catalogues, FAISS ANN (IVF or HNSW) above a threshold.

Scores are inner products, the same score a sequence model gives an item (user state . item embedding), so
the index returns exactly what full-catalogue scoring would for the exact kind, and an approximation whose
recall against exact is measured (``measure_recall``) for the ANN kinds. Items can be added at runtime; the
id <-> vector map is kept here so that similar-item look-ups need no model.

Model embeddings are not unit vectors (their norms carry popularity), and graph/cluster indexes built
directly on inner product find the top of such a ranking badly. The ANN kinds therefore use the classic
reduction of maximum inner product search to nearest neighbours (Bachrach et al., RecSys 2014): item x
becomes [x, sqrt(M^2 - |x|^2)] and query q becomes [q, 0], so that the L2 order of the augmented vectors is
the inner-product order of the originals. Candidates are then re-scored exactly with the stored vectors.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

import faiss
import numpy as np

__all__ = ["IndexConfig", "IndexKind", "ItemIndex", "measure_recall"]

IndexKind = Literal["auto", "exact", "ivf", "hnsw"]
_KINDS = ("auto", "exact", "ivf", "hnsw")


@dataclass(frozen=True)
class IndexConfig:
    """How to index; ``auto`` is exact below ``exact_below`` items and ``ann`` at or above it.

    ``nlist`` of None picks about 4 * sqrt(n) inverted lists (the FAISS rule of thumb, capped at n / 39).
    ``ef_search`` and ``nprobe`` trade recall for speed at query time; ``hnsw_m`` and
    ``ef_construction`` at build time. ``mips_transform`` (ANN kinds only) searches the augmented L2 space
    described in the module docstring; ``norm_headroom`` leaves room for items added later with larger
    norms (items beyond it go to a small exact side index searched with every query).
    """

    kind: IndexKind = "auto"
    exact_below: int = 50_000
    ann: Literal["ivf", "hnsw"] = "hnsw"
    nlist: int | None = None
    nprobe: int = 16
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 64
    train_sample: int = 100_000
    mips_transform: bool = True
    norm_headroom: float = 1.05
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"IndexConfig.kind must be one of {_KINDS}, got {self.kind!r}")
        if self.ann not in ("ivf", "hnsw"):
            raise ValueError(f"IndexConfig.ann must be 'ivf' or 'hnsw', got {self.ann!r}")
        for name in ("exact_below", "nprobe", "hnsw_m", "ef_construction", "ef_search", "train_sample"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"IndexConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not self.norm_headroom >= 1.0:
            raise ValueError(f"IndexConfig.norm_headroom must be >= 1, got {self.norm_headroom}")
        if self.nlist is not None and self.nlist < 1:
            raise ValueError(f"IndexConfig.nlist must be >= 1 or None, got {self.nlist}")

    def resolve(self, n_items: int) -> Literal["exact", "ivf", "hnsw"]:
        """The concrete kind for a catalogue of ``n_items``."""
        if self.kind == "auto":
            return "exact" if n_items < self.exact_below else self.ann
        return self.kind


def _as_vectors(vectors: np.ndarray, dim: int | None = None) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if arr.ndim != 2:
        raise ValueError(f"vectors must be a 2-d array (n, d), got shape {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"vectors have dimension {arr.shape[1]}, the index has {dim}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("vectors contain NaN or infinite values")
    return arr


def _as_ids(item_ids: np.ndarray, n: int) -> np.ndarray:
    ids = np.ascontiguousarray(np.asarray(item_ids, dtype=np.int64))
    if ids.ndim != 1 or ids.shape[0] != n:
        raise ValueError(f"item_ids must be 1-d with one id per vector ({n}), got shape {ids.shape}")
    if ids.size and ids.min() < 0:
        raise ValueError("item ids must be >= 0 (-1 marks padding in search results)")
    if np.unique(ids).size != ids.size:
        raise ValueError("item_ids contain duplicates")
    return ids


def _build_faiss(kind: str, vectors: np.ndarray, config: IndexConfig) -> faiss.Index:
    """An ID-mapped FAISS index; ``vectors`` are already augmented when the MIPS transform is on."""
    n, dim = vectors.shape
    metric = faiss.METRIC_L2 if config.mips_transform and kind != "exact" else faiss.METRIC_INNER_PRODUCT
    if kind == "exact":
        return faiss.IndexIDMap(faiss.IndexFlatIP(dim))
    if kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, config.hnsw_m, metric)
        hnsw.hnsw.efConstruction = config.ef_construction
        hnsw.hnsw.efSearch = config.ef_search
        return faiss.IndexIDMap(hnsw)
    # FAISS k-means wants >= 39 training points per list; the sqrt rule alone breaks that for small n.
    nlist = config.nlist or max(1, min(int(4 * np.sqrt(max(n, 1))), n // 39))
    nlist = min(nlist, max(1, n))
    quantizer = faiss.IndexFlatL2(dim) if metric == faiss.METRIC_L2 else faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, metric)
    rng = np.random.default_rng(config.seed)
    sample = (
        vectors if n <= config.train_sample else vectors[rng.choice(n, config.train_sample, replace=False)]
    )
    ivf.cp.seed = config.seed
    ivf.train(sample)
    ivf.nprobe = min(config.nprobe, nlist)
    return faiss.IndexIDMap(ivf)


@dataclass
class ItemIndex:
    """Item ids and vectors behind one FAISS index, searchable by inner product, growable at runtime.

    Use ``ItemIndex.build``. Search and add hold a lock: FAISS does not allow adding while searching.
    """

    config: IndexConfig
    kind: Literal["exact", "ivf", "hnsw"]
    dim: int
    _index: faiss.Index
    _vectors: np.ndarray
    _ids: np.ndarray
    _size: int
    _max_norm: float = 0.0  # M of the MIPS transform (0 when it is off)
    _overflow: faiss.Index | None = None  # exact side index for added items with norm > M
    _row_of: dict[int, int] = field(default_factory=dict)
    _rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # id -> row, -1: none
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def build(cls, item_ids: np.ndarray, vectors: np.ndarray, config: IndexConfig | None = None) -> ItemIndex:
        """Index ``vectors`` (n, d) under ``item_ids`` (n,); the kind follows ``config`` and the size."""
        config = config or IndexConfig()
        vecs = _as_vectors(vectors)
        ids = _as_ids(item_ids, vecs.shape[0])
        if vecs.shape[1] < 1:
            raise ValueError("vectors must have at least one dimension")
        kind = config.resolve(vecs.shape[0])
        if kind == "ivf" and vecs.shape[0] == 0:
            raise ValueError(
                "an IVF index needs vectors to train on; use kind='exact' for an empty catalogue"
            )
        transform = config.mips_transform and kind != "exact"
        norms = np.linalg.norm(vecs, axis=1) if vecs.shape[0] else np.zeros(1)
        max_norm = float(norms.max()) * config.norm_headroom if transform else 0.0
        searchable = _augment(vecs, max_norm) if transform else vecs
        index = _build_faiss(kind, searchable, config)
        if vecs.shape[0]:
            index.add_with_ids(searchable, ids)
        capacity = max(16, vecs.shape[0])
        store = np.zeros((capacity, vecs.shape[1]), dtype=np.float32)
        store[: vecs.shape[0]] = vecs
        id_store = np.full(capacity, -1, dtype=np.int64)
        id_store[: ids.shape[0]] = ids
        return cls(
            config=config,
            kind=kind,
            dim=int(vecs.shape[1]),
            _index=index,
            _vectors=store,
            _ids=id_store,
            _size=int(vecs.shape[0]),
            _max_norm=max_norm,
            _row_of={int(i): row for row, i in enumerate(ids.tolist())},
            _rows=_row_array(ids, np.arange(ids.shape[0], dtype=np.int64)),
        )

    def __len__(self) -> int:
        return self._size

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, int | np.integer) and int(item_id) in self._row_of

    @property
    def item_ids(self) -> np.ndarray:
        """All indexed ids, in insertion order (a copy)."""
        with self._lock:
            return self._ids[: self._size].copy()

    def vectors(self, item_ids: np.ndarray | list[int]) -> np.ndarray:
        """The stored vectors of ``item_ids`` (KeyError for an unknown id)."""
        with self._lock:
            rows = [self._row_of[int(i)] for i in np.asarray(item_ids, dtype=np.int64).ravel()]
            return self._vectors[rows].copy()

    def add(self, item_ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Add new items; they are returned by the very next search. Re-adding a known id is an error."""
        vecs = _as_vectors(vectors, self.dim)
        ids = _as_ids(np.asarray(item_ids), vecs.shape[0])
        if ids.size == 0:
            return
        with self._lock:
            known = [int(i) for i in ids.tolist() if int(i) in self._row_of]
            if known:
                raise ValueError(f"item ids already indexed: {known[:10]}")
            if self._max_norm:
                # Items beyond M cannot be placed on the sphere; they go to a small exact side index.
                over = np.linalg.norm(vecs, axis=1) > self._max_norm
                if (~over).any():
                    self._index.add_with_ids(_augment(vecs[~over], self._max_norm), ids[~over])
                if over.any():
                    if self._overflow is None:
                        self._overflow = faiss.IndexIDMap(faiss.IndexFlatIP(self.dim))
                    self._overflow.add_with_ids(np.ascontiguousarray(vecs[over]), ids[over])
            else:
                self._index.add_with_ids(vecs, ids)
            need = self._size + ids.shape[0]
            if need > self._vectors.shape[0]:
                capacity = max(need, 2 * self._vectors.shape[0])
                grown = np.zeros((capacity, self.dim), dtype=np.float32)
                grown[: self._size] = self._vectors[: self._size]
                grown_ids = np.full(capacity, -1, dtype=np.int64)
                grown_ids[: self._size] = self._ids[: self._size]
                self._vectors, self._ids = grown, grown_ids
            self._vectors[self._size : need] = vecs
            self._ids[self._size : need] = ids
            for offset, i in enumerate(ids.tolist()):
                self._row_of[int(i)] = self._size + offset
            new_rows = np.arange(self._size, need, dtype=np.int64)
            if int(ids.max()) >= self._rows.shape[0]:
                grown_rows = np.full(max(int(ids.max()) + 1, 2 * self._rows.shape[0]), -1, dtype=np.int64)
                grown_rows[: self._rows.shape[0]] = self._rows
                self._rows = grown_rows
            self._rows[ids] = new_rows
            self._size = need

    def _raw_search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "hnsw":
            # Not in faiss's bundled stubs, present at runtime; efSearch must be >= k to return k results.
            params = getattr(faiss, "SearchParametersHNSW")(efSearch=max(self.config.ef_search, k))  # noqa: B009
        else:
            params = None
        q = np.hstack([queries, np.zeros((queries.shape[0], 1), np.float32)]) if self._max_norm else queries
        scores, ids = self._index.search(np.ascontiguousarray(q), k, params=params)
        ids = np.asarray(ids, dtype=np.int64)
        if not self._max_norm:
            return np.asarray(scores, dtype=np.float32), ids
        if self._overflow is not None and self._overflow.ntotal:
            _, extra = self._overflow.search(queries, min(k, int(self._overflow.ntotal)))
            ids = np.hstack([ids, np.asarray(extra, dtype=np.int64)])
        # L2 distances in the augmented space -> exact inner products from the stored vectors, best first
        found = ids >= 0
        rows = self._rows[np.where(found, ids, 0)]
        exact = np.einsum("nkd,nd->nk", self._vectors[rows], queries).astype(np.float32, copy=False)
        exact[~found] = -np.inf
        order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(exact, order, 1), np.take_along_axis(ids, order, 1)

    def search(
        self, queries: np.ndarray, k: int, exclude: list[np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` items by inner product for each query row: (scores (n, k), ids (n, k)).

        ``exclude[i]`` ids are never returned for query ``i`` (the index is over-fetched by the longest
        exclusion list, then filtered). Rows with fewer than ``k`` results are padded with id -1 and
        score -inf.
        """
        q = _as_vectors(queries, self.dim)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if exclude is not None and len(exclude) != q.shape[0]:
            raise ValueError(f"exclude needs one array per query ({q.shape[0]}), got {len(exclude)}")
        n = q.shape[0]
        out_scores = np.full((n, k), -np.inf, dtype=np.float32)
        out_ids = np.full((n, k), -1, dtype=np.int64)
        with self._lock:
            if n == 0 or self._size == 0:
                return out_scores, out_ids
            excl = (
                [np.unique(np.asarray(e, dtype=np.int64)) for e in exclude] if exclude is not None else None
            )
            extra = max((e.size for e in excl), default=0) if excl is not None else 0
            fetch = min(k + extra, self._size)
            scores, ids = self._raw_search(q, fetch)
        for row in range(n):
            keep = ids[row] >= 0
            if excl is not None and excl[row].size:
                keep &= ~np.isin(ids[row], excl[row])
            row_ids, row_scores = ids[row][keep][:k], scores[row][keep][:k]
            out_ids[row, : row_ids.size] = row_ids
            out_scores[row, : row_scores.size] = row_scores
        return out_scores, out_ids


def _row_array(ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A dense id -> row look-up (ids are small non-negative ints here: dense item ids)."""
    out = np.full(int(ids.max()) + 1 if ids.size else 0, -1, dtype=np.int64)
    out[ids] = rows
    return out


def _augment(vectors: np.ndarray, max_norm: float) -> np.ndarray:
    """[x, sqrt(M^2 - |x|^2)]: every row gets norm M, so L2 order equals inner-product order."""
    sq = np.maximum(max_norm**2 - np.einsum("ij,ij->i", vectors, vectors), 0.0)
    return np.ascontiguousarray(np.hstack([vectors, np.sqrt(sq)[:, None]]), dtype=np.float32)


def measure_recall(index: ItemIndex, exact_index: ItemIndex, queries: np.ndarray, k: int) -> float:
    """Mean fraction of the exact top-``k`` that ``index`` also returns in its top-``k`` (recall@k)."""
    _, approx = index.search(queries, k)
    _, truth = exact_index.search(queries, k)
    hits, total = 0, 0
    for a_row, t_row in zip(approx, truth, strict=True):
        wanted = t_row[t_row >= 0]
        hits += int(np.isin(wanted, a_row[a_row >= 0]).sum())
        total += int(wanted.size)
    return hits / total if total else 1.0
