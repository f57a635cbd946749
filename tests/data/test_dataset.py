"""Dataset: canonical columns and a Parquet round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from driftrec.data.dataset import Dataset
from driftrec.data.schema import EVENTS_SCHEMA, ITEMS_SCHEMA, USERS_SCHEMA


def _dataset() -> Dataset:
    events = pl.DataFrame(
        {
            "user_id": ["u1", "u2"],
            "item_id": ["i1", "i2"],
            "ts": [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)],
            "event": ["view", "rating"],
            "value": [None, 4.5],
            "shop": ["x", "y"],  # an extra column travels along
        }
    )
    items = pl.DataFrame({"item_id": ["i1", "i2"], "title": ["Tea", "Mug"], "category": ["Food > Tea", None]})
    users = pl.DataFrame({"user_id": ["u1", "u2"], "region": ["north", "south"]})
    return Dataset("shop", events, items, users, {"source": "test", "time_resolution": "seconds"})


def test_conforms_to_canonical_schema() -> None:
    ds = _dataset()
    assert ds.events.columns == [*EVENTS_SCHEMA, "shop"]
    assert ds.events.schema["ts"] == pl.Datetime("us", "UTC")
    assert ds.events["text"].null_count() == 2
    assert ds.items is not None and ds.items.columns == list(ITEMS_SCHEMA)
    assert ds.users is not None and ds.users.columns == [*USERS_SCHEMA, "region"]


def test_save_load_round_trip(tmp_path: Path) -> None:
    ds = _dataset()
    out = ds.save(tmp_path / "saved")
    assert sorted(p.name for p in out.iterdir()) == [
        "events.parquet",
        "items.parquet",
        "meta.json",
        "users.parquet",
    ]
    back = Dataset.load(out)
    assert back.name == "shop"
    assert back.meta == {"source": "test", "time_resolution": "seconds"}
    assert_frame_equal(back.events, ds.events)
    assert back.items is not None and ds.items is not None
    assert_frame_equal(back.items, ds.items)
    assert back.users is not None and ds.users is not None
    assert_frame_equal(back.users, ds.users)


def test_round_trip_without_optional_tables(tmp_path: Path) -> None:
    ds = Dataset("bare", _dataset().events)
    back = Dataset.load(ds.save(tmp_path))
    assert back.items is None and back.users is None and back.meta == {}
    assert_frame_equal(back.events, ds.events)


def test_load_without_meta_takes_the_directory_name(tmp_path: Path) -> None:
    d = tmp_path / "retail"
    Dataset("x", _dataset().events).save(d)
    (d / "meta.json").unlink()
    assert Dataset.load(d).name == "retail"


def test_load_rejects_a_directory_without_events(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"holds no events\.parquet"):
        Dataset.load(tmp_path)


def test_with_events_keeps_tables_and_merges_meta() -> None:
    ds = _dataset()
    smaller = ds.with_events(ds.events.head(1), cleaned=True)
    assert smaller.events.height == 1
    assert smaller.name == "shop"
    assert smaller.items is not None and ds.items is not None
    assert_frame_equal(smaller.items, ds.items)
    assert smaller.users is not None and ds.users is not None
    assert_frame_equal(smaller.users, ds.users)
    assert smaller.meta == {"source": "test", "time_resolution": "seconds", "cleaned": True}
    assert ds.meta == {"source": "test", "time_resolution": "seconds"}
