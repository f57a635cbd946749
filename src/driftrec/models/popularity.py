"""Popularity baselines: the floor every personalised model has to beat.

``MostPopular`` counts the whole training log; ``RecentPopular`` counts only its last days,
because in shops what sells this week predicts next week better than all-time sales do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
from numpy.typing import NDArray

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.models._common import (
    RecommendMixin,
    check_field,
    check_histories,
    finish_scores,
    is_real,
    not_fitted,
    read_model,
    write_model,
)

__all__ = ["MostPopular", "MostPopularConfig", "RecentPopular", "RecentPopularConfig"]

log = logging.getLogger(__name__)

_US_PER_DAY = 86_400 * 1_000_000


@dataclass(frozen=True)
class MostPopularConfig:
    """distinct_users: count users per item rather than events (damps repeated views of one shopper)."""

    distinct_users: bool = False

    def __post_init__(self) -> None:
        check_field(self, "distinct_users", isinstance(self.distinct_users, bool), "a bool")


@dataclass(frozen=True)
class RecentPopularConfig:
    """window_days: count events in the last N days of the training log; ties fall back to all-time counts."""

    window_days: float = 7.0
    distinct_users: bool = False

    def __post_init__(self) -> None:
        check_field(self, "window_days", is_real(self.window_days, 0.0, inclusive=False), "a number > 0")
        check_field(self, "distinct_users", isinstance(self.distinct_users, bool), "a bool")


def _counts(train: InteractionLog, distinct_users: bool) -> NDArray[np.int64]:
    """(n_items+1,) events (or distinct users) per item."""
    if not distinct_users:
        return train.item_popularity()
    pairs = np.unique(train.user * (train.n_items + 1) + train.item)
    return np.bincount(pairs % (train.n_items + 1), minlength=train.n_items + 1).astype(np.int64)


def _broadcast(vector: NDArray[np.float32], histories: Histories, n_items: int) -> NDArray[np.float32]:
    check_histories(histories, n_items)
    return finish_scores(np.repeat(vector[None, :], len(histories), axis=0))


class MostPopular(RecommendMixin):
    """Same ranking for everyone: items by training count (lower id first among ties)."""

    name: str = "most-popular"
    config_type: type[MostPopularConfig] = MostPopularConfig

    def __init__(self, config: MostPopularConfig | None = None) -> None:
        self.config = config or MostPopularConfig()
        self._scores: NDArray[np.float32] | None = None
        self.n_users = 0
        self.n_items = 0

    def fit(self, train: InteractionLog) -> Self:
        # counts below 2**24 are exact in float32, far beyond any catalogue here
        self._scores = _counts(train, self.config.distinct_users).astype(np.float32)
        self.n_users, self.n_items = train.n_users, train.n_items
        return self

    def score(self, histories: Histories) -> NDArray[np.float32]:
        if self._scores is None:
            raise not_fitted(self)
        return _broadcast(self._scores, histories, self.n_items)

    def save(self, directory: str | Path) -> None:
        if self._scores is None:
            raise not_fitted(self)
        write_model(directory, self.name, self.config, self.n_users, self.n_items, {"scores": self._scores})

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        saved = read_model(directory, cls.name)
        model = cls(MostPopularConfig(**saved.config))
        model._scores = saved.arrays["scores"]
        model.n_users, model.n_items = saved.n_users, saved.n_items
        return model


class RecentPopular(RecommendMixin):
    """Items by count in the last ``window_days`` of training, all-time count breaking ties.

    Scores are dense ranks of the (recent, all-time) pair rather than a weighted sum, so the
    tie-break can never overturn a recent-count difference through float rounding.
    """

    name: str = "recent-popular"
    config_type: type[RecentPopularConfig] = RecentPopularConfig

    def __init__(self, config: RecentPopularConfig | None = None) -> None:
        self.config = config or RecentPopularConfig()
        self._scores: NDArray[np.float32] | None = None
        self.n_users = 0
        self.n_items = 0

    def fit(self, train: InteractionLog) -> Self:
        all_time = _counts(train, self.config.distinct_users)
        if len(train):
            end = int(train.ts.max())
            start = end - round(self.config.window_days * _US_PER_DAY)
            recent = _counts(train.mask(train.ts >= start), self.config.distinct_users)
        else:
            recent = np.zeros_like(all_time)
        log.debug("recent-popular: %d of %d events in the window", int(recent.sum()), len(train))
        order = np.lexsort((all_time, recent))  # ascending by recent, then all-time
        changed = np.ones(order.shape[0], dtype=np.int64)
        changed[0] = 0
        changed[1:] = (np.diff(recent[order]) != 0) | (np.diff(all_time[order]) != 0)
        scores = np.empty(order.shape[0], dtype=np.float32)
        scores[order] = np.cumsum(changed)
        self._scores = scores
        self.n_users, self.n_items = train.n_users, train.n_items
        return self

    def score(self, histories: Histories) -> NDArray[np.float32]:
        if self._scores is None:
            raise not_fitted(self)
        return _broadcast(self._scores, histories, self.n_items)

    def save(self, directory: str | Path) -> None:
        if self._scores is None:
            raise not_fitted(self)
        write_model(directory, self.name, self.config, self.n_users, self.n_items, {"scores": self._scores})

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        saved = read_model(directory, cls.name)
        model = cls(RecentPopularConfig(**saved.config))
        model._scores = saved.arrays["scores"]
        model.n_users, model.n_items = saved.n_users, saved.n_items
        return model
