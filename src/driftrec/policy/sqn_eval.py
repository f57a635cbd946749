"""Next-item evaluation with behaviour-typed targets, the protocol of SQN (Xin et al., 2020).

Every event of an evaluated user after their first is a target, predicted from the events before it
(the last ``max_len`` of them; users' sequences are tiled into windows as in training, so a target
sees between 1 and ``max_len`` events of context). Ranking is full over the catalogue and items
already in the history are **not** excluded (buying what one viewed is the common case). Targets are
grouped by the behaviour of the target event:

- ``purchase``: the target event is a purchase;
- ``click``: every other behaviour (view/page view, click, favourite, cart): the SQN paper's
  "click" side, where everything short of a purchase counts as a click.

Per group, HR@K = share of targets ranked in the top K, NDCG@K = mean of 1 / log2(rank + 2) over
targets with rank < K (one relevant item, so IDCG = 1). Rank = number of items scoring strictly higher.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from driftrec.data.interactions import InteractionLog
from driftrec.data.schema import EVENT_CODE
from driftrec.models.sequential.batches import TrainingExamples, ranges
from driftrec.policy.sqn_model import SQNRecommender
from driftrec.progress import track
from driftrec.training.device import move_batch, torch_threads

__all__ = ["GROUPS", "next_item_metrics", "next_item_ranks"]

GROUPS = ("purchase", "click")


def next_item_ranks(
    model: SQNRecommender, log: InteractionLog, head: str | None = None, batch_size: int = 256
) -> tuple[NDArray[np.int64], NDArray[np.int8]]:
    """Rank of every target event of ``log`` (all of its users) and the target's event code."""
    objective = model.objective
    layout = model._layout(model.n_items)
    examples = TrainingExamples(log, layout, objective="causal", sliding_window=True, loss="full")
    device = next(objective.parameters()).device
    ranks: list[NDArray[np.int64]] = []
    codes: list[NDArray[np.int8]] = []
    rng = np.random.default_rng(0)  # unused by causal full-softmax collate, required by its signature
    objective.eval()
    starts = range(0, len(examples), batch_size)
    with torch.inference_mode(), torch_threads(model.config.sequence.training.num_threads):
        for start in track(starts, "Next-item evaluation", total=len(starts)):
            idx = np.arange(start, min(start + batch_size, len(examples)), dtype=np.int64)
            batch = move_batch(examples.collate(idx, rng), device)
            assert batch.targets is not None
            selected = batch.targets > 0
            states = objective.network.encode(batch)[selected]
            scores = model.state_scores(states, head)
            scores[:, 0] = -torch.inf
            target = batch.targets[selected]
            own = scores.gather(1, target.unsqueeze(1))
            ranks.append((scores > own).sum(dim=1).cpu().numpy().astype(np.int64))
            # event codes of the targets in the same (row-major) order as ``selected``
            s, e = examples.starts[idx], examples.stops[idx]
            n_in = e - s - 1
            src = ranges(s, n_in) + 1
            rows = np.repeat(np.arange(idx.shape[0]), n_in)
            cols = ranges(layout.max_len - n_in, n_in)
            order = np.lexsort((cols, rows))
            codes.append(log.event[src[order]])
    if not ranks:
        return np.zeros(0, np.int64), np.zeros(0, np.int8)
    return np.concatenate(ranks), np.concatenate(codes)


def group_metrics(ranks: NDArray[np.int64], ks: tuple[int, ...] = (10,)) -> dict[str, float]:
    """HR@K and NDCG@K of one group of target ranks (NaN when the group is empty)."""
    out: dict[str, float] = {}
    for k in ks:
        hit = ranks < k
        gain = np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0)
        out[f"HR@{k}"] = float(hit.mean()) if ranks.size else float("nan")
        out[f"NDCG@{k}"] = float(gain.mean()) if ranks.size else float("nan")
    return out


def next_item_metrics(
    model: SQNRecommender, log: InteractionLog, ks: tuple[int, ...] = (10,), head: str | None = None
) -> dict[str, dict[str, float]]:
    """{"purchase": {...}, "click": {...}, "all": {...}} plus target counts under "n_targets"."""
    ranks, codes = next_item_ranks(model, log, head)
    is_purchase = codes == EVENT_CODE["purchase"]
    return {
        "purchase": group_metrics(ranks[is_purchase], ks),
        "click": group_metrics(ranks[~is_purchase], ks),
        "all": group_metrics(ranks, ks),
        "n_targets": {"purchase": float(is_purchase.sum()), "click": float((~is_purchase).sum())},
    }
