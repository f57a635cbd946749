"""Item-kNN similarities against cosine worked out directly, pruning, blocking and recency weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models import itemknn
from driftrec.models.itemknn import ItemKNN, ItemKNNConfig, item_similarity


@pytest.fixture
def log(make_log: Any) -> InteractionLog:
    # users' item sets: {1,2,3}, {1,2}, {2,3,4}, {1,4}
    sets = [(1, 2, 3), (1, 2), (2, 3, 4), (1, 4)]
    return make_log([(u, i, float(k)) for u, s in enumerate(sets, 1) for k, i in enumerate(s)], 4, 5)


def dense_similarity(x: np.ndarray, alpha: float = 0.5, shrink: float = 0.0) -> np.ndarray:
    co = x.T @ x
    n = np.diag(co).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        sim: np.ndarray = co / (n[:, None] ** alpha * n[None, :] ** (1 - alpha) + shrink)
    sim[co == 0] = 0.0
    np.fill_diagonal(sim, 0.0)
    return sim


def test_cosine_by_hand(log: InteractionLog) -> None:
    sim = item_similarity(log.matrix(), ItemKNNConfig()).toarray()
    # items 1 and 2 share users 1, 2; item 1 has 3 users, item 2 has 3 users
    assert sim[1, 2] == pytest.approx(2 / 3)
    # items 2 and 4 share user 3; item 4 has 2 users
    assert sim[2, 4] == pytest.approx(1 / np.sqrt(6))
    assert sim[3, 3] == 0.0 and sim[5].sum() == 0.0
    np.testing.assert_allclose(sim, dense_similarity(log.matrix().toarray()), rtol=1e-6)


@pytest.mark.parametrize(("alpha", "shrink"), [(1.0, 0.0), (0.3, 2.0)])
def test_asymmetric_and_shrunk_similarity(log: InteractionLog, alpha: float, shrink: float) -> None:
    x = log.matrix()
    sim = item_similarity(x, ItemKNNConfig(alpha=alpha, shrink=shrink)).toarray()
    np.testing.assert_allclose(sim, dense_similarity(x.toarray(), alpha, shrink), rtol=1e-6)


def test_neighbours_keep_the_top_per_item_with_lower_id_on_ties() -> None:
    rng = np.random.default_rng(0)
    x = sp.csr_matrix((rng.random((200, 30)) < 0.15).astype(np.float32))
    full = dense_similarity(x.toarray())
    pruned = item_similarity(x, ItemKNNConfig(neighbours=4)).toarray()
    for i in range(30):
        kept = np.flatnonzero(pruned[i])
        order = np.lexsort((np.arange(30), -full[i]))
        expected = [j for j in order[:4] if full[i, j] > 0]
        assert sorted(kept.tolist()) == sorted(expected)
        np.testing.assert_allclose(pruned[i, kept], full[i, kept], rtol=1e-6)


def test_blocked_product_equals_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    x = sp.csr_matrix((rng.random((100, 40)) < 0.2).astype(np.float32))
    whole = item_similarity(x, ItemKNNConfig(neighbours=7))
    monkeypatch.setattr(itemknn, "_BLOCK_ENTRIES", 50)
    blocked = item_similarity(x, ItemKNNConfig(neighbours=7))
    assert (whole != blocked).nnz == 0


def test_scores_are_history_times_similarity(log: InteractionLog) -> None:
    model = ItemKNN(ItemKNNConfig()).fit(log)
    sim = model.similarity.toarray()
    scores = model.score(Histories.from_lists([[1, 3]]))
    expected = sim[1] + sim[3]
    positive = expected > 0
    np.testing.assert_allclose(scores[0, positive], expected[positive], rtol=1e-6)
    # items no history item points to (here only item 5, never seen) rank below, by popularity
    assert np.all(scores[0, 1:][~positive[1:]] < 0)


def test_recency_half_life_weights_recent_items_more(log: InteractionLog) -> None:
    model = ItemKNN(ItemKNNConfig(recency_half_life=1.0)).fit(log)
    sim = model.similarity.toarray()
    # history 3, 1, 3: item 3 is latest (weight 1), item 1 one step back (weight 0.5)
    scores = model.score(Histories.from_lists([[3, 1, 3]]))
    expected = sim[3] + 0.5 * sim[1]
    positive = expected > 0
    np.testing.assert_allclose(scores[0, positive], expected[positive], rtol=1e-6)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"neighbours": 0}, "ItemKNNConfig.neighbours must be an integer >= 1, got 0"),
        ({"shrink": -1.0}, "ItemKNNConfig.shrink must be a number >= 0, got -1.0"),
        ({"alpha": 1.5}, "ItemKNNConfig.alpha must be a number in [0, 1], got 1.5"),
        ({"recency_half_life": 0}, "ItemKNNConfig.recency_half_life must be None or a number > 0, got 0"),
    ],
)
def test_config_validation(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as err:
        ItemKNNConfig(**params)
    assert str(err.value) == message
