"""Text topics with the real offline encoder on a tiny two-vocabulary shop: right groups, right names,
the same answer for the same seed, and the report CLI using them as categories."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from driftrec.cli import app
from driftrec.data.dataset import Dataset
from driftrec.data.schema import TIMESTAMP
from driftrec.features.text import TextEncoderConfig
from driftrec.interests.text_topics import (
    TOPIC_COLUMN,
    TextTopicConfig,
    item_documents,
    name_topics,
    text_topics,
    topic_words,
    with_text_topics,
)

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
GUITAR = [
    "These guitar strings stay in tune and the strings sound bright on my acoustic guitar.",
    "Great guitar strings, the bronze strings last for months of guitar practice.",
    "I restring every guitar with these strings; the strings feel smooth under the fingers.",
    "Coated guitar strings: my guitar keeps its tone and the strings resist rust.",
    "Nickel strings for electric guitar, the strings bend easily and the guitar rings.",
    "Light gauge guitar strings, easy on the fingers, the guitar sounds full.",
]
COFFEE = [
    "This espresso machine pulls rich espresso shots and the coffee crema is thick.",
    "Grinder for coffee beans: the espresso grind is even and the coffee tastes fresh.",
    "A milk frother for espresso and coffee drinks, the espresso latte is creamy.",
    "Coffee beans roasted dark, perfect for espresso and strong morning coffee.",
    "French press coffee maker, brews coffee without bitterness, also fine for espresso.",
    "Espresso cups and a coffee tamper set, my espresso shots improved.",
]


def _reviews() -> pl.DataFrame:
    """Six users review guitar items in the first months, then the coffee items half a year later."""
    rows = []
    for u in range(6):
        for k, text in enumerate(GUITAR[: 6 if u < 3 else 2]):
            rows.append((f"u{u}", f"g{k}", START + dt.timedelta(days=10 * k + u), text))
        for k, text in enumerate(COFFEE):
            rows.append((f"u{u}", f"c{k}", START + dt.timedelta(days=200 + 10 * k + u), text))
    frame = pl.DataFrame(rows, schema=["user_id", "item_id", "ts", "text"], orient="row")
    return frame.with_columns(pl.col("ts").cast(TIMESTAMP), event=pl.lit("review"), value=pl.lit(5.0))


def _config(tmp_path: Path, seed: int = 0) -> TextTopicConfig:
    return TextTopicConfig(
        n_topics=2, seed=seed, encoder=TextEncoderConfig(device="cpu", cache_dir=tmp_path / "cache")
    )


def test_two_vocabularies_make_two_topics_named_by_their_words(tmp_path: Path) -> None:
    topics = text_topics(_reviews(), None, _config(tmp_path))
    mapping = topics.mapping()
    assert len({mapping[f"g{k}"] for k in range(6)}) == 1
    assert len({mapping[f"c{k}"] for k in range(6)}) == 1
    guitar, coffee = mapping["g0"], mapping["c0"]
    assert guitar != coffee
    assert "strings" in guitar or "guitar" in guitar
    assert "espresso" in coffee or "coffee" in coffee
    assert topics.source == "reviews"
    assert topics.topics["n_items"].to_list() == [6, 6]
    assert " / " in guitar  # two words per name by default


def test_same_seed_same_topics_whatever_the_row_order(tmp_path: Path) -> None:
    events = _reviews()
    first = text_topics(events, None, _config(tmp_path, seed=3))
    again = text_topics(events.reverse(), None, _config(tmp_path, seed=3))
    assert first.mapping() == again.mapping()
    assert first.topics.equals(again.topics)


def test_catalogue_text_wins_over_reviews_and_reviews_are_cut_per_review() -> None:
    events = _reviews()
    items = pl.DataFrame({"item_id": ["g0", "x9"], "title": ["Acoustic guitar strings", "Spare part"]})
    docs = item_documents(events, items, TextTopicConfig(chars_per_review=20, max_chars=50))
    by_item = dict(zip(docs["item_id"].to_list(), docs["text"].to_list(), strict=True))
    assert by_item["g0"] == "Acoustic guitar strings"
    assert by_item["x9"] == "Spare part"  # no reviews, catalogue text only
    assert len(by_item["g1"]) <= 50 and by_item["g1"].startswith(GUITAR[1][:20])  # 20 chars per review
    assert docs["item_id"].to_list() == sorted(docs["item_id"].to_list())


def test_names_skip_plural_twins_and_stay_unique() -> None:
    labels = np.array([0, 0, 1, 1], dtype=np.int64)
    docs = ["picks picks pick grip", "picks pick thin grip", "cable cables patch", "cable quality patch"]
    words = topic_words(docs, labels)
    assert words[0][:3] == ["picks", "grip", "pick"]  # by weight, ties alphabetical
    names = name_topics(words)
    assert names[0] == "picks / grip"
    assert names[1] == "cable / patch"
    assert name_topics([["a", "b", "c"], ["a", "b", "c"]]) == ["a / b", "a / b / c"]


def test_with_text_topics_adds_the_column_and_rejects_textless_logs(tmp_path: Path) -> None:
    dataset = Dataset("tiny", _reviews())
    labelled, topics = with_text_topics(dataset, _config(tmp_path))
    assert labelled.items is not None
    assert labelled.items.height == 12
    assert labelled.items.filter(pl.col(TOPIC_COLUMN).is_null()).height == 0
    assert set(labelled.items[TOPIC_COLUMN].to_list()) == set(topics.topics["topic"].to_list())
    with pytest.raises(ValueError, match="no item has text"):
        text_topics(_reviews().drop("text"), None, _config(tmp_path))
    with pytest.raises(ValueError, match="n_topics"):
        TextTopicConfig(n_topics=1)


def test_report_cli_uses_text_topics_as_categories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTREC_CACHE", str(tmp_path / "cache"))
    Dataset("tiny-reviews", _reviews()).save(tmp_path / "data")
    base = ["interests", "report", "--data", str(tmp_path / "data"), "--no-png", "--no-trends",
            "--segments", "2", "--examples", "1", "--plotly-js", "cdn", "--window", "30d"]  # fmt: skip
    runner = CliRunner()
    missing = runner.invoke(app, [*base, "--out", str(tmp_path / "plain")])
    assert missing.exit_code == 2
    assert "--categories-from-text" in missing.output  # the error says how to get categories
    result = runner.invoke(app, [*base, "--out", str(tmp_path / "r"), "--categories-from-text", "2"])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "Categories from item text" in page
    names = pl.read_parquet(tmp_path / "data" / "events.parquet")  # any topic name of both groups
    topics = text_topics(names, None, TextTopicConfig(n_topics=2))
    for name in topics.topics["topic"].to_list():
        assert name in page
    help_text = runner.invoke(app, ["interests", "report", "--help"], env={"COLUMNS": "200"}).output
    assert "--categories-from-text" in help_text
    textless = Dataset("no-text", _reviews().drop("text"))
    textless.save(tmp_path / "bare")
    bare = runner.invoke(
        app, ["interests", "report", "--data", str(tmp_path / "bare"), "--out", str(tmp_path / "b"),
              "--categories-from-text", "2", "--no-png"],
    )  # fmt: skip
    assert bare.exit_code == 2
    assert "no item text" in bare.output
