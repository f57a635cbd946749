"""Transformer sequence recommenders: SASRec (causal) and BERT4Rec (masked) in one implementation.

Built from parts (item embedding with optional text fusion, position features, encoder blocks,
objective) so each can be tested and swapped alone; trained by :mod:`driftrec.training`.
"""

from __future__ import annotations

from driftrec.models.sequential.batches import SequenceBatch
from driftrec.models.sequential.config import BERT4RecConfig, SequentialConfig
from driftrec.models.sequential.model import BERT4Rec, SequentialRecommender

__all__ = ["BERT4Rec", "BERT4RecConfig", "SequenceBatch", "SequentialConfig", "SequentialRecommender"]
