"""Item-kNN on co-occurrence: "people who bought this also bought", the strongest simple baseline.

Similarity of items i and j over the binary user-item matrix X:

    sim(i, j) = |U_i ∩ U_j| / (|U_i|**alpha * |U_j|**(1 - alpha) + shrink)

(alpha = 0.5, shrink = 0 is cosine). Each item keeps its ``neighbours`` most similar items, and a
history h scores ``h @ S``. X^T X is built in row blocks sized by a cheap bound on their size, so
users with very long histories (Taobao) cannot blow memory, and nothing n_items x n_items is dense.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models._common import (
    RecommendMixin,
    check_field,
    check_histories,
    finish_scores,
    history_matrix,
    is_int,
    is_real,
    not_fitted,
    popularity_fallback,
    read_model,
    write_model,
)

__all__ = ["ItemKNN", "ItemKNNConfig", "item_similarity"]

log = logging.getLogger(__name__)

#: Upper bound on co-occurrence entries materialised at once (~ 16 bytes each before pruning).
_BLOCK_ENTRIES = 20_000_000


@dataclass(frozen=True)
class ItemKNNConfig:
    """neighbours: similar items kept per item; shrink: damps similarities built on few users;
    alpha: 0.5 = cosine, 1.0 = conditional probability P(j | i);
    recency_half_life: weight history items by 0.5**(steps back / half-life) (None = all equal).
    """

    neighbours: int = 100
    shrink: float = 0.0
    alpha: float = 0.5
    recency_half_life: float | None = None

    def __post_init__(self) -> None:
        check_field(self, "neighbours", is_int(self.neighbours, 1), "an integer >= 1")
        check_field(self, "shrink", is_real(self.shrink, 0.0), "a number >= 0")
        check_field(
            self, "alpha", is_real(self.alpha, 0.0) and float(self.alpha) <= 1.0, "a number in [0, 1]"
        )
        check_field(
            self,
            "recency_half_life",
            self.recency_half_life is None or is_real(self.recency_half_life, 0.0, inclusive=False),
            "None or a number > 0",
        )


def item_similarity(x: sp.csr_matrix, config: ItemKNNConfig) -> sp.csr_matrix:
    """(n, n) sparse similarity, row i = the top ``neighbours`` items j != i by sim(i, j).

    x: (users, n) binary CSR. Ties between equal similarities keep the lower item id.
    """
    x = sp.csr_matrix(x, dtype=np.float32)
    n = x.shape[1]
    xt = x.T.tocsr()
    users_per_item = np.asarray(xt.sum(axis=1), dtype=np.float64).ravel()
    # entries of row i of X^T X are at most the summed history lengths of i's users
    user_lengths = np.asarray(x.sum(axis=1), dtype=np.float64).ravel()
    bound = np.cumsum(xt @ user_lengths)
    blocks: list[sp.csr_matrix] = []
    start = 0
    while start < n:
        stop = int(np.searchsorted(bound, (bound[start - 1] if start else 0.0) + _BLOCK_ENTRIES, "right"))
        stop = min(max(stop, start + 1), n)
        blocks.append(_similarity_block(xt[start:stop] @ x, start, users_per_item, config))
        start = stop
    log.debug("item-kNN: %d blocks, %d similarities kept", len(blocks), sum(b.nnz for b in blocks))
    return sp.csr_matrix(sp.vstack(blocks, format="csr"))


def _similarity_block(
    counts: sp.csr_matrix, start: int, users_per_item: NDArray[np.float64], config: ItemKNNConfig
) -> sp.csr_matrix:
    """Similarities of rows start..start+len(counts), pruned to the top ``neighbours`` per row."""
    counts = sp.csr_matrix(counts)
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    cols = counts.indices
    keep = (rows + start != cols) & (counts.data > 0)
    rows, cols, co = rows[keep], cols[keep], counts.data[keep].astype(np.float64)
    denom = (
        users_per_item[rows + start] ** config.alpha * users_per_item[cols] ** (1.0 - config.alpha)
        + config.shrink
    )
    sim = co / denom
    order = np.lexsort((cols, -sim, rows))
    rows, cols, sim = rows[order], cols[order], sim[order]
    row_start = np.searchsorted(rows, np.arange(counts.shape[0]))
    rank = np.arange(rows.shape[0]) - row_start[rows]
    top = rank < config.neighbours
    block = sp.csr_matrix(
        (sim[top].astype(np.float32), (rows[top], cols[top])), shape=counts.shape, dtype=np.float32
    )
    block.sort_indices()
    return block


class ItemKNN(RecommendMixin):
    """Score = weighted history @ similarity; items no history item points to rank by popularity after."""

    name: str = "itemknn"
    config_type: type[ItemKNNConfig] = ItemKNNConfig

    def __init__(self, config: ItemKNNConfig | None = None) -> None:
        self.config = config or ItemKNNConfig()
        self._sim: sp.csr_matrix | None = None
        self._fallback: NDArray[np.float32] | None = None
        self.n_users = 0
        self.n_items = 0

    @property
    def similarity(self) -> sp.csr_matrix:
        """(n_items+1, n_items+1) pruned similarity (row/column 0 empty)."""
        if self._sim is None:
            raise not_fitted(self)
        return self._sim

    def fit(self, train: InteractionLog) -> Self:
        x = train.matrix()
        self._sim = item_similarity(x, self.config)
        self._fallback = popularity_fallback(np.asarray(x.sum(axis=0)).ravel())
        self.n_users, self.n_items = train.n_users, train.n_items
        return self

    def score(self, histories: Histories) -> NDArray[np.float32]:
        if self._sim is None or self._fallback is None:
            raise not_fitted(self)
        check_histories(histories, self.n_items)
        h = history_matrix(histories, self.n_items, self.config.recency_half_life)
        result = sp.csr_matrix(h @ self._sim)
        result.eliminate_zeros()
        out = np.broadcast_to(self._fallback, (len(histories), self.n_items + 1)).copy()
        rows = np.repeat(np.arange(result.shape[0]), np.diff(result.indptr))
        out[rows, result.indices] = result.data
        return finish_scores(out)

    def save(self, directory: str | Path) -> None:
        if self._sim is None or self._fallback is None:
            raise not_fitted(self)
        write_model(
            directory,
            self.name,
            self.config,
            self.n_users,
            self.n_items,
            {"fallback": self._fallback},
            {"similarity": self._sim},
        )

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        saved = read_model(directory, cls.name)
        model = cls(ItemKNNConfig(**saved.config))
        model._sim = saved.sparse["similarity"]
        model._fallback = saved.arrays["fallback"]
        model.n_users, model.n_items = saved.n_users, saved.n_items
        return model
