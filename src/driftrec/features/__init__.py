"""Item and user features: text embeddings of items (cached on disk; the encoder optionally tuned on
behaviour pairs), point-in-time behaviour statistics, behaviour sequences, static item attributes,
and PCA/SVD reduction with feature selection."""

from driftrec.features.behaviour import BehaviourFeatureConfig, behaviour_features, event_frame, query_frame
from driftrec.features.item_stats import ItemAttributes, item_attributes
from driftrec.features.reduce import feature_importance, reduce_matrix, select_features
from driftrec.features.sequence import SequenceFeatures, sequences_before
from driftrec.features.text import (
    BUILTIN_MODEL,
    DEFAULT_TEXT_FIELDS,
    USE_MODEL,
    EmbeddingStats,
    ItemTextEmbeddings,
    TextEncoder,
    TextEncoderConfig,
    default_cache_dir,
    embed_texts,
    embed_texts_with_stats,
    item_text_matrix,
    item_texts,
    item_texts_by_id,
    load_encoder,
    load_sentence_transformer,
    model_identity,
)
from driftrec.features.text_tuning import (
    TextTuningConfig,
    behaviour_pairs,
    fine_tune_text_encoder,
    tune_item_text_encoder,
)

__all__ = [
    "BUILTIN_MODEL",
    "DEFAULT_TEXT_FIELDS",
    "USE_MODEL",
    "BehaviourFeatureConfig",
    "EmbeddingStats",
    "ItemAttributes",
    "ItemTextEmbeddings",
    "SequenceFeatures",
    "TextEncoder",
    "TextEncoderConfig",
    "TextTuningConfig",
    "behaviour_features",
    "behaviour_pairs",
    "default_cache_dir",
    "embed_texts",
    "embed_texts_with_stats",
    "event_frame",
    "feature_importance",
    "fine_tune_text_encoder",
    "item_attributes",
    "item_text_matrix",
    "item_texts",
    "item_texts_by_id",
    "load_encoder",
    "load_sentence_transformer",
    "model_identity",
    "query_frame",
    "reduce_matrix",
    "select_features",
    "sequences_before",
    "tune_item_text_encoder",
]
