"""Matrix factorisation from the ``implicit`` library (CPU): ALS (Hu et al., 2008) and BPR (Rendle, 2009).

Known users (``histories.user`` in 1..n_users) are scored from the factors learned in ``fit``;
anyone else, or everyone with ``recalculate_known_users``, gets factors folded in from the
history passed:

* ALS solves its own least-squares step for the user against the fixed item factors
  (``implicit``'s ``recalculate_user``), which is exactly what one more ALS half-step would give.
* BPR has no closed form, so the user vector is the mean of the history's item vectors (plus
  the constant 1 that multiplies the item bias): cheap, deterministic, and close to what SGD
  would converge to for a short history.

An empty anonymous history gets popularity. Training runs with BLAS limited to one thread, as
``implicit`` recommends (its own threads do the parallel work). ALS is deterministic for a seed
at any ``num_threads``; BPR's parallel SGD is lock-free (Hogwild), so only ``num_threads=1``
makes it reproducible.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

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

__all__ = ["ALSConfig", "BPRConfig", "ImplicitALS", "ImplicitBPR"]

log = logging.getLogger(__name__)


def _check_common(config: ALSConfig | BPRConfig) -> None:
    check_field(config, "factors", is_int(config.factors, 1), "an integer >= 1")
    check_field(config, "regularization", is_real(config.regularization, 0.0), "a number >= 0")
    check_field(config, "iterations", is_int(config.iterations, 1), "an integer >= 1")
    check_field(config, "seed", is_int(config.seed, 0), "an integer >= 0")
    check_field(config, "num_threads", is_int(config.num_threads, 0), "an integer >= 0 (0 = all cores)")
    check_field(config, "recalculate_known_users", isinstance(config.recalculate_known_users, bool), "a bool")


@dataclass(frozen=True)
class ALSConfig:
    """alpha: confidence of an observed interaction is alpha * value;
    binary: value = 1 per user-item pair (else the number of events, so repeat buys weigh more).
    """

    factors: int = 64
    regularization: float = 0.01
    alpha: float = 1.0
    iterations: int = 15
    binary: bool = True
    seed: int = 0
    num_threads: int = 0
    recalculate_known_users: bool = False

    def __post_init__(self) -> None:
        _check_common(self)
        check_field(self, "alpha", is_real(self.alpha, 0.0, inclusive=False), "a number > 0")
        check_field(self, "binary", isinstance(self.binary, bool), "a bool")


@dataclass(frozen=True)
class BPRConfig:
    """BPR ignores interaction strength; verify_negative_samples re-draws negatives the user has seen."""

    factors: int = 64
    learning_rate: float = 0.01
    regularization: float = 0.01
    iterations: int = 100
    verify_negative_samples: bool = True
    seed: int = 0
    num_threads: int = 0
    recalculate_known_users: bool = False

    def __post_init__(self) -> None:
        _check_common(self)
        check_field(self, "learning_rate", is_real(self.learning_rate, 0.0, inclusive=False), "a number > 0")
        check_field(self, "verify_negative_samples", isinstance(self.verify_negative_samples, bool), "a bool")


class _Factors:
    """Learned factors and the scoring they share (composition, not a base class)."""

    def __init__(
        self,
        user: NDArray[np.float32],
        item: NDArray[np.float32],
        fallback: NDArray[np.float32],
        trained: NDArray[np.bool_],
    ) -> None:
        self.user = user  # (n_users+1, d)
        self.item = item  # (n_items+1, d)
        self.fallback = fallback  # (n_items+1,) popularity in [-1, 0)
        self.trained = trained  # (n_users+1,) users with training events (others have no real factors)

    @classmethod
    def from_saved(cls, arrays: dict[str, NDArray[Any]]) -> _Factors:
        return cls(arrays["user_factors"], arrays["item_factors"], arrays["fallback"], arrays["trained"])

    def arrays(self) -> dict[str, NDArray[Any]]:
        return {
            "user_factors": self.user,
            "item_factors": self.item,
            "fallback": self.fallback,
            "trained": self.trained,
        }

    def score(
        self,
        histories: Histories,
        fold_in: Callable[[Histories], NDArray[np.float32]],
        recalculate_known: bool,
    ) -> NDArray[np.float32]:
        user = histories.user
        in_range = (user >= 1) & (user < self.trained.shape[0])
        known = np.zeros(len(user), dtype=bool)
        if not recalculate_known:
            known[in_range] = self.trained[user[in_range]]
        vectors = np.zeros((len(histories), self.item.shape[1]), dtype=np.float32)
        vectors[known] = self.user[user[known]]
        unknown = np.flatnonzero(~known & (histories.lengths() > 0))
        if unknown.size:
            vectors[unknown] = fold_in(histories.take(unknown))
        out = vectors @ self.item.T
        empty = ~known & (histories.lengths() == 0)
        out[empty] = self.fallback
        return finish_scores(out)


def _save(model: ImplicitALS | ImplicitBPR, directory: str | Path) -> None:
    write_model(directory, model.name, model.config, model.n_users, model.n_items, model.factors.arrays())


def _factors(user: NDArray[Any], item: NDArray[Any], train: InteractionLog) -> _Factors:
    return _Factors(
        np.ascontiguousarray(user, dtype=np.float32),
        np.ascontiguousarray(item, dtype=np.float32),
        popularity_fallback(train.item_popularity()),
        np.bincount(train.user, minlength=train.n_users + 1) > 0,
    )


class ImplicitALS(RecommendMixin):
    """Weighted ALS for implicit feedback; unknown users get an exact least-squares fold-in."""

    name: str = "als"
    config_type: type[ALSConfig] = ALSConfig

    def __init__(self, config: ALSConfig | None = None) -> None:
        self.config = config or ALSConfig()
        self._factors: _Factors | None = None
        self._als: AlternatingLeastSquares | None = None
        self.n_users = 0
        self.n_items = 0

    @property
    def factors(self) -> _Factors:
        if self._factors is None:
            raise not_fitted(self)
        return self._factors

    def _make(self) -> AlternatingLeastSquares:
        c = self.config
        with threadpool_limits(1, "blas"):
            return AlternatingLeastSquares(
                factors=c.factors,
                regularization=c.regularization,
                alpha=c.alpha,
                iterations=c.iterations,
                num_threads=c.num_threads,
                random_state=c.seed,
                dtype=np.float32,
            )

    def fit(self, train: InteractionLog) -> Self:
        als = self._make()
        with threadpool_limits(1, "blas"):
            als.fit(train.matrix(binary=self.config.binary), show_progress=False)
        self._als = als
        self._factors = _factors(als.user_factors, als.item_factors, train)
        self.n_users, self.n_items = train.n_users, train.n_items
        return self

    def _fold_in(self, histories: Histories) -> NDArray[np.float32]:
        if self._als is None:
            raise not_fitted(self)
        mat = histories.to_csr(self.n_items)
        if not self.config.binary:  # event counts, as in fit
            mat = sp.csr_matrix(
                (np.ones(histories.items.shape[0], np.float32), histories.items, histories.offsets),
                shape=mat.shape,
            )
            mat.sum_duplicates()
        with threadpool_limits(1, "blas"):
            vectors = self._als.recalculate_user(np.arange(len(histories)), mat)
        return np.asarray(vectors, dtype=np.float32)

    def score(self, histories: Histories) -> NDArray[np.float32]:
        factors = self.factors
        check_histories(histories, self.n_items)
        return factors.score(histories, self._fold_in, self.config.recalculate_known_users)

    def save(self, directory: str | Path) -> None:
        _save(self, directory)

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        saved = read_model(directory, cls.name)
        model = cls(ALSConfig(**saved.config))
        model._factors = _Factors.from_saved(saved.arrays)
        model._als = model._make()
        model._als.user_factors = model._factors.user
        model._als.item_factors = model._factors.item
        model.n_users, model.n_items = saved.n_users, saved.n_items
        return model


class ImplicitBPR(RecommendMixin):
    """BPR matrix factorisation with an item bias; unknown users are the mean of their items' vectors."""

    name: str = "bpr"
    config_type: type[BPRConfig] = BPRConfig

    def __init__(self, config: BPRConfig | None = None) -> None:
        self.config = config or BPRConfig()
        self._factors: _Factors | None = None
        self.n_users = 0
        self.n_items = 0

    @property
    def factors(self) -> _Factors:
        if self._factors is None:
            raise not_fitted(self)
        return self._factors

    def fit(self, train: InteractionLog) -> Self:
        c = self.config
        with threadpool_limits(1, "blas"):
            bpr = BayesianPersonalizedRanking(
                factors=c.factors,
                learning_rate=c.learning_rate,
                regularization=c.regularization,
                iterations=c.iterations,
                num_threads=c.num_threads,
                random_state=c.seed,
                verify_negative_samples=c.verify_negative_samples,
                dtype=np.float32,
            )
            bpr.fit(train.matrix(), show_progress=False)
        # implicit appends a bias column: item rows end in the item bias, user rows in 1.0
        self._factors = _factors(bpr.user_factors, bpr.item_factors, train)
        self.n_users, self.n_items = train.n_users, train.n_items
        return self

    def _fold_in(self, histories: Histories) -> NDArray[np.float32]:
        item = self.factors.item
        counts = sp.csr_matrix(
            (np.ones(histories.items.shape[0], np.float32), histories.items, histories.offsets),
            shape=(len(histories), item.shape[0]),
        )
        lengths = histories.lengths().astype(np.float32)[:, None]
        vectors: NDArray[np.float32] = np.asarray(counts @ item, dtype=np.float32) / lengths
        vectors[:, -1] = 1.0  # the coordinate that picks up the item bias
        return vectors

    def score(self, histories: Histories) -> NDArray[np.float32]:
        factors = self.factors
        check_histories(histories, self.n_items)
        return factors.score(histories, self._fold_in, self.config.recalculate_known_users)

    def save(self, directory: str | Path) -> None:
        _save(self, directory)

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        saved = read_model(directory, cls.name)
        model = cls(BPRConfig(**saved.config))
        model._factors = _Factors.from_saved(saved.arrays)
        model.n_users, model.n_items = saved.n_users, saved.n_items
        return model
