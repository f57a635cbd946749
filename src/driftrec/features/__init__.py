"""Item and user features: pretrained text embeddings of items (cached on disk) for now."""

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
    load_encoder,
    model_identity,
)

__all__ = [
    "BUILTIN_MODEL",
    "DEFAULT_TEXT_FIELDS",
    "USE_MODEL",
    "EmbeddingStats",
    "ItemTextEmbeddings",
    "TextEncoder",
    "TextEncoderConfig",
    "default_cache_dir",
    "embed_texts",
    "embed_texts_with_stats",
    "item_text_matrix",
    "item_texts",
    "load_encoder",
    "model_identity",
]
