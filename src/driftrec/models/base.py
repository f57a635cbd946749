"""The one contract every recommender satisfies (``fit``, ``score``, ``recommend``, ``save``/``load``).

Scoring takes *histories*, not user ids alone, so every model can serve users it never saw
(anonymous sessions, new sign-ups) from what they just did; a model that has per-user state
(e.g. ALS factors) uses ``Histories.user`` when it is known (non-zero).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Self, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.scoring import mask_seen, top_k

__all__ = ["Recommender", "mask_seen", "top_k"]


@runtime_checkable
class Recommender(Protocol):
    """Scores are (B, n_items + 1) float32, column 0 (padding) is -inf; higher = better."""

    name: str

    def fit(self, train: InteractionLog) -> Self: ...

    def score(self, histories: Histories) -> NDArray[np.float32]: ...

    def recommend(self, histories: Histories, k: int, exclude_seen: bool = True) -> NDArray[np.int64]: ...

    def save(self, directory: str | Path) -> None: ...

    @classmethod
    def load(cls, directory: str | Path) -> Self: ...
