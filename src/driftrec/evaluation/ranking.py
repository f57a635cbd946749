"""Full-ranking evaluation over the whole catalogue, batched so memory stays bounded.

Each batch scores B users against every item ((B, n_items+1) floats), masks seen items if asked,
takes the top max(K) and compares with the targets. Peak memory is about
``batch_size * n_items * 4`` bytes whatever the number of users (1M users x 100k items at
batch 512 needs ~200 MB per batch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from driftrec.data.interactions import Histories, InteractionLog
from driftrec.data.splits import EvalSet
from driftrec.evaluation import metrics as m
from driftrec.progress import track
from driftrec.scoring import top_k

__all__ = ["RankingConfig", "RankingResult", "evaluate_ranking", "metrics_from_hits"]

Scorer = Callable[[Histories], NDArray[np.float32]]


@dataclass(frozen=True)
class RankingConfig:
    """``seen_targets``: what to do with a target already in the history when ``exclude_seen`` masks it.

    ``"miss"`` keeps it (it cannot be ranked, so it counts as a miss: RecBole's convention, used for
    leave-one-out comparisons with the literature); ``"drop"`` removes it from the targets and skips
    users left with none (for global temporal splits, where re-purchases are common).
    """

    ks: tuple[int, ...] = (5, 10, 20)
    exclude_seen: bool = True
    seen_targets: Literal["miss", "drop"] = "miss"
    batch_size: int = 512

    def __post_init__(self) -> None:
        if not self.ks or min(self.ks) < 1:
            raise ValueError(f"ks must be positive cut-offs, got {self.ks}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.seen_targets not in ("miss", "drop"):
            raise ValueError(f"seen_targets must be 'miss' or 'drop', got {self.seen_targets!r}")


@dataclass(frozen=True)
class RankingResult:
    metrics: dict[str, float]
    per_user: dict[str, NDArray[np.float64]] = field(repr=False)
    users: NDArray[np.int64] = field(repr=False)
    protocol: dict[str, object] = field(default_factory=dict)


def metrics_from_hits(
    hits: NDArray[np.bool_], n_targets: NDArray[np.int64], ks: tuple[int, ...]
) -> dict[str, NDArray[np.float64]]:
    """Per-user values of every ranking metric at every cut-off."""
    out: dict[str, NDArray[np.float64]] = {}
    for k in ks:
        out[f"HR@{k}"] = m.hr_at_k(hits, k)
        out[f"Recall@{k}"] = m.recall_at_k(hits, n_targets, k)
        out[f"NDCG@{k}"] = m.ndcg_at_k(hits, n_targets, k)
        out[f"MRR@{k}"] = m.mrr_at_k(hits, k)
        out[f"Precision@{k}"] = m.precision_at_k(hits, k)
        out[f"F1@{k}"] = m.f1_at_k(hits, n_targets, k)
    return out


def _drop_seen_targets(eval_set: EvalSet) -> EvalSet:
    hist, tgt = eval_set.histories, eval_set.targets
    width = int(max(hist.items.max(initial=0), tgt.items.max(initial=0))) + 1
    seen_keys = hist.row_index() * width + hist.items
    keep = ~np.isin(tgt.row_index() * width + tgt.items, seen_keys)
    counts = np.bincount(tgt.row_index()[keep], minlength=len(tgt))
    offsets = np.zeros(len(tgt) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    targets = Histories(tgt.user, offsets, tgt.items[keep])
    rows = np.flatnonzero(counts > 0).astype(np.int64)
    return EvalSet(hist.take(rows), targets.take(rows))


def evaluate_ranking(
    score: Scorer,
    eval_set: EvalSet,
    n_items: int,
    config: RankingConfig | None = None,
    train: InteractionLog | None = None,
    progress: bool | None = None,
) -> RankingResult:
    """Average every metric over the evaluated users; also catalogue coverage and novelty at each K.

    ``score`` maps a batch of histories to (B, n_items+1) scores (``model.score``). ``train`` supplies
    item popularity for novelty; without it novelty is not reported.
    """
    cfg = config or RankingConfig()
    if cfg.exclude_seen and cfg.seen_targets == "drop":
        eval_set = _drop_seen_targets(eval_set)
    k_max = max(cfg.ks)
    n_users = len(eval_set)
    all_top = np.zeros((n_users, k_max), dtype=np.int64)
    per_user: dict[str, list[NDArray[np.float64]]] = {}
    starts = range(0, n_users, cfg.batch_size)
    for start in track(starts, "Evaluating", total=len(starts), enabled=progress):
        rows = np.arange(start, min(start + cfg.batch_size, n_users), dtype=np.int64)
        hist = eval_set.histories.take(rows)
        tgt = eval_set.targets.take(rows)
        scores = np.array(score(hist), dtype=np.float32, copy=True)
        if scores.shape != (len(rows), n_items + 1):
            raise ValueError(f"scorer returned shape {scores.shape}, expected {(len(rows), n_items + 1)}")
        scores[:, 0] = -np.inf
        if cfg.exclude_seen:
            scores[hist.row_index(), hist.items] = -np.inf
        top = top_k(scores, k_max)
        # A list longer than the unmasked catalogue ends in -inf items (padding, seen items): those
        # slots recommend nothing, so a masked seen target can never count as a hit.
        top[np.take_along_axis(scores, top, axis=1) == -np.inf] = 0
        all_top[rows, : top.shape[1]] = top  # top_k returns at most n_items columns; 0 = no item
        hits = m.hit_matrix(top, tgt.offsets, tgt.items)
        for name, values in metrics_from_hits(hits, tgt.lengths(), cfg.ks).items():
            per_user.setdefault(name, []).append(values)
    if not per_user:  # no user to evaluate: still report every metric (as 0.0), one shape for all
        empty = metrics_from_hits(np.zeros((0, k_max), dtype=bool), np.zeros(0, dtype=np.int64), cfg.ks)
        per_user = {name: [values] for name, values in empty.items()}
    stacked = {name: np.concatenate(parts) for name, parts in per_user.items()}
    summary = {name: float(values.mean()) if values.size else 0.0 for name, values in stacked.items()}
    item_users = None
    if train is not None:
        distinct_pairs = np.unique(train.user * (n_items + 1) + train.item)
        item_users = np.bincount(distinct_pairs % (n_items + 1), minlength=n_items + 1)
    for k in cfg.ks:
        summary[f"Coverage@{k}"] = m.catalogue_coverage(all_top[:, :k], n_items)
        if item_users is not None and train is not None and n_users:
            summary[f"Novelty@{k}"] = float(m.novelty_at_k(all_top[:, :k], item_users, train.n_users).mean())
    protocol = {
        "ranking": "full",
        "exclude_seen": cfg.exclude_seen,
        "seen_targets": cfg.seen_targets,
        "users_evaluated": n_users,
        "n_items": n_items,
    }
    return RankingResult(summary, stacked, eval_set.histories.user, protocol)
