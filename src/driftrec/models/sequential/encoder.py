"""The Transformer encoder: a stack of injected blocks over left-padded sequences.

Attention goes through ``scaled_dot_product_attention`` (fused kernels on CPU and CUDA) with one
boolean mask per batch: a position sees valid keys (and, when causal, only those at or before it).
Every position also sees itself, so a padding row never has all keys masked: otherwise its softmax
is NaN, and NaN values leak into real rows through a zero attention weight (0 * NaN = NaN).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Block", "TransformerEncoder", "attention_mask"]


def attention_mask(padding: Tensor, causal: bool) -> Tensor:
    """(B, 1, L, L) bool, True where query i may attend to key j; ``padding`` is (B, L), True = pad."""
    width = padding.shape[1]
    allowed = (~padding).unsqueeze(1).unsqueeze(2)  # (B, 1, 1, L): keys that hold an item
    eye = torch.eye(width, dtype=torch.bool, device=padding.device)
    if causal:
        allowed = allowed & torch.ones(width, width, dtype=torch.bool, device=padding.device).tril()
    return allowed | eye


class Block(nn.Module):
    """Self-attention + GELU feed-forward, each with a residual; LayerNorm before ("pre") or after
    ("post") each sub-layer. Pre-LN trains stably without warm-up; post-LN is SASRec/BERT4Rec's form.
    """

    def __init__(self, hidden: int, heads: int, inner: int, dropout: float, norm_first: bool) -> None:
        super().__init__()
        self.heads, self.norm_first, self.attn_dropout = heads, norm_first, dropout
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.ff = nn.Sequential(
            nn.Linear(hidden, inner), nn.GELU(), nn.Dropout(dropout), nn.Linear(inner, hidden)
        )
        self.norm1 = nn.LayerNorm(hidden)
        self.norm2 = nn.LayerNorm(hidden)
        self.drop = nn.Dropout(dropout)

    def _attend(self, x: Tensor, allowed: Tensor) -> Tensor:
        batch, width, hidden = x.shape
        q, k, v = self.qkv(x).view(batch, width, 3, self.heads, hidden // self.heads).permute(2, 0, 3, 1, 4)
        p = self.attn_dropout if self.training else 0.0
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=p)
        out: Tensor = self.out(att.transpose(1, 2).reshape(batch, width, hidden))
        return out

    def forward(self, x: Tensor, allowed: Tensor) -> Tensor:
        if self.norm_first:
            x = x + self.drop(self._attend(self.norm1(x), allowed))
            res: Tensor = x + self.drop(self.ff(self.norm2(x)))
            return res
        x = self.norm1(x + self.drop(self._attend(x, allowed)))
        out: Tensor = self.norm2(x + self.drop(self.ff(x)))
        return out


class TransformerEncoder(nn.Module):
    """Runs the given blocks under one attention mask; ``final_norm`` closes a pre-LN stack."""

    def __init__(
        self, blocks: Sequence[nn.Module], causal: bool, final_norm: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.causal = causal
        self.final_norm = final_norm if final_norm is not None else nn.Identity()

    def forward(self, x: Tensor, padding: Tensor) -> Tensor:
        """(B, L, H) -> (B, L, H); ``padding`` (B, L) bool marks left padding."""
        allowed = attention_mask(padding, self.causal)
        for block in self.blocks:
            x = block(x, allowed)
        out: Tensor = self.final_norm(x)
        return out
