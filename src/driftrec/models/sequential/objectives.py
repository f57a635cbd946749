"""Losses over the positions that have a target, and the module the training loop optimises.

All three losses score hidden states against the tied item vectors:

- ``full``: softmax cross-entropy over the whole catalogue, one (P, n_items) matmul per batch;
- ``sampled``: softmax over the target and N shared negatives drawn from q, with logQ correction
  (every logit minus log q(item)), which makes the sampled softmax an unbiased-in-the-limit
  estimate of the full one; negatives equal to the target are masked out;
- ``bce``: SASRec's binary cross-entropy with one negative per position.

Only positions with a target (non-padding for causal, masked ones for Cloze) are computed at all.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from driftrec.models.sequential.batches import SequenceBatch
from driftrec.models.sequential.network import SequenceNetwork

__all__ = ["SequenceObjective", "bce_loss", "full_softmax_loss", "sampled_softmax_loss"]


def full_softmax_loss(hidden: Tensor, table: Tensor, targets: Tensor) -> Tensor:
    """hidden (P, H), table (n_items + 1, H) with row 0 padding, targets (P,) in 1..n_items."""
    logits = hidden @ table[1:].T  # (P, n_items): padding is no class
    return F.cross_entropy(logits, targets - 1)


def sampled_softmax_loss(
    hidden: Tensor,
    target_vectors: Tensor,
    negative_vectors: Tensor,
    targets: Tensor,
    negatives: Tensor,
    log_q: Tensor,
) -> Tensor:
    """hidden (P, H), target_vectors (P, H), negative_vectors (N, H), targets (P,), negatives (N,),
    log_q (n_items + 1,) log sampling probabilities."""
    positive = (hidden * target_vectors).sum(-1) - log_q[targets]  # (P,)
    negative = hidden @ negative_vectors.T - log_q[negatives].unsqueeze(0)  # (P, N)
    negative = negative.masked_fill(negatives.unsqueeze(0) == targets.unsqueeze(1), float("-inf"))
    logits = torch.cat([positive.unsqueeze(1), negative], dim=1)
    return F.cross_entropy(logits, torch.zeros_like(targets))


def bce_loss(hidden: Tensor, target_vectors: Tensor, negative_vectors: Tensor, collide: Tensor) -> Tensor:
    """-log sigmoid(pos) - log sigmoid(-neg) per position; ``collide`` (P,): negatives equal to targets."""
    positive = (hidden * target_vectors).sum(-1)
    negative = (hidden * negative_vectors).sum(-1)
    per_position = F.softplus(-positive) + F.softplus(negative).masked_fill(collide, 0.0)
    return per_position.mean()


class SequenceObjective(nn.Module):
    """network + loss as one module whose ``forward(batch)`` is the scalar loss (what DDP wraps)."""

    def __init__(self, network: SequenceNetwork, loss: str, log_q: Tensor | None = None) -> None:
        super().__init__()
        if loss in ("sampled", "bce") and log_q is None:
            raise ValueError(f"loss {loss!r} needs the sampler's log_q")
        self.network = network
        self.loss = loss
        self.register_buffer("log_q", log_q, persistent=False)

    def forward(self, batch: SequenceBatch) -> Tensor:
        if batch.targets is None:
            raise ValueError("a training batch needs targets")
        hidden = self.network.encode(batch)
        selected = batch.targets > 0
        h = hidden[selected]  # (P, H)
        targets = batch.targets[selected]
        if self.loss == "full":
            return full_softmax_loss(h, self.network.item_table(), targets)
        if batch.negatives is None:
            raise ValueError(f"loss {self.loss!r} needs negatives in the batch")
        items = self.network.items
        if self.loss == "sampled":
            negatives = batch.negatives
            return sampled_softmax_loss(
                h, items(targets), items(negatives), targets, negatives, self.get_buffer("log_q")
            )
        negatives = batch.negatives[selected]
        return bce_loss(h, items(targets), items(negatives), negatives == targets)
