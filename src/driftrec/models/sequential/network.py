"""The sequence network assembled from parts: item vectors, position features, encoder.

``build_network`` is the only place that reads the config; the parts take plain arguments, so a
test (or another model) can put a different encoder or embedding in.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from driftrec.models.sequential.batches import N_BEHAVIOURS, SequenceBatch
from driftrec.models.sequential.config import SequentialConfig
from driftrec.models.sequential.embedding import ItemEmbedding, PositionFeatures
from driftrec.models.sequential.encoder import Block, TransformerEncoder

__all__ = ["SequenceNetwork", "build_network"]


class SequenceNetwork(nn.Module):
    """Encodes a batch into one vector per position; ``item_table`` is the tied output layer.

    Input at each position: item vector (or the learned [MASK] vector) + position features, then
    LayerNorm (post-LN stacks only; pre-LN normalises inside) and dropout.
    """

    def __init__(
        self,
        items: ItemEmbedding,
        features: PositionFeatures,
        encoder: TransformerEncoder,
        hidden: int,
        dropout: float,
        input_norm: bool,
        mask_token: bool,
    ) -> None:
        super().__init__()
        self.items = items
        self.features = features
        self.encoder = encoder
        self.input_norm = nn.LayerNorm(hidden) if input_norm else nn.Identity()
        self.drop = nn.Dropout(dropout)
        self.mask_vector = nn.Parameter(torch.randn(hidden) * 0.02) if mask_token else None

    @property
    def n_items(self) -> int:
        return self.items.n_items

    def encode(self, batch: SequenceBatch) -> Tensor:
        """(B, L, hidden) hidden states; ids above n_items in ``batch.items`` are [MASK]."""
        ids = batch.items
        is_mask = ids > self.n_items
        vectors = self.items(torch.where(is_mask, torch.zeros_like(ids), ids))
        if self.mask_vector is not None:
            vectors = torch.where(is_mask.unsqueeze(-1), self.mask_vector, vectors)
        x = vectors + self.features(ids, batch.time_buckets, batch.behaviours)
        x = self.drop(self.input_norm(x))
        out: Tensor = self.encoder(x, ids == 0)
        return out

    def item_table(self) -> Tensor:
        """(n_items + 1, hidden): the same fused vectors the input uses."""
        return self.items.table()

    def extend(self, text: Tensor, categories: Tensor) -> None:
        self.items.extend(text)
        self.features.extend(categories)


def build_network(
    config: SequentialConfig,
    n_items: int,
    text: Tensor | None = None,
    item_category: Tensor | None = None,
    has_id: Tensor | None = None,
) -> SequenceNetwork:
    """Assemble the parts the config asks for (text only if fusion uses it, categories only if on)."""
    items = ItemEmbedding(
        n_items,
        config.hidden,
        fusion=config.fusion,
        fusion_op=config.fusion_op,
        text=text if config.uses_text else None,
        text_projection=config.text_projection,
        has_id=has_id,
        id_dropout=config.id_dropout,
    )
    features = PositionFeatures(
        config.max_len,
        config.hidden,
        time_buckets=config.time_buckets if config.time_intervals else 0,
        item_category=item_category if config.categories else None,
        behaviours=N_BEHAVIOURS if config.behaviours else 0,
    )
    norm_first = config.norm == "pre"
    blocks = [
        Block(config.hidden, config.heads, config.inner, config.dropout, norm_first)
        for _ in range(config.blocks)
    ]
    encoder = TransformerEncoder(
        blocks,
        causal=config.objective == "causal",
        final_norm=nn.LayerNorm(config.hidden) if norm_first else None,
    )
    return SequenceNetwork(
        items,
        features,
        encoder,
        config.hidden,
        config.dropout,
        input_norm=not norm_first,
        mask_token=config.objective == "masked",
    )
