"""The event store contract on both back-ends: SQLite (always) and PostgreSQL (when it can be started)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from driftrec.serving import ServingSettings
from driftrec.serving.store import MIGRATIONS, EventRow, EventStore, ItemRow, open_store

from .conftest import Api


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite")
        return
    url: str = request.getfixturevalue("postgres_url")
    store = open_store(url)  # each test starts from empty tables
    store._execute("DROP TABLE IF EXISTS events, items, forgotten, schema_version")  # type: ignore[attr-defined]
    store.close()
    yield url


def test_store_contract(location: str) -> None:
    store: EventStore = open_store(location)
    latest = MIGRATIONS[-1][0]
    assert store.schema_version == latest
    rows = [EventRow("u1", "i1", "view", 10), EventRow("u2", "i2", "cart", 20, 2.5, "s1")]
    assert store.append(rows) == [1, 2]
    assert store.append([]) == []
    assert [(e.user_id, e.value, e.session_id, e.seq) for e in store.iter_events(batch=1)] == [
        ("u1", None, None, 1),
        ("u2", 2.5, "s1", 2),
    ]
    assert [e.item_id for e in store.user_events("u2")] == ["i2"]
    vector = np.arange(4, dtype=np.float32)
    store.add_item(ItemRow("new", "A title", None, "A > B", None, 9.5, vector))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        store.add_item(ItemRow("new", "again", None, None, None, None, vector))
    assert store.forget_user("u1") == 1 and store.forgotten() == {"u1"}
    store.close()
    reopened = open_store(location)  # migrations are not applied twice; data is all there
    assert reopened.schema_version == latest and reopened.count_events() == 1
    (item,) = reopened.items()
    assert item.item_id == "new" and item.price == 9.5 and np.array_equal(item.vector, vector)
    assert reopened.append([EventRow("u3", "i1", "view", 30)]) == [3]
    reopened.close()


def test_app_on_postgres_rebuilds_state_after_restart(
    postgres_url: str,
    open_api: Callable[[ServingSettings], Api],
    settings_for: Callable[..., ServingSettings],
    item_ids: list[str],
) -> None:
    store = open_store(postgres_url)
    store._execute("DROP TABLE IF EXISTS events, items, forgotten, schema_version")  # type: ignore[attr-defined]
    store.close()
    settings = settings_for(db=postgres_url, search=False)
    first = open_api(settings)
    assert first.get("/healthz").json()["store"] == "PostgresEventStore"
    events = [{"user_id": "pg-user", "item_id": item_ids[i], "event": "view"} for i in range(5)]
    assert first.post("/events", json={"events": events}).status_code == 201
    recs = first.get("/recommend", params={"user_id": "pg-user"}).json()
    first.close()
    second = open_api(settings)
    assert second.get("/users/pg-user/events").json()["total"] == 5
    assert second.get("/recommend", params={"user_id": "pg-user"}).json() == recs
    assert second.delete("/users/pg-user").json()["deleted_events"] == 5
