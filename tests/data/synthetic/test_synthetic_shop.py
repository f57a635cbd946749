"""The generated shop: deterministic, canonical, with planted migrations that show in the log."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from driftrec.data.schema import EVENTS_SCHEMA, ITEMS_SCHEMA
from driftrec.data.synthetic import SyntheticShop, SyntheticShopConfig, generate, iter_events, write_shop
from driftrec.data.synthetic import events as events_module
from driftrec.data.synthetic.words import GENERIC_ADJECTIVES

SMALL = SyntheticShopConfig(n_users=300, n_items=400, n_brands=24, events_per_user_mean=80.0, seed=3)


@pytest.fixture(scope="module")
def shop() -> SyntheticShop:
    return generate(SMALL)


def _frames(s: SyntheticShop) -> list[pl.DataFrame]:
    assert s.dataset.items is not None
    return [s.dataset.events, s.dataset.items, s.truth, s.segments]


def test_same_seed_gives_identical_frames(shop: SyntheticShop) -> None:
    for a, b in zip(_frames(shop), _frames(generate(SMALL)), strict=True):
        assert_frame_equal(a, b)


def test_different_seed_gives_different_frames(shop: SyntheticShop) -> None:
    other = generate(SMALL.replace(seed=4))
    for a, b in zip(_frames(shop), _frames(other), strict=True):
        assert not a.equals(b)


def test_canonical_schema_and_metadata(shop: SyntheticShop) -> None:
    ds = shop.dataset
    assert ds.name == "synthetic-shop"
    assert dict(ds.events.schema) == EVENTS_SCHEMA
    assert ds.items is not None and dict(ds.items.schema) == ITEMS_SCHEMA
    assert ds.meta["time_resolution"] == "seconds"
    assert SyntheticShopConfig.from_dict(ds.meta["config"]) == SMALL
    assert ds.events["user_id"][0] == "u000000" and ds.items["item_id"][0] == "i00000"
    assert ds.items["category"].str.contains(" > ").all()
    assert set(ds.events["item_id"].unique()) <= set(ds.items["item_id"])
    assert ds.events.height == pytest.approx(SMALL.n_users * SMALL.events_per_user_mean, rel=0.1)


def test_funnel_counts_decrease(shop: SyntheticShop) -> None:
    counts = dict(shop.dataset.events["event"].value_counts().iter_rows())
    assert counts["view"] > counts["click"] > counts["cart"] > counts["purchase"] > 0
    assert 0 < counts["rating"] < counts["purchase"] and 0 < counts["review"] < counts["purchase"]


def test_every_purchase_follows_a_click_and_a_cart(shop: SyntheticShop) -> None:
    ev = shop.dataset.events
    buys = ev.filter(pl.col("event") == "purchase").select("user_id", "item_id", "ts").with_row_index("buy")
    for step in ("click", "cart"):
        earlier = ev.filter(pl.col("event") == step).select(
            "user_id", "item_id", pl.col("ts").alias("t_step")
        )
        hit = buys.join(earlier, on=["user_id", "item_id"]).filter(pl.col("t_step") <= pl.col("ts"))
        assert hit["buy"].n_unique() == buys.height, step


def test_timestamps_inside_horizon_and_sorted_within_user(shop: SyntheticShop) -> None:
    ev = shop.dataset.events
    start = SMALL.start_datetime()
    assert ev["ts"].min() >= start  # type: ignore[operator]
    assert ev["ts"].max() < start + dt.timedelta(days=SMALL.days)  # type: ignore[operator]
    unsorted = ev.select((pl.col("ts").diff().over("user_id") < pl.duration(microseconds=0)).sum()).item()
    assert unsorted == 0
    assert ev["user_id"].is_sorted()


def test_values_and_texts_by_event(shop: SyntheticShop) -> None:
    ev = shop.dataset.events
    ratings = ev.filter(pl.col("event") == "rating")["value"]
    assert ratings.min() >= 1 and ratings.max() <= 5 and (ratings == ratings.round()).all()  # type: ignore[operator]
    reviews = ev.filter(pl.col("event") == "review")
    assert reviews["text"].null_count() == 0 and ev.filter(pl.col("event") != "review")[
        "text"
    ].null_count() == (ev.height - reviews.height)
    assert ev.filter(pl.col("event") == "purchase")["value"].min() > 0  # type: ignore[operator]
    assert (
        ev.filter(pl.col("event").is_in(["view", "click", "cart", "purchase"]))["session_id"].null_count()
        == 0
    )


def test_truth_frame_shape(shop: SyntheticShop) -> None:
    truth = shop.truth
    assert truth.columns == ["user_id", "ts", "end_ts", "from_category", "to_category", "kind", "share"]
    assert set(truth["kind"].unique()) == {"abrupt", "gradual", "burst"}
    assert (truth["from_category"] != truth["to_category"]).all()
    assert (truth["end_ts"] >= truth["ts"]).all()
    abrupt = truth.filter(pl.col("kind") == "abrupt")
    assert (abrupt["ts"] == abrupt["end_ts"]).all()
    # about migration_rate abrupt migrations per user (Poisson, capped)
    assert abrupt.height / SMALL.n_users == pytest.approx(SMALL.migration_rate, abs=0.15)


def test_abrupt_migrations_are_visible_in_views(shop: SyntheticShop) -> None:
    assert shop.dataset.items is not None
    window = dt.timedelta(days=0.09 * SMALL.days)
    views = (
        shop.dataset.events.filter(pl.col("event") == "view")
        .join(shop.dataset.items.select("item_id", "category"), on="item_id")
        .select("user_id", pl.col("ts").alias("t"), "category")
    )
    around = (
        shop.truth.filter(pl.col("kind") == "abrupt")
        .join(views, on="user_id")
        .filter((pl.col("t") - pl.col("ts")).abs() < window)
        .with_columns(after=pl.col("t") >= pl.col("ts"))
        .group_by("after")
        .agg(
            to_share=(pl.col("category") == pl.col("to_category")).mean(),
            from_share=(pl.col("category") == pl.col("from_category")).mean(),
            n=pl.len(),
        )
    )
    before = around.filter(~pl.col("after")).row(0, named=True)
    after = around.filter(pl.col("after")).row(0, named=True)
    assert min(before["n"], after["n"]) > 300
    assert after["to_share"] > 0.35 and before["to_share"] < 0.05
    assert before["from_share"] > 0.35 and after["from_share"] < 0.05


def test_titles_differ_by_category(shop: SyntheticShop) -> None:
    items = shop.dataset.items
    assert items is not None
    generic = {a.lower() for a in GENERIC_ADJECTIVES}
    words: dict[str, set[str]] = {}
    for category, title, description in items.select("category", "title", "description").iter_rows():
        top = category.split(" > ")[0]
        words.setdefault(top, set()).update(set(f"{title} {description}".lower().split()) - generic)
    shared_template = set.intersection(*words.values())
    for (a, wa), (b, wb) in itertools.combinations(words.items(), 2):
        wa, wb = wa - shared_template, wb - shared_template
        assert len(wa & wb) / len(wa | wb) < 0.1, (a, b, wa & wb)


def test_save_load_round_trip(shop: SyntheticShop, tmp_path: Path) -> None:
    shop.save(tmp_path / "shop")
    loaded = SyntheticShop.load(tmp_path / "shop")
    assert loaded.config == shop.config
    assert loaded.dataset.name == shop.dataset.name and loaded.dataset.meta == shop.dataset.meta
    for a, b in zip(_frames(loaded), _frames(shop), strict=True):
        assert_frame_equal(a, b)


def test_streaming_writer_matches_generate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small blocks force the multi-block path: streamed and in-memory logs must still agree."""
    monkeypatch.setattr(events_module, "VIEWS_PER_BLOCK", 2_000)
    blocks = list(iter_events(SMALL))
    assert len(blocks) > 5 and all(b["user_id"].is_sorted() for b in blocks)
    in_memory = generate(SMALL)
    assert_frame_equal(in_memory.dataset.events, pl.concat(blocks))
    loaded = SyntheticShop.load(write_shop(SMALL, tmp_path / "stream"))
    for a, b in zip(_frames(loaded), _frames(in_memory), strict=True):
        assert_frame_equal(a, b)
    assert loaded.dataset.events["session_id"].n_unique() == in_memory.dataset.events["session_id"].n_unique()


def test_load_rejects_a_plain_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        SyntheticShop.load(tmp_path)
