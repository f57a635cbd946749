from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.evaluation import RankingConfig
from driftrec.workflows.bundle import load_bundle
from driftrec.workflows.experiment import fit_and_evaluate
from driftrec.workflows.prepare import SplitSpec, prepare
from driftrec.workflows.training import evaluate_bundle, train_bundle


@pytest.fixture(scope="module")
def shop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shop")
    generate(SyntheticShopConfig(n_users=300, n_items=200, seed=5)).save(out)
    return out


def test_bundle_round_trip_recommends_known_unknown_and_anonymous(shop_dir: Path, tmp_path: Path) -> None:
    from driftrec.data import Dataset

    bundle, _ = train_bundle(
        Dataset.load(shop_dir),
        "itemknn",
        {"neighbours": 20},
        SplitSpec(first_interaction_only=True),
        shop_dir,
    )
    bundle.save(tmp_path / "b")
    loaded = load_bundle(tmp_path / "b")
    users = ["u000001", "nobody"]
    a = bundle.recommend(bundle.histories_for_users(users), k=5)
    b = loaded.recommend(loaded.histories_for_users(users), k=5)
    assert [[r.item_id for r in row] for row in a] == [[r.item_id for r in row] for row in b]
    assert len(a[1]) == 5  # unknown user still gets a list (popularity fallback)
    seen = set(bundle.items.decode(bundle.histories_for_users(["u000001"]).items))
    assert not seen & {r.item_id for r in a[0]}
    anon = loaded.recommend(loaded.histories_from_items([["i00001", "i00002", "not-an-item"]]), k=3)
    assert len(anon[0]) == 3 and {"i00001", "i00002"}.isdisjoint(r.item_id for r in anon[0])


def test_evaluate_bundle_matches_direct_evaluation(shop_dir: Path, tmp_path: Path) -> None:
    from driftrec.data import Dataset

    spec = SplitSpec(first_interaction_only=True)
    bundle, _ = train_bundle(Dataset.load(shop_dir), "ease", {"l2": 50.0}, spec, shop_dir)
    bundle.save(tmp_path / "b")
    record = evaluate_bundle(tmp_path / "b", "test", RankingConfig(ks=(10,)))
    direct = fit_and_evaluate(
        prepare(Dataset.load(shop_dir), spec), "ease", {"l2": 50.0}, RankingConfig(ks=(10,))
    )
    assert record["metrics"]["NDCG@10"] == pytest.approx(direct.result.metrics["NDCG@10"], abs=1e-6)
    assert np.isfinite(record["metrics"]["HR@10"])


def test_load_bundle_rejects_other_directories(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a driftrec model bundle"):
        load_bundle(tmp_path)


def test_train_bundle_warm_starts_from_a_bundle_of_the_same_catalogue(shop_dir: Path, tmp_path: Path) -> None:
    from driftrec.data import Dataset

    spec = SplitSpec(first_interaction_only=True)
    data = Dataset.load(shop_dir)
    tiny = {"hidden": 16, "blocks": 1, "max_len": 10, "training": {"epochs": 2, "num_threads": 1}}
    sampled, _ = train_bundle(data, "sasrec", {**tiny, "loss": "sampled", "n_negatives": 32}, spec, shop_dir)
    sampled.save(tmp_path / "sampled")
    full = {**tiny, "loss": "full", "training": {"epochs": 1, "num_threads": 1, "lr": 1e-9}}
    warm, _ = train_bundle(data, "sasrec", full, spec, shop_dir, warm_start=tmp_path / "sampled")
    hist = sampled.histories_for_users(["u000001", "u000002"])
    np.testing.assert_allclose(warm.model.score(hist), sampled.model.score(hist), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="cannot start from another bundle"):
        train_bundle(data, "itemknn", None, spec, shop_dir, warm_start=tmp_path / "sampled")
    other = tmp_path / "other-shop"
    generate(SyntheticShopConfig(n_users=300, n_items=150, seed=6)).save(other)
    with pytest.raises(ValueError, match="another catalogue"):
        train_bundle(Dataset.load(other), "sasrec", full, spec, other, warm_start=tmp_path / "sampled")
