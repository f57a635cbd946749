from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest

from driftrec.data import Dataset
from driftrec.data.cleaning import CleaningConfig
from driftrec.workflows.prepare import SplitSpec, prepare


def _events() -> pl.DataFrame:
    rows = []
    for u in range(6):
        for step, item in enumerate([1, 2, 2, 3, 4, 5]):
            event = "view" if step % 2 == 0 else "purchase"
            rows.append((f"u{u}", f"i{(item + u) % 7}", datetime(2024, 1, 1 + step + u, tzinfo=UTC), event))
    return pl.DataFrame(rows, schema=["user_id", "item_id", "ts", "event"], orient="row")


def test_first_interaction_only_collapses_repeats_per_item() -> None:
    ds = Dataset("t", _events())
    all_events = prepare(ds, SplitSpec())
    first_only = prepare(ds, SplitSpec(first_interaction_only=True))
    assert len(first_only.log) == len(all_events.log) - 6  # one repeated item per user
    key = first_only.log.user * 100 + first_only.log.item
    assert np.unique(key).size == key.size


def test_event_selection_and_catalogue_items_rankable() -> None:
    items = pl.DataFrame({"item_id": ["i0", "i1", "never-seen"], "title": ["a", "b", "c"]})
    prepared = prepare(Dataset("t", _events(), items), SplitSpec(events=("purchase",)))
    assert set(prepared.dataset.events.get_column("event").unique()) == {"purchase"}
    assert "never-seen" in prepared.items.ids.to_list()
    assert prepared.log.n_items == len(prepared.items)


def test_temporal_default_cut_is_a_quantile() -> None:
    prepared = prepare(Dataset("t", _events()), SplitSpec(protocol="temporal", test_fraction=0.2))
    t = prepared.split.protocol["test_start_us"]
    assert int(np.quantile(prepared.log.ts, 0.8)) == t
    assert (prepared.split.train.ts < prepared.split.protocol["valid_start_us"]).all()


def test_cleaning_removing_everything_is_an_error() -> None:
    with pytest.raises(ValueError, match="no events left"):
        prepare(Dataset("t", _events()), cleaning=CleaningConfig(user_k=100))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"protocol": "random"}, "protocol must be"),
        ({"test_fraction": 0.7}, "test_fraction must lie in"),
        ({"min_length": 2}, "min_length must be >= 3"),
    ],
)
def test_split_spec_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SplitSpec(**kwargs)  # type: ignore[arg-type]
