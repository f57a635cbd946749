"""EASE (Steck, 2019): a closed-form item-item linear model, often the best non-neural baseline.

    P = (X^T X + l2 * I)^-1,   B = I - P / diag(P)   (so diag(B) = 0),   scores = x @ B

The inverse is dense n x n, so full EASE on a 54k-item catalogue needs a 12 GB matrix and about
half an hour on 2 cores. ``max_items`` bounds that: EASE runs over the ``max_items`` items with
the most users, which carry nearly all interactions. The remaining (tail) items are ranked below
every head item, by popularity, so a ranking still covers the whole catalogue. A history with no
head item at all (only tail items, or empty) gets pure popularity. With ``max_items >= n_items``
this is exactly EASE. Memory is about 3 to 4 dense max_items^2 matrices (1.6 GB each at
20,000 items in float32).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
import torch
from numpy.typing import NDArray

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models._common import (
    RecommendMixin,
    check_field,
    check_histories,
    finish_scores,
    is_int,
    is_real,
    not_fitted,
    popularity_fallback,
    read_model,
    write_model,
)
from driftrec.training.device import torch_threads

__all__ = ["EASE", "EASEConfig", "ease_weights"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EASEConfig:
    """l2: ridge penalty (Steck used 100-1000 on large data); max_items: head size EASE runs on;
    double_precision: invert in float64 (slower; float32 is ample once l2 conditions the Gram);
    num_threads: torch threads for the inverse (0 = torch's default).
    """

    l2: float = 500.0
    max_items: int = 20_000
    double_precision: bool = False
    num_threads: int = 0

    def __post_init__(self) -> None:
        check_field(self, "l2", is_real(self.l2, 0.0, inclusive=False), "a number > 0")
        check_field(self, "max_items", is_int(self.max_items, 1), "an integer >= 1")
        check_field(self, "double_precision", isinstance(self.double_precision, bool), "a bool")
        check_field(self, "num_threads", is_int(self.num_threads, 0), "an integer >= 0")


def ease_weights(
    gram: NDArray[np.floating], l2: float, double_precision: bool = False
) -> NDArray[np.float32]:
    """B = I - P / diag(P) with P = (gram + l2 I)^-1 and diag(B) = 0, via Cholesky (the Gram is SPD)."""
    dtype = torch.float64 if double_precision else torch.float32
    return _weights_in_place(torch.tensor(np.asarray(gram), dtype=dtype), l2)


def _weights_in_place(g: torch.Tensor, l2: float) -> NDArray[np.float32]:
    """``ease_weights`` on a tensor it may overwrite, so that at most two m x m matrices are alive.

    Pass the Gram without keeping a name for it, else ``del g`` frees nothing.
    """
    g.diagonal().add_(l2)
    chol = torch.linalg.cholesky(g)
    del g
    # LAPACK returns column-major; P is symmetric, so its transpose is the same matrix, row-major,
    # which the sparse @ dense product in ``score`` needs to be fast
    p = torch.cholesky_inverse(chol).T
    del chol
    diag = p.diagonal().clone()
    p.div_(-diag)  # column j scaled by -1 / P_jj
    p.fill_diagonal_(0.0)
    weights: NDArray[np.float32] = np.ascontiguousarray(p.to(torch.float32).numpy())
    return weights


class EASE(RecommendMixin):
    """EASE over the most popular ``max_items`` items; the tail ranks after them by popularity."""

    name: str = "ease"
    config_type: type[EASEConfig] = EASEConfig

    def __init__(self, config: EASEConfig | None = None) -> None:
        self.config = config or EASEConfig()
        self._weights: NDArray[np.float32] | None = None  # (m, m)
        self._head: NDArray[np.int64] | None = None  # (m,) item ids, ascending
        self._fallback: NDArray[np.float32] | None = None  # (n_items+1,) in [-1, 0)
        self.n_users = 0
        self.n_items = 0

    def fit(self, train: InteractionLog) -> Self:
        x = train.matrix()
        users_per_item = np.asarray(x.sum(axis=0)).ravel().astype(np.int64)
        users_per_item[0] = 0
        ranked = np.argsort(-users_per_item, kind="stable")  # most users first, lower id among ties
        m = min(self.config.max_items, int((users_per_item > 0).sum()))
        head = np.sort(ranked[:m]).astype(np.int64)
        if m < int((users_per_item > 0).sum()):
            share = users_per_item[head].sum() / max(int(users_per_item.sum()), 1)
            log.info(
                "EASE on the top %d of %d items (%.1f%% of user-item pairs)", m, train.n_items, 100 * share
            )
        started = time.perf_counter()
        xh = sp.csr_matrix(x[:, head])
        dtype = torch.float64 if self.config.double_precision else torch.float32
        with torch_threads(self.config.num_threads):
            # the Gram is passed unnamed so the callee holds its only reference and can free it
            self._weights = _weights_in_place(
                torch.from_numpy((xh.T @ xh).toarray()).to(dtype), self.config.l2
            )
        log.debug("EASE inverse of %d x %d in %.1fs", m, m, time.perf_counter() - started)
        self._head = head
        self._fallback = popularity_fallback(users_per_item)
        self.n_users, self.n_items = train.n_users, train.n_items
        return self

    def score(self, histories: Histories) -> NDArray[np.float32]:
        if self._weights is None or self._head is None or self._fallback is None:
            raise not_fitted(self)
        check_histories(histories, self.n_items)
        n_rows = len(histories)
        position = np.full(self.n_items + 1, -1, dtype=np.int64)
        position[self._head] = np.arange(self._head.shape[0])
        h = histories.to_csr(self.n_items)
        head_hist = sp.csr_matrix(h[:, self._head])
        has_head = np.diff(head_hist.indptr) > 0
        out = np.broadcast_to(self._fallback, (n_rows, self.n_items + 1)).copy()
        rows = np.flatnonzero(has_head)
        if rows.size:
            head_scores = np.asarray(head_hist[rows] @ self._weights, dtype=np.float32)
            tail = np.flatnonzero(position < 0)
            tail = tail[tail > 0]
            block = out[rows]
            if tail.size:
                # tail strictly below the row's lowest head score, ordered by popularity
                floor = head_scores.min(axis=1, keepdims=True) - 1.0
                block[:, tail] = floor + (self._fallback[tail] + 1.0)
            block[:, self._head] = head_scores
            out[rows] = block
        return finish_scores(out)

    def save(self, directory: str | Path) -> None:
        if self._weights is None or self._head is None or self._fallback is None:
            raise not_fitted(self)
        arrays: dict[str, NDArray[Any]] = {
            "weights": self._weights,
            "head": self._head,
            "fallback": self._fallback,
        }
        write_model(directory, self.name, self.config, self.n_users, self.n_items, arrays)

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        saved = read_model(directory, cls.name)
        model = cls(EASEConfig(**saved.config))
        model._weights = saved.arrays["weights"]
        model._head = saved.arrays["head"].astype(np.int64)
        model._fallback = saved.arrays["fallback"]
        model.n_users, model.n_items = saved.n_users, saved.n_items
        return model
