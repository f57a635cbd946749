"""The retrieval index: exact search equals brute force, exclusion, runtime adds, ANN recall vs exact."""

from __future__ import annotations

import numpy as np
import pytest

from driftrec.serving.index import IndexConfig, ItemIndex, measure_recall


def _clustered(n: int, dim: int, seed: int, centres: int = 40) -> np.ndarray:
    """Mixture-of-Gaussians vectors: item embeddings are clustered by category, not uniform noise."""
    rng = np.random.default_rng(seed)
    c = np.random.default_rng(1234).normal(size=(centres, dim))
    return (c[rng.integers(0, centres, n)] + 0.35 * rng.normal(size=(n, dim))).astype(np.float32)


@pytest.fixture(scope="module")
def catalogue() -> tuple[np.ndarray, np.ndarray]:
    vectors = _clustered(4000, 24, seed=0)
    ids = np.arange(4000, dtype=np.int64) * 3 + 11  # sparse, non-positional ids
    return ids, vectors


def _brute_force(ids: np.ndarray, vectors: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    scores = q @ vectors.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return ids[order]


def test_exact_equals_numpy_brute_force(catalogue: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = catalogue
    index = ItemIndex.build(ids, vectors, IndexConfig(kind="exact"))
    assert index.kind == "exact" and len(index) == 4000
    q = _clustered(30, 24, seed=5)
    scores, got = index.search(q, 10)
    want = _brute_force(ids, vectors, q, 10)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(
        scores, np.take_along_axis(q @ vectors.T, np.searchsorted(ids, want), 1), rtol=1e-4
    )
    assert np.all(np.diff(scores, axis=1) <= 1e-5)  # sorted best first


def test_auto_picks_exact_below_threshold_and_ann_above() -> None:
    vecs = _clustered(600, 8, seed=1)
    ids = np.arange(600)
    assert ItemIndex.build(ids, vecs, IndexConfig(exact_below=1000)).kind == "exact"
    assert ItemIndex.build(ids, vecs, IndexConfig(exact_below=500, ann="hnsw")).kind == "hnsw"
    assert ItemIndex.build(ids, vecs, IndexConfig(exact_below=500, ann="ivf")).kind == "ivf"


@pytest.mark.parametrize("kind", ["exact", "ivf", "hnsw"])
def test_excluded_ids_are_never_returned_and_rows_refill(
    catalogue: tuple[np.ndarray, np.ndarray], kind: str
) -> None:
    ids, vectors = catalogue
    index = ItemIndex.build(ids, vectors, IndexConfig(kind=kind))  # type: ignore[arg-type]
    q = _clustered(5, 24, seed=9)
    _, top = index.search(q, 20)
    exclude = [row[:15] for row in top]  # drop most of each row's own top-20
    _, got = index.search(q, 10, exclude=exclude)
    for row, excl in zip(got, exclude, strict=True):
        assert not np.isin(row, excl).any()
        assert (row >= 0).all() and np.unique(row).size == 10  # over-fetch filled the row


def test_padding_when_catalogue_smaller_than_k() -> None:
    index = ItemIndex.build(np.array([5, 9]), np.eye(2, dtype=np.float32), IndexConfig(kind="exact"))
    scores, ids = index.search(np.array([[1.0, 0.0]], dtype=np.float32), 4, exclude=[np.array([9])])
    assert ids.tolist() == [[5, -1, -1, -1]]
    assert scores[0, 0] == pytest.approx(1.0) and np.isneginf(scores[0, 1:]).all()


@pytest.mark.parametrize("kind", ["exact", "ivf", "hnsw"])
def test_item_added_at_runtime_is_found(catalogue: tuple[np.ndarray, np.ndarray], kind: str) -> None:
    ids, vectors = catalogue
    index = ItemIndex.build(ids, vectors, IndexConfig(kind=kind))  # type: ignore[arg-type]
    new_vec = vectors[:1] * 10.0  # far out along a populated direction: the top hit for that query
    index.add(np.array([999_999]), new_vec)
    assert len(index) == 4001 and 999_999 in index
    _, got = index.search(vectors[:1], 5)
    assert got[0, 0] == 999_999
    np.testing.assert_allclose(index.vectors([999_999]), new_vec)
    with pytest.raises(ValueError, match="already indexed"):
        index.add(np.array([999_999]), new_vec)


def test_many_runtime_adds_grow_the_store() -> None:
    index = ItemIndex.build(np.arange(3), np.eye(3, dtype=np.float32), IndexConfig(kind="exact"))
    rng = np.random.default_rng(0)
    extra = rng.normal(size=(100, 3)).astype(np.float32)
    index.add(np.arange(3, 103), extra)
    assert len(index) == 103 and index.item_ids.tolist() == list(range(103))
    np.testing.assert_allclose(index.vectors(np.arange(3, 103)), extra)


@pytest.mark.parametrize(("kind", "threshold"), [("ivf", 0.9), ("hnsw", 0.9)])
def test_ann_recall_against_exact(
    catalogue: tuple[np.ndarray, np.ndarray], kind: str, threshold: float
) -> None:
    ids, vectors = catalogue
    exact = ItemIndex.build(ids, vectors, IndexConfig(kind="exact"))
    ann = ItemIndex.build(ids, vectors, IndexConfig(kind=kind, nprobe=8, ef_search=64))  # type: ignore[arg-type]
    recall = measure_recall(ann, exact, _clustered(200, 24, seed=3), k=10)
    assert threshold <= recall <= 1.0


def test_measure_recall_detects_a_bad_index(catalogue: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = catalogue
    exact = ItemIndex.build(ids, vectors, IndexConfig(kind="exact"))
    # An index over a different half of the catalogue cannot reach the exact top-10 of the full one.
    half = ItemIndex.build(ids[::2], vectors[::2], IndexConfig(kind="exact"))
    assert measure_recall(half, exact, _clustered(50, 24, seed=4), k=10) < 0.8


def test_invalid_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="kind"):
        IndexConfig(kind="lsh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nprobe"):
        IndexConfig(nprobe=0)
    with pytest.raises(ValueError, match="duplicates"):
        ItemIndex.build(np.array([1, 1]), np.ones((2, 2), dtype=np.float32))
    index = ItemIndex.build(np.array([1, 2]), np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match="dimension"):
        index.search(np.ones((1, 3), dtype=np.float32), 1)
    with pytest.raises(ValueError, match="k must be"):
        index.search(np.ones((1, 2), dtype=np.float32), 0)
    with pytest.raises(ValueError, match="NaN"):
        index.add(np.array([3]), np.array([[np.nan, 0.0]]))
    with pytest.raises(KeyError):
        index.vectors([42])


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_ann_recall_on_unnormalised_vectors(kind: str) -> None:
    """Model embeddings carry popularity in their norms; the MIPS->L2 transform keeps ANN recall high."""
    rng = np.random.default_rng(7)
    vectors = _clustered(4000, 24, seed=8) * rng.lognormal(0.0, 0.5, size=(4000, 1)).astype(np.float32)
    ids = np.arange(4000, dtype=np.int64)
    exact = ItemIndex.build(ids, vectors, IndexConfig(kind="exact"))
    ann = ItemIndex.build(ids, vectors, IndexConfig(kind=kind, nprobe=8, ef_search=64))  # type: ignore[arg-type]
    queries = _clustered(200, 24, seed=9)
    assert measure_recall(ann, exact, queries, k=10) >= 0.9
    # scores are exact inner products, best first
    scores, got = ann.search(queries[:3], 10)
    np.testing.assert_allclose(scores, np.einsum("qkd,qd->qk", vectors[got], queries[:3]), rtol=1e-4)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)
