"""Item vectors (from ids, frozen text, or both) and the per-position features added to them.

The same fused item vectors feed the encoder and score the output (tied weights), so an item known
only by its text, never seen in training or added after it, is both understood in a history and
rankable. Where an item has no trained id embedding (``has_id`` false) its vector is its text
projection alone, never a mix with an untrained id row.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["ItemEmbedding", "PositionFeatures"]


class ItemEmbedding(nn.Module):
    """(n_items + 1, hidden) item vectors; row 0 is padding.

    fusion "id": a learned table; "text": a projection ("linear" or "mlp") of the frozen text matrix;
    "id+text": both, summed or mixed by a learned elementwise gate sigmoid(W [id; text]).
    """

    def __init__(
        self,
        n_items: int,
        hidden: int,
        fusion: str = "id",
        fusion_op: str = "gate",
        text: Tensor | None = None,
        text_projection: str = "linear",
        has_id: Tensor | None = None,
        id_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.fusion, self.fusion_op = fusion, fusion_op
        self.id_dropout = id_dropout
        self.ids: nn.Embedding | None = None
        self.project: nn.Module | None = None
        self.gate: nn.Linear | None = None
        if fusion in ("id", "id+text"):
            self.ids = nn.Embedding(n_items + 1, hidden, padding_idx=0)
            nn.init.normal_(self.ids.weight, std=0.02)
            with torch.no_grad():
                self.ids.weight[0].zero_()
        if fusion in ("text", "id+text"):
            if text is None or text.ndim != 2 or text.shape[0] != n_items + 1:
                shape = None if text is None else tuple(text.shape)
                raise ValueError(
                    f"fusion {fusion!r} needs a text matrix of shape ({n_items + 1}, d), got {shape}"
                )
            dim = int(text.shape[1])
            if text_projection == "mlp":
                self.project = nn.Sequential(
                    nn.Linear(dim, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden)
                )
            else:
                self.project = nn.Linear(dim, hidden)
            self.register_buffer("text", text.to(torch.float32).contiguous())
            known = torch.ones(n_items + 1, dtype=torch.bool) if has_id is None else has_id.to(torch.bool)
            self.register_buffer("has_id", known.clone())
            if fusion_op == "gate" and fusion == "id+text":
                self.gate = nn.Linear(2 * hidden, hidden)

    @property
    def n_items(self) -> int:
        if self.ids is not None:
            return int(self.ids.num_embeddings) - 1
        return int(self.get_buffer("text").shape[0]) - 1

    def forward(self, ids: Tensor) -> Tensor:
        """(..., hidden) vectors of ``ids`` (each in 0..n_items)."""
        id_vec: Tensor | None = None if self.ids is None else self.ids(ids)
        if self.project is None:
            assert id_vec is not None
            return id_vec
        text_vec: Tensor = self.project(self.get_buffer("text")[ids])
        return self._fuse(id_vec, text_vec, self._keep_id(self.get_buffer("has_id"))[ids])

    def table(self) -> Tensor:
        """All item vectors, (n_items + 1, hidden): the output layer."""
        if self.project is None:
            assert self.ids is not None
            return self.ids.weight
        id_vec = None if self.ids is None else self.ids.weight
        text_vec: Tensor = self.project(self.get_buffer("text"))
        return self._fuse(id_vec, text_vec, self._keep_id(self.get_buffer("has_id")))

    def _keep_id(self, has_id: Tensor) -> Tensor:
        """``has_id`` with a random ``id_dropout`` share of items switched to text-only while training."""
        if not self.training or self.id_dropout <= 0 or self.ids is None:
            return has_id
        keep = torch.rand(has_id.shape, device=has_id.device) >= self.id_dropout
        return has_id & keep

    def _fuse(self, id_vec: Tensor | None, text_vec: Tensor, has_id: Tensor) -> Tensor:
        if id_vec is None:
            return text_vec
        if self.gate is not None:
            g = torch.sigmoid(self.gate(torch.cat([id_vec, text_vec], dim=-1)))
            mixed = g * id_vec + (1.0 - g) * text_vec
        else:
            mixed = id_vec + text_vec
        return torch.where(has_id.unsqueeze(-1), mixed, text_vec)

    @torch.no_grad()
    def extend(self, text: Tensor) -> None:
        """Append items known only by their text (rows of the same width as the training matrix)."""
        if self.project is None:
            raise ValueError("only a model with fusion 'text' or 'id+text' can add items from text")
        old = self.get_buffer("text")
        if text.ndim != 2 or text.shape[1] != old.shape[1]:
            raise ValueError(
                f"new text vectors must have shape (n_new, {old.shape[1]}), got {tuple(text.shape)}"
            )
        n_new = int(text.shape[0])
        self.register_buffer("text", torch.cat([old, text.to(old)]))
        known = self.get_buffer("has_id")
        self.register_buffer(
            "has_id", torch.cat([known, torch.zeros(n_new, dtype=torch.bool, device=known.device)])
        )
        if self.ids is not None:
            weight = self.ids.weight
            grown = torch.cat(
                [weight, torch.zeros(n_new, weight.shape[1], dtype=weight.dtype, device=weight.device)]
            )
            table = nn.Embedding(grown.shape[0], grown.shape[1], padding_idx=0, device=grown.device)
            table.weight.copy_(grown)
            self.ids = table


class PositionFeatures(nn.Module):
    """What is added to each position besides its item: a learned position embedding (counted from
    the right, so the last position is always the one that predicts), and optionally the time-gap
    bucket, the item's category, and the behaviour type.
    """

    def __init__(
        self,
        max_len: int,
        hidden: int,
        time_buckets: int = 0,
        item_category: Tensor | None = None,
        behaviours: int = 0,
    ) -> None:
        super().__init__()
        self.position = nn.Embedding(max_len, hidden)
        nn.init.normal_(self.position.weight, std=0.02)
        self.time = nn.Embedding(time_buckets, hidden, padding_idx=0) if time_buckets else None
        self.behaviour = nn.Embedding(behaviours, hidden, padding_idx=0) if behaviours else None
        self.category: nn.Embedding | None = None
        if item_category is not None:
            n_categories = int(item_category.max().item()) + 1 if item_category.numel() else 1
            self.category = nn.Embedding(n_categories, hidden, padding_idx=0)
            self.register_buffer("item_category", item_category.to(torch.int64).clone())
        for table in (self.time, self.behaviour, self.category):
            if table is not None:
                nn.init.normal_(table.weight, std=0.02)
                with torch.no_grad():
                    table.weight[0].zero_()

    def forward(self, items: Tensor, time_buckets: Tensor | None, behaviours: Tensor | None) -> Tensor:
        """(B, L, hidden) from item ids (B, L) (ids above the catalogue are [MASK]: category 0)."""
        width = items.shape[1]
        out = self.position.weight[-width:].unsqueeze(0).expand(items.shape[0], -1, -1)
        if self.time is not None:
            if time_buckets is None:
                raise ValueError("this model uses time intervals: the batch must carry time_buckets")
            out = out + self.time(time_buckets)
        if self.behaviour is not None:
            if behaviours is None:
                raise ValueError("this model uses behaviours: the batch must carry behaviours")
            out = out + self.behaviour(behaviours)
        if self.category is not None:
            table = self.get_buffer("item_category")
            known = items < table.shape[0]
            cats = table[torch.where(known, items, torch.zeros_like(items))]
            out = out + self.category(cats)
        return out

    @torch.no_grad()
    def extend(self, categories: Tensor) -> None:
        """Categories of appended items (0 = unknown); categories beyond the trained table count as 0."""
        if self.category is None:
            return
        cats = categories.to(torch.int64)
        cats = torch.where(cats < self.category.num_embeddings, cats, torch.zeros_like(cats))
        table = self.get_buffer("item_category")
        self.register_buffer("item_category", torch.cat([table, cats.to(table.device)]))
