"""The CTR networks: plain MLP, DIN-style target attention, and DIEN-style interest evolution.

All three share one input layer: an item is the sum of its ID, category and (PCA-reduced, frozen)
text embeddings; a sequence event adds its behaviour type; engineered features enter the prediction
MLP standardised. They differ only in how the behaviour sequence becomes one vector:

* ``mlp``: the mean of the sequence (no target awareness);
* ``din``: attention weights from an activation unit MLP([e_t, q, e_t - q, e_t * q]) (DIN);
* ``dien``: a GRU extracts interest states h_t, attention a_t = softmax(h_t W q) scores them against
  the target, and an AUGRU (GRU whose update gate is scaled by a_t) evolves them into the final
  interest (DIEN). The auxiliary loss asks h_t to tell the real next behaviour e_{t+1} from a random
  item, which supervises every step of the extractor.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["CTRBatch", "CTRNetwork"]


class CTRBatch(NamedTuple):
    """One batch of impressions (built on the CPU by ``collate``)."""

    target: Tensor  # (B,) int64 item ids
    seq: Tensor  # (B, L) int64 item ids, left-aligned, 0 = padding
    seq_event: Tensor  # (B, L) int64 behaviour code + 1, 0 = padding
    lengths: Tensor  # (B,) int64
    dense: Tensor  # (B, F) float32, standardised
    context: Tensor  # (B, C) int64 codes (0 = unknown)
    user: Tensor  # (B,) int64 user ids (0 = unknown / not embedded)
    label: Tensor  # (B,) float32 0/1
    negatives: Tensor  # (B, L) int64 random items for the auxiliary loss (empty (B, 0) when off)


class ItemEmbedding(nn.Module):
    """ID + category + projected frozen text vector; categories come from a frozen item -> category table."""

    def __init__(self, item_category: Tensor, n_categories: int, dim: int, text: Tensor | None) -> None:
        super().__init__()
        n_items = item_category.shape[0] - 1
        self.category_of: Tensor
        self.text: Tensor
        self.register_buffer("category_of", item_category)
        self.item = nn.Embedding(n_items + 1, dim, padding_idx=0)
        self.category = nn.Embedding(n_categories + 1, dim, padding_idx=0)
        self.register_buffer("text", text if text is not None else torch.zeros(n_items + 1, 0))
        self.text_proj = nn.Linear(text.shape[1], dim, bias=False) if text is not None else None
        nn.init.normal_(self.item.weight, std=0.05)
        nn.init.normal_(self.category.weight, std=0.05)
        with torch.no_grad():
            self.item.weight[0].zero_()
            self.category.weight[0].zero_()

    def forward(self, items: Tensor) -> Tensor:
        out: Tensor = self.item(items) + self.category(self.category_of[items])
        if self.text_proj is not None:
            out = out + self.text_proj(self.text[items])
        return out


def _mlp(sizes: list[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), nn.PReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class AUGRUCell(nn.Module):
    """GRU cell whose update gate is multiplied by the attention score of the step (DIEN's AUGRU)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.x2h = nn.Linear(dim, 3 * hidden)
        self.h2h = nn.Linear(hidden, 3 * hidden)

    def forward(self, x: Tensor, h: Tensor, att: Tensor) -> Tensor:
        xr, xz, xn = self.x2h(x).chunk(3, dim=-1)
        hr, hz, hn = self.h2h(h).chunk(3, dim=-1)
        r = torch.sigmoid(xr + hr)
        z = torch.sigmoid(xz + hz) * att[:, None]
        n = torch.tanh(xn + r * hn)
        return (1.0 - z) * h + z * n


class CTRNetwork(nn.Module):
    """``forward(batch)`` -> scalar loss (BCE + auxiliary); ``logits(batch)`` -> (B,) logits."""

    def __init__(
        self,
        architecture: str,
        item_category: Tensor,
        n_categories: int,
        n_dense: int,
        context_sizes: list[int],
        n_users: int,
        embed_dim: int,
        hidden: tuple[int, ...],
        dropout: float,
        aux_weight: float,
        text: Tensor | None,
    ) -> None:
        super().__init__()
        d = embed_dim
        self.architecture = architecture
        self.aux_weight = aux_weight if architecture == "dien" else 0.0
        self.items = ItemEmbedding(item_category, n_categories, d, text)
        self.behaviour = nn.Embedding(16, d, padding_idx=0)
        self.contexts = nn.ModuleList(nn.Embedding(size + 1, 4) for size in context_sizes)
        self.user = nn.Embedding(n_users + 1, d, padding_idx=0) if n_users > 0 else None
        if architecture == "din":
            self.att = nn.Sequential(_mlp([4 * d, 32], 0.0), nn.Linear(32, 1))
        if architecture == "dien":
            self.gru = nn.GRU(d, d, batch_first=True)
            self.att_w = nn.Linear(d, d, bias=False)
            self.augru = AUGRUCell(d, d)
            self.aux = nn.Sequential(_mlp([2 * d, 32], 0.0), nn.Linear(32, 1))
        width = 2 * d + n_dense + 4 * len(context_sizes) + (d if self.user is not None else 0)
        self.head = nn.Sequential(_mlp([width, *hidden], dropout), nn.Linear(hidden[-1], 1))

    def _interest(self, b: CTRBatch, q: Tensor, seq: Tensor, mask: Tensor) -> tuple[Tensor, Tensor | None]:
        """(B, d) sequence summary and, for ``dien``, the GRU states for the auxiliary loss."""
        if self.architecture == "mlp":
            return (seq * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1), None
        if self.architecture == "din":
            qe = q[:, None, :].expand_as(seq)
            scores = self.att(torch.cat([seq, qe, seq - qe, seq * qe], dim=-1)).squeeze(-1)
            weights = torch.softmax(scores.masked_fill(~mask, -1e9), dim=1) * mask
            return (weights[..., None] * seq).sum(1), None
        lengths = b.lengths.clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(seq, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=seq.shape[1])
        scores = (self.att_w(states) * q[:, None, :]).sum(-1)
        att = torch.softmax(scores.masked_fill(~mask, -1e9), dim=1) * mask
        h = torch.zeros_like(q)
        for t in range(seq.shape[1]):
            step = self.augru(states[:, t], h, att[:, t])
            h = torch.where(mask[:, t, None], step, h)
        return h, states

    def logits_and_states(self, b: CTRBatch) -> tuple[Tensor, Tensor | None]:
        q = self.items(b.target)
        seq = self.items(b.seq) + self.behaviour(b.seq_event)
        mask = b.seq > 0
        interest, states = self._interest(b, q, seq, mask)
        parts = [q, interest, b.dense]
        parts += [emb(b.context[:, k]) for k, emb in enumerate(self.contexts)]
        if self.user is not None:
            parts.append(self.user(b.user))
        return self.head(torch.cat(parts, dim=-1)).squeeze(-1), states

    def logits(self, b: CTRBatch) -> Tensor:
        return self.logits_and_states(b)[0]

    def _aux_loss(self, b: CTRBatch, states: Tensor) -> Tensor:
        """BCE of h_t against the real next item e_{t+1} (label 1) and a random item (label 0)."""
        nxt = b.seq[:, 1:]
        valid = nxt > 0
        if not bool(valid.any()):
            return states.new_zeros(())
        h = states[:, :-1]
        pos = self.items(nxt)
        neg = self.items(b.negatives[:, 1:])
        pos_logit = self.aux(torch.cat([h, pos], dim=-1)).squeeze(-1)
        neg_logit = self.aux(torch.cat([h, neg], dim=-1)).squeeze(-1)
        loss = F.binary_cross_entropy_with_logits(pos_logit, torch.ones_like(pos_logit), reduction="none")
        loss = loss + F.binary_cross_entropy_with_logits(
            neg_logit, torch.zeros_like(neg_logit), reduction="none"
        )
        return (loss * valid).sum() / valid.sum()

    def forward(self, b: CTRBatch) -> Tensor:
        logits, states = self.logits_and_states(b)
        loss = F.binary_cross_entropy_with_logits(logits, b.label)
        if self.aux_weight > 0 and states is not None and b.negatives.shape[1] == b.seq.shape[1]:
            loss = loss + self.aux_weight * self._aux_loss(b, states)
        return loss
