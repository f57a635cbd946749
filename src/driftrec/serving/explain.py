"""Why an item was recommended: which recent history items (and their categories) it is most similar to.

The contribution of history item h to recommendation r is ``max(0, cos(v_h, v_r)) * recency(h)``, with the
model's own item embeddings as vectors (text vectors for models without embeddings) and recency halving
every ``half_life`` events back. This is the item-item term a sequence model's score is built from, cheap
enough to compute for every recommendation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Contribution", "Explanation", "explain"]


@dataclass(frozen=True)
class Contribution:
    key: int | str  # dense item id, or a category
    weight: float  # share of the explained score, sums to 1 over all contributors


@dataclass(frozen=True)
class Explanation:
    items: list[Contribution]
    categories: list[Contribution]
    method: str


def explain(
    vectors: NDArray[np.float32],
    history: NDArray[np.int64],
    recommended: NDArray[np.int64],
    categories: list[str | None],
    *,
    window: int = 30,
    half_life: float = 5.0,
    top: int = 3,
) -> list[Explanation]:
    """One explanation per recommended item; ``vectors`` are unit rows indexed by dense id."""
    recent = history[(history > 0) & (history < vectors.shape[0])][-window:]
    if recent.size == 0:
        return [Explanation([], [], "no-history") for _ in recommended]
    age = np.arange(recent.size - 1, -1, -1, dtype=np.float32)
    recency = np.power(np.float32(0.5), age / np.float32(half_life))
    valid = recommended[(recommended > 0) & (recommended < vectors.shape[0])]
    sims = vectors[valid] @ vectors[recent].T  # (R, H)
    contrib = np.maximum(sims, 0.0) * recency[None, :]
    out: list[Explanation] = []
    row_of = {int(r): j for j, r in enumerate(valid.tolist())}
    for r in recommended.tolist():
        j = row_of.get(int(r))
        if j is None or float(contrib[j].sum()) <= 0.0:
            out.append(Explanation([], [], "no-similar-history"))
            continue
        per_item: dict[int, float] = {}
        per_cat: dict[str, float] = {}
        for h, c in zip(recent.tolist(), contrib[j].tolist(), strict=True):
            per_item[h] = per_item.get(h, 0.0) + c
            cat = categories[h] if h < len(categories) else None
            if cat is not None:
                per_cat[cat] = per_cat.get(cat, 0.0) + c
        total = float(contrib[j].sum())
        items = sorted(per_item.items(), key=lambda kv: -kv[1])[:top]
        cats = sorted(per_cat.items(), key=lambda kv: -kv[1])[:top]
        out.append(
            Explanation(
                [Contribution(k, round(v / total, 4)) for k, v in items],
                [Contribution(k, round(v / total, 4)) for k, v in cats],
                "item-similarity",
            )
        )
    return out
