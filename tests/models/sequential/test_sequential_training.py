"""Each objective learns on the synthetic shop; runs are reproducible, resumable and saved faithfully."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from driftrec.evaluation.ranking import RankingConfig, evaluate_ranking
from driftrec.models import load_model
from driftrec.models.popularity import MostPopular
from driftrec.models.sequential import BERT4Rec, SequentialConfig, SequentialRecommender
from driftrec.workflows.prepare import Prepared

Tiny = Callable[..., SequentialConfig]


class SASRecOnly(SequentialRecommender):
    """A subclass bound to one saved name, as BERT4Rec is."""

    name = "sasrec"


@pytest.mark.parametrize(
    ("objective", "loss"), [("causal", "full"), ("causal", "sampled"), ("causal", "bce"), ("masked", "full")]
)
def test_each_objective_lowers_its_loss(shop: Prepared, tiny: Tiny, objective: str, loss: str) -> None:
    model = SequentialRecommender(tiny(objective=objective, loss=loss, epochs=4)).fit(shop.split.train)
    assert model.history is not None
    losses = model.history.losses
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert model.name == ("bert4rec" if objective == "masked" else "sasrec")


def test_bf16_training_lowers_the_full_softmax_loss_like_fp32(shop: Prepared, tiny: Tiny) -> None:
    fp32 = SequentialRecommender(tiny(epochs=3)).fit(shop.split.train).history
    bf16 = SequentialRecommender(tiny(epochs=3, precision="bf16")).fit(shop.split.train).history
    assert fp32 is not None and bf16 is not None
    assert bf16.losses[-1] < bf16.losses[0]
    assert bf16.losses[-1] == pytest.approx(fp32.losses[-1], rel=0.05)


def test_causal_model_beats_most_popular_and_keeps_its_best_epoch(shop: Prepared, tiny: Tiny) -> None:
    split, n_items = shop.split, shop.split.train.n_items
    model = SequentialRecommender(tiny(epochs=15, lr=5e-3, patience=3)).fit(split.train, valid=split.valid)
    assert model.history is not None and model.history.best_metric is not None
    ranking = RankingConfig(ks=(10,))
    # the weights kept are those of the best validation epoch: re-evaluating gives its number
    again = evaluate_ranking(model.score, split.valid, n_items, ranking, progress=False).metrics["NDCG@10"]
    assert again == pytest.approx(model.history.best_metric)
    ndcg = evaluate_ranking(model.score, split.test, n_items, ranking, progress=False).metrics["NDCG@10"]
    popular = MostPopular().fit(split.train)
    base = evaluate_ranking(popular.score, split.test, n_items, ranking, progress=False).metrics["NDCG@10"]
    assert ndcg > 2 * base  # about 3x on this shop


def test_same_seed_gives_identical_scores_and_another_seed_does_not(shop: Prepared, tiny: Tiny) -> None:
    hist = shop.split.test.histories.take(np.arange(50))
    a = SequentialRecommender(tiny(objective="masked", epochs=2, seed=5)).fit(shop.split.train).score(hist)
    b = SequentialRecommender(tiny(objective="masked", epochs=2, seed=5)).fit(shop.split.train).score(hist)
    c = SequentialRecommender(tiny(objective="masked", epochs=2, seed=6)).fit(shop.split.train).score(hist)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_save_load_gives_identical_scores(shop: Prepared, tiny: Tiny, tmp_path: Path) -> None:
    config = tiny(objective="masked", epochs=1, time_intervals=True, behaviours=True)
    model = BERT4Rec(config).fit(shop.split.train)
    model.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"model.json", "weights.safetensors"}
    loaded = load_model(tmp_path)
    assert isinstance(loaded, BERT4Rec) and loaded.config == config
    assert isinstance(loaded, SequentialRecommender) and loaded.history is not None
    assert loaded.history.losses == model.history.losses if model.history else False
    hist = shop.split.test.histories
    np.testing.assert_array_equal(loaded.score(hist), model.score(hist))
    assert SequentialRecommender.load(tmp_path).name == "bert4rec"
    with pytest.raises(ValueError, match="holds model 'bert4rec', not 'sasrec'"):
        SASRecOnly.load(tmp_path)


def test_resumed_fit_matches_an_uninterrupted_one(shop: Prepared, tiny: Tiny, tmp_path: Path) -> None:
    split = shop.split
    config = tiny(epochs=4, patience=0)
    whole = SequentialRecommender(config).fit(split.train, valid=split.valid)
    stopped = SequentialRecommender(config).fit(
        split.train, valid=split.valid, checkpoint_dir=tmp_path, on_epoch_end=lambda r: r.epoch == 2
    )
    assert stopped.history is not None and len(stopped.history.epochs) == 2
    resumed = SequentialRecommender(config).fit(
        split.train, valid=split.valid, checkpoint_dir=tmp_path, resume=True
    )
    assert resumed.history is not None and whole.history is not None
    assert resumed.history.resumed_from_epoch == 2 and len(resumed.history.epochs) == 4
    assert resumed.history.losses == whole.history.losses
    assert resumed.history.best_epoch == whole.history.best_epoch
    hist = split.test.histories
    np.testing.assert_array_equal(resumed.score(hist), whole.score(hist))


def test_warm_start_continues_from_another_runs_weights(shop: Prepared, tiny: Tiny, tmp_path: Path) -> None:
    split = shop.split
    sampled = SequentialRecommender(tiny(loss="sampled", epochs=3)).fit(
        split.train, checkpoint_dir=tmp_path / "s"
    )
    sampled.save(tmp_path / "model")
    hist = split.test.histories.take(np.arange(40))
    # zero epochs of fine-tuning would leave the scores as they were: check the load itself first
    for source in (tmp_path / "model", tmp_path / "s" / "weights.safetensors"):
        full = SequentialRecommender(tiny(loss="full", epochs=1, lr=1e-9))
        full.fit(split.train, warm_start=source)
        np.testing.assert_allclose(full.score(hist), sampled.score(hist), rtol=1e-4, atol=1e-4)
    fresh = SequentialRecommender(tiny(loss="full", epochs=1)).fit(split.train)
    warm = SequentialRecommender(tiny(loss="full", epochs=1)).fit(split.train, warm_start=tmp_path / "model")
    assert warm.history is not None and fresh.history is not None
    assert warm.history.losses[0] < fresh.history.losses[0]  # it starts where the sampled run ended
    with pytest.raises(ValueError, match=r"does not fit this model: .*items\.ids\.weight"):
        SequentialRecommender(tiny(hidden=16)).fit(split.train, warm_start=tmp_path / "model")
    with pytest.raises(FileNotFoundError, match="no weights"):
        SequentialRecommender(tiny()).fit(split.train, warm_start=tmp_path / "nowhere")


def test_scores_shape_padding_and_unfitted(shop: Prepared, tiny: Tiny) -> None:
    model = SequentialRecommender(tiny(epochs=1))
    with pytest.raises(RuntimeError, match="not fitted"):
        model.score(shop.split.test.histories)
    model.fit(shop.split.train)
    scores = model.score(shop.split.test.histories.take(np.arange(3)))
    assert scores.shape == (3, shop.log.n_items + 1) and scores.dtype == np.float32
    assert np.all(scores[:, 0] == -np.inf) and np.isfinite(scores[:, 1:]).all()


@pytest.mark.parametrize(
    "module", ["driftrec.evaluation.ranking", "driftrec.models.sequential", "driftrec.training"]
)
def test_each_package_imports_first_without_a_cycle(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
