"""The registry loads every staged dataset in one call, with the counts its PROVENANCE.md states."""

from __future__ import annotations

import gzip
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from driftrec.data.dataset import Dataset
from driftrec.data.registry import (
    DATASET_NAMES,
    DATASETS_ENV,
    available_datasets,
    datasets_root,
    load_dataset,
)


def _root() -> Path | None:
    try:
        return datasets_root()
    except FileNotFoundError:
        return None


ROOT = _root()
needs_data = pytest.mark.skipif(
    ROOT is None, reason=f"no datasets folder (../shared/datasets or ${DATASETS_ENV})"
)

#: (name, options, event filter, rows, users, items, time resolution) from each PROVENANCE.md.
EXPECTED: list[tuple[str, dict[str, Any], str | None, int, int, int, str]] = [
    ("amazon-sasrec-bert4rec", {}, None, 353_962, 40_226, 54_542, "order"),
    ("amazon-s3rec-beauty", {}, None, 198_502, 22_363, 12_101, "order"),
    ("amazon-unisrec-scientific", {}, None, 59_427, 8_442, 4_385, "order"),
    ("amazon2014-musical-instruments-5core", {}, None, 10_261, 1_429, 900, "days"),
    ("amazon2018-magazine-subscriptions", {}, None, 89_689, 72_098, 2_428, "days"),
    ("taobao-userbehavior-head", {}, None, 84_475, 815, 55_368, "seconds"),
    ("instacart-mini", {}, None, 150_000, 593, 14_190, "relative"),
    ("movielens-100k", {}, None, 100_000, 943, 1_682, "seconds"),
    ("movielens-latest-small", {}, "rating", 100_836, 610, 9_724, "seconds"),
    ("open-bandit-dataset-small", {}, None, 10_000, -1, 80, "seconds"),
    ("yoochoose-rsc15-100k-sample", {"split": "train_full"}, None, 70_278, 17_794, 2_933, "seconds"),
    ("diginetica-sample", {}, None, 12_391, 2_986, 7_139, "days"),
    ("womens-ecommerce-clothing-reviews", {}, None, 23_486, 23_486, 1_206, "order"),
]
ORDER_ONLY = {
    "amazon-sasrec-bert4rec",
    "amazon-s3rec-beauty",
    "amazon-unisrec-scientific",
    "instacart-mini",
    "womens-ecommerce-clothing-reviews",
}


def test_every_folder_has_a_loader() -> None:
    assert len(DATASET_NAMES) == 13
    assert {e[0] for e in EXPECTED} == set(DATASET_NAMES)
    if ROOT is not None:
        folders = {p.name for p in ROOT.iterdir() if p.is_dir()}
        assert folders <= set(DATASET_NAMES)
        assert available_datasets() == sorted(folders)


@needs_data
@pytest.mark.parametrize(
    ("name", "opts", "event", "rows", "users", "items", "resolution"), EXPECTED, ids=[e[0] for e in EXPECTED]
)
def test_counts_match_provenance(
    name: str, opts: dict[str, Any], event: str | None, rows: int, users: int, items: int, resolution: str
) -> None:
    data = load_dataset(name, **opts)
    assert isinstance(data, Dataset) and data.name == name
    events = data.events if event is None else data.events.filter(pl.col("event") == event)
    assert events.height == rows
    if users >= 0:
        assert events["user_id"].n_unique() == users
    assert events["item_id"].n_unique() == items or (data.items is not None and data.items.height == items)
    assert data.meta["time_resolution"] == resolution
    assert all(v["rows_read"] == v["rows_kept"] for v in data.meta["validation"])
    nulls = events.select(pl.col(["user_id", "item_id", "ts", "event"]).null_count())
    assert nulls.sum_horizontal().item() == 0


@needs_data
@pytest.mark.parametrize("name", DATASET_NAMES)
def test_events_are_chronological_within_user(name: str) -> None:
    events = load_dataset(name).events
    steps = events.select(pl.col("ts").diff().over("user_id").alias("step")).drop_nulls()["step"]
    if name in ORDER_ONLY:
        assert (steps > timedelta(0)).all()
    else:
        assert (steps >= timedelta(0)).all()


@needs_data
def test_sequences_keep_file_order() -> None:
    assert ROOT is not None
    with gzip.open(ROOT / "amazon-s3rec-beauty" / "Beauty.txt.gz", "rt") as source:
        user, *items = source.readline().split()
    events = load_dataset("amazon-s3rec-beauty").events.filter(pl.col("user_id") == user)
    assert events["item_id"].to_list() == items


@needs_data
def test_unisrec_last_items_are_the_test_targets() -> None:
    data = load_dataset("amazon-unisrec-scientific")
    last = data.events.group_by("user_id").agg(pl.col("item_id").last()).height
    assert last == 8_442
    assert data.items is not None and data.items["title"].null_count() == 0
    assert data.meta["fixed_split"] == "leave-one-out (UniSRec)"


@needs_data
def test_options_pass_through() -> None:
    data = load_dataset("open-bandit-dataset-small", behavior_policy="bts", campaign="men")
    assert data.items is not None and data.items.height == 34
    assert data.meta["behavior_policy"] == "bts" and data.meta["campaign"] == "men"
    assert set(data.events["event"].unique()) == {"click", "view"}
    assert data.events["propensity_score"].min() < 0.01  # Thompson sampling, not uniform
    tagless = load_dataset("movielens-latest-small", include_tags=False)
    assert tagless.events.height == 100_836


@needs_data
def test_item_side_facts() -> None:
    magazine = load_dataset("amazon2018-magazine-subscriptions")
    # 3,385 metadata lines, of which 1,065 exact duplicates are dropped.
    assert magazine.items is not None and magazine.items.height == 2_320
    rated = magazine.events["item_id"].unique()
    assert rated.is_in(magazine.items["item_id"].implode()).mean() == pytest.approx(0.95, abs=0.01)
    beauty = load_dataset("amazon-s3rec-beauty")
    assert beauty.items is not None
    assert beauty.items["attribute_ids"].explode().n_unique() == 637
    instacart = load_dataset("instacart-mini")
    assert instacart.meta["catalogue_coverage"] == pytest.approx(0.841, abs=0.001)


def test_unknown_name_and_option() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'nope'; known: amazon-s3rec-beauty"):
        load_dataset("nope")
    with pytest.raises(TypeError, match=r"got unknown option\(s\) \['colour'\]"):
        load_dataset("movielens-100k", colour="red")


def test_missing_root_names_the_path_and_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(DATASETS_ENV, str(missing))
    with pytest.raises(FileNotFoundError) as error:
        load_dataset("movielens-100k")
    assert str(missing) in str(error.value) and DATASETS_ENV in str(error.value)
    assert available_datasets() == []
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset("movielens-100k", root=tmp_path)


@needs_data
def test_env_var_selects_the_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DATASETS_ENV, str(ROOT))
    monkeypatch.chdir(tmp_path)
    assert datasets_root() == ROOT
    assert load_dataset("diginetica-sample").events.height == 12_391
