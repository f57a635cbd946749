"""First-order Markov chain: what shoppers open right after the item they just looked at.

Transitions i -> j are counted over consecutive events of each user's training sequence, and

    P(j | i) = (C_ij + smoothing * pop_j) / (C_i + smoothing)

where pop is the share of training events per item; an item with no outgoing transitions
predicts pure popularity. A history scores a decayed mix over its last ``window`` items
(weights decay**steps_back, normalised), which is a plain first-order chain when window = 1.
The matrix stays sparse; the popularity part is added as a rank-one term at scoring time.
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
    is_int,
    is_real,
    not_fitted,
    read_model,
    write_model,
)

__all__ = ["MarkovChain", "MarkovConfig", "transition_counts"]

log = logging.getLogger(__name__)

_US_PER_HOUR = 3_600 * 1_000_000


@dataclass(frozen=True)
class MarkovConfig:
    """smoothing: pseudo-counts spread by popularity over each row (0 = raw frequencies);
    window, decay: mix the rows of the last ``window`` items with weights decay**steps_back;
    skip_repeats: ignore consecutive events on the same item (a view then a cart is not a move);
    max_gap_hours: only count transitions between events at most this far apart (None = any gap).
    """

    smoothing: float = 1.0
    window: int = 1
    decay: float = 0.5
    skip_repeats: bool = True
    max_gap_hours: float | None = None

    def __post_init__(self) -> None:
        check_field(self, "smoothing", is_real(self.smoothing, 0.0), "a number >= 0")
        check_field(self, "window", is_int(self.window, 1), "an integer >= 1")
        check_field(
            self,
            "decay",
            is_real(self.decay, 0.0, inclusive=False) and float(self.decay) <= 1.0,
            "a number in (0, 1]",
        )
        check_field(self, "skip_repeats", isinstance(self.skip_repeats, bool), "a bool")
        check_field(
            self,
            "max_gap_hours",
            self.max_gap_hours is None or is_real(self.max_gap_hours, 0.0),
            "None or a number >= 0",
        )


def transition_counts(train: InteractionLog, config: MarkovConfig) -> sp.csr_matrix:
    """(n_items+1, n_items+1) counts C[i, j] of i followed by j within a user's sequence."""
    if config.skip_repeats and len(train):
        # keep the last event of each run on one item, so A A B counts A -> B once and the
        # gap to B is measured from the latest A
        last_of_run = np.ones(len(train), dtype=bool)
        last_of_run[:-1] = (train.user[:-1] != train.user[1:]) | (train.item[:-1] != train.item[1:])
        train = train.mask(last_of_run)
    keep = train.user[:-1] == train.user[1:]
    if config.max_gap_hours is not None:
        keep &= np.diff(train.ts) <= config.max_gap_hours * _US_PER_HOUR
    n = train.n_items + 1
    counts = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (train.item[:-1][keep], train.item[1:][keep])),
        shape=(n, n),
        dtype=np.float32,
    )
    counts.sum_duplicates()
    return counts


class MarkovChain(RecommendMixin):
    """Next-item probabilities from the last item(s) of a history, smoothed toward popularity."""

    name: str = "markov"
    config_type: type[MarkovConfig] = MarkovConfig

    def __init__(self, config: MarkovConfig | None = None) -> None:
        self.config = config or MarkovConfig()
        self._transitions: sp.csr_matrix | None = None  # C_ij / (C_i + smoothing), float32
        self._pop_weight: NDArray[np.float64] | None = None  # smoothing / (C_i + smoothing), 1 if C_i = 0
        self._pop: NDArray[np.float32] | None = None  # share of training events per item
        self.n_users = 0
        self.n_items = 0

    def fit(self, train: InteractionLog) -> Self:
        counts = transition_counts(train, self.config)
        out_degree = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
        has_out = out_degree > 0
        scale = np.zeros_like(out_degree)
        scale[has_out] = 1.0 / (out_degree[has_out] + self.config.smoothing)
        self._transitions = sp.csr_matrix(sp.diags(scale) @ counts, dtype=np.float32)
        self._pop_weight = np.where(has_out, self.config.smoothing * scale, 1.0)
        pop = train.item_popularity().astype(np.float64)
        self._pop = (pop / max(pop.sum(), 1.0)).astype(np.float32)
        log.debug("markov: %d transitions over %d items", int(counts.sum()), int(has_out.sum()))
        self.n_users, self.n_items = train.n_users, train.n_items
        return self

    def last_items(self, histories: Histories) -> sp.csr_matrix:
        """(B, n_items+1) weights of each history's last ``window`` items, rows summing to 1 (or 0)."""
        if self.config.skip_repeats and histories.items.size:
            rows = histories.row_index()
            first = np.ones(histories.items.shape[0], dtype=bool)
            first[1:] = (rows[1:] != rows[:-1]) | (histories.items[1:] != histories.items[:-1])
            offsets = np.zeros(len(histories) + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows[first], minlength=len(histories)), out=offsets[1:])
            histories = Histories(histories.user, offsets, histories.items[first])
        window = self.config.window
        last, mask = histories.last(window)
        weights = np.where(mask, self.config.decay ** np.arange(window - 1, -1, -1, dtype=np.float64), 0.0)
        totals = weights.sum(axis=1, keepdims=True)
        weights = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
        rows = np.repeat(np.arange(len(histories)), window)
        mat = sp.csr_matrix((weights.ravel(), (rows, last.ravel())), shape=(len(histories), self.n_items + 1))
        mat.sum_duplicates()
        mat.eliminate_zeros()
        return mat

    def score(self, histories: Histories) -> NDArray[np.float32]:
        if self._transitions is None or self._pop_weight is None or self._pop is None:
            raise not_fitted(self)
        check_histories(histories, self.n_items)
        w = self.last_items(histories)
        # weight of the popularity term: sum_p w_p * pop_weight[i_p]; an empty history is all popularity
        coef = w @ self._pop_weight
        coef[np.diff(w.indptr) == 0] = 1.0
        # padding (column 0) carries zero weight, and row 0 of the transitions is empty
        out = coef.astype(np.float32)[:, None] * self._pop[None, :]
        moves = sp.csr_matrix(w.astype(np.float32) @ self._transitions)
        rows = np.repeat(np.arange(moves.shape[0]), np.diff(moves.indptr))
        out[rows, moves.indices] += moves.data
        return finish_scores(out)

    def save(self, directory: str | Path) -> None:
        if self._transitions is None or self._pop_weight is None or self._pop is None:
            raise not_fitted(self)
        write_model(
            directory,
            self.name,
            self.config,
            self.n_users,
            self.n_items,
            {"pop_weight": self._pop_weight, "pop": self._pop},
            {"transitions": self._transitions},
        )

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        saved = read_model(directory, cls.name)
        model = cls(MarkovConfig(**saved.config))
        model._transitions = saved.sparse["transitions"]
        model._pop_weight = saved.arrays["pop_weight"]
        model._pop = saved.arrays["pop"]
        model.n_users, model.n_items = saved.n_users, saved.n_items
        return model
