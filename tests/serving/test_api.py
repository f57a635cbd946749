"""In-process API tests (httpx ASGITransport): every endpoint, persistence before acknowledgement, restart."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from driftrec.serving import ServingSettings
from driftrec.serving.rerank import UserState

from .conftest import Api

ApiFactory = Callable[[ServingSettings], Api]


def _stored(db: str) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return [tuple(r) for r in conn.execute("SELECT user_id, item_id, event FROM events ORDER BY seq")]


def test_healthz_and_openapi_list_every_endpoint(api: Api) -> None:
    health = api.get("/healthz").json()
    assert health["status"] == "ok" and health["model"] == "sasrec" and health["schema_version"] == 3
    assert health["search"] is True and health["items"] == len(api.engine.catalogue)
    paths = api.get("/openapi.json").json()["paths"]
    for path in (
        "/events",
        "/recommend",
        "/search",
        "/items",
        "/items/{item_id}/similar",
        "/users/{user_id}/interests",
        "/users/{user_id}",
        "/healthz",
        "/metrics",
    ):
        assert path in paths, path
    assert "post" in paths["/recommend"] and "get" in paths["/recommend"]


def test_events_are_stored_before_the_reply_and_reflected_next(api: Api, item_ids: list[str]) -> None:
    user = "fresh-user-1"
    before = api.get("/recommend", params={"user_id": user, "k": 5}).json()
    assert before["known_user"] is False and before["history_length"] == 0 and len(before["items"]) == 5
    target = before["items"][0]["item_id"]
    one = api.post("/events", json={"user_id": user, "item_id": target, "event": "view"})
    assert one.status_code == 201 and one.json()["accepted"] == 1 and one.json()["durable"] is True
    batch = [{"user_id": user, "item_id": item_ids[i], "event": "click"} for i in (3, 4)]
    ack = api.post("/events", json={"events": batch}).json()
    assert ack["accepted"] == 2 and ack["last_seq"] == ack["first_seq"] + 1
    # committed: a separate connection sees the rows the moment the reply arrived
    rows = [r for r in _stored(api.settings.db) if r[0] == user]
    assert rows == [(user, target, "view"), (user, item_ids[3], "click"), (user, item_ids[4], "click")]
    after = api.get("/recommend", params={"user_id": user, "k": 5}).json()
    assert after["known_user"] is True and after["history_length"] == 3
    shown = {r["item_id"] for r in after["items"]}
    assert target not in shown and item_ids[3] not in shown  # seen items are excluded by default
    with_seen = api.get("/recommend", params={"user_id": user, "k": 200, "exclude_seen": False}).json()
    assert target in {r["item_id"] for r in with_seen["items"]}
    history = api.get(f"/users/{user}/events").json()
    assert [e["item_id"] for e in history["events"]] == [target, item_ids[3], item_ids[4]]


def test_recommend_for_known_users_reflects_their_trained_history(api: Api, known_user: str) -> None:
    body = api.get("/recommend", params={"user_id": known_user, "k": 7, "explain": True}).json()
    assert body["known_user"] is True and body["history_length"] > 0 and len(body["items"]) == 7
    assert [r["rank"] for r in body["items"]] == list(range(1, 8))
    scores = [r["score"] for r in body["items"]]
    assert scores == sorted(scores, reverse=True)
    history = {
        e["item_id"]
        for e in api.get(f"/users/{known_user}/events", params={"limit": 10_000}).json()["events"]
    }
    for rec in body["items"]:
        explanation = rec["explanation"]
        assert explanation["method"] == "item-similarity"
        assert explanation["items"] and {c["item_id"] for c in explanation["items"]} <= history
        assert sum(c["weight"] for c in explanation["items"]) <= 1.0 + 1e-6
        assert explanation["categories"][0]["category"]


def test_anonymous_history_skips_and_lists_unknown_items(api: Api, item_ids: list[str]) -> None:
    body = api.post("/recommend", json={"history": [item_ids[0], "no-such-item"], "k": 4}).json()
    assert body["unknown_items"] == ["no-such-item"] and body["history_length"] == 1
    assert len(body["items"]) == 4 and item_ids[0] not in {r["item_id"] for r in body["items"]}
    # the same history given twice answers the same (stateless)
    again = api.post("/recommend", json={"history": [item_ids[0]], "k": 4}).json()
    assert [r["item_id"] for r in again["items"]] == [r["item_id"] for r in body["items"]]


def test_category_and_price_filters(api: Api, known_user: str) -> None:
    categories = [c for c in api.engine.catalogue.category if c]
    top = categories[0].split(" > ")[0]
    body = api.get("/recommend", params={"user_id": known_user, "k": 50, "category": top}).json()
    assert body["items"] and all(r["category"].split(" > ")[0] == top for r in body["items"])
    cheap = api.post("/recommend", json={"history": [], "k": 50, "min_price": 10, "max_price": 40}).json()
    assert cheap["items"] and all(10 <= r["price"] <= 40 for r in cheap["items"])
    bad = api.get("/recommend", params={"user_id": known_user, "min_price": 50, "max_price": 10})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "min_price"]


def test_search_by_text_and_personalised(api: Api, known_user: str) -> None:
    plain = api.get("/search", params={"q": "running shoes", "k": 5}).json()
    assert plain["personalised"] is False and len(plain["items"]) == 5
    top_title = plain["items"][0]["title"].lower()
    assert any(word in top_title for word in ("running", "shoe", "sneaker", "trainer"))
    personal = api.get("/search", params={"q": "running shoes", "k": 5, "user_id": known_user}).json()
    assert personal["personalised"] is True
    assert all(set(r["score_parts"]) == {"text", "personal"} for r in personal["items"])
    assert api.get("/search", params={"q": "   "}).status_code == 422


def test_similar_items(api: Api, item_ids: list[str]) -> None:
    body = api.get(f"/items/{item_ids[2]}/similar", params={"k": 5}).json()
    ids = [r["item_id"] for r in body["items"]]
    assert len(ids) == 5 and item_ids[2] not in ids and len(set(ids)) == 5
    vectors = api.engine.vectors
    dense = [api.engine.catalogue.dense(i) for i in ids]
    sims = vectors[dense] @ vectors[api.engine.catalogue.dense(item_ids[2])]
    assert np.all(np.diff(sims) <= 1e-5)  # ordered by similarity in the model's item space
    assert api.get("/items/nope/similar").status_code == 404


def test_interests_profile_and_timeline(api: Api, known_user: str) -> None:
    body = api.get(f"/users/{known_user}/interests", params={"level": 0}).json()
    assert body["n_events"] > 0 and body["profile"] and body["timeline"]
    assert abs(sum(p["share"] for p in body["profile"]) - 1.0) < 1e-3
    assert isinstance(body["migrations"], list)
    assert api.get("/users/never-seen/interests").status_code == 404
    assert api.get(f"/users/{known_user}/interests", params={"window": "0x"}).status_code == 422


def test_metrics_in_prometheus_format(api: Api) -> None:
    api.get("/healthz")
    text = api.get("/metrics").text
    assert "# TYPE driftrec_http_requests_total counter" in text
    assert 'driftrec_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "driftrec_http_request_duration_seconds_bucket" in text and "driftrec_live_users" in text


def test_new_item_is_searchable_recommendable_and_survives_restart(
    open_api: ApiFactory, settings_for: Callable[..., ServingSettings], item_ids: list[str]
) -> None:
    settings = settings_for()
    first = open_api(settings)
    item = {
        "item_id": "NEW-TENT",
        "title": "Ultralight two-person camping tent",
        "category": "Sports > Camping",
    }
    created = first.post("/items", json={**item, "price": 199.0})
    assert created.status_code == 201 and created.json() == {
        "item_id": "NEW-TENT",
        "recommendable": True,
        "searchable": True,
    }
    assert first.post("/items", json=item).status_code == 409
    assert (
        first.get("/search", params={"q": "camping tent", "k": 1}).json()["items"][0]["item_id"] == "NEW-TENT"
    )
    everything = first.post("/recommend", json={"history": item_ids[:3], "k": 1000}).json()["items"]
    assert "NEW-TENT" in {r["item_id"] for r in everything}  # the model scores it without retraining
    assert (
        first.post("/events", json={"user_id": "camper", "item_id": "NEW-TENT", "event": "cart"}).status_code
        == 201
    )
    similar = first.get("/items/NEW-TENT/similar", params={"k": 3}).json()["items"]
    assert len(similar) == 3
    first.close()
    second = open_api(settings)
    assert (
        second.get("/search", params={"q": "camping tent", "k": 1}).json()["items"][0]["item_id"]
        == "NEW-TENT"
    )
    events = second.get("/users/camper/events").json()["events"]
    assert [e["item_id"] for e in events] == ["NEW-TENT"]


def test_restart_rebuilds_state_and_forget_is_permanent(
    open_api: ApiFactory, settings_for: Callable[..., ServingSettings], item_ids: list[str], known_user: str
) -> None:
    settings = settings_for()
    first = open_api(settings)
    events = [{"user_id": f"r{i % 3}", "item_id": item_ids[i], "event": "view"} for i in range(12)]
    assert first.post("/events", json={"events": events}).status_code == 201
    recs = first.get("/recommend", params={"user_id": "r1", "k": 5}).json()
    assert first.delete("/users/r2").json() == {"user_id": "r2", "deleted_events": 4}
    assert first.delete(f"/users/{known_user}").json()["deleted_events"] == 0
    assert first.delete("/users/nobody-at-all").status_code == 404
    first.close()
    second = open_api(settings)
    assert second.get("/recommend", params={"user_id": "r1", "k": 5}).json() == recs
    assert second.get("/users/r0/events").json()["total"] == 4
    assert second.get("/users/r2/events").status_code == 404
    assert [r[0] for r in _stored(settings.db)].count("r2") == 0
    forgotten = second.get("/recommend", params={"user_id": known_user}).json()
    assert forgotten["known_user"] is False and forgotten["history_length"] == 0


class _ReverseReranker:
    """A real (if simple) policy: show the model's candidates in reverse order, with its own scores."""

    def __init__(self) -> None:
        self.seen: list[UserState] = []

    def rerank(
        self, user_state: UserState, candidates: np.ndarray, scores: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        self.seen.append(user_state)
        return candidates[::-1], np.arange(candidates.size, 0, -1, dtype=np.float32)


def test_reranker_hook_reorders_the_candidate_pool(
    open_api: ApiFactory, settings_for: Callable[..., ServingSettings], known_user: str
) -> None:
    reranker = _ReverseReranker()
    api = open_api(settings_for(reranker=reranker, candidate_pool=20, search=False))
    plain = api.get("/recommend", params={"user_id": known_user, "k": 20, "rerank": False}).json()["items"]
    ranked = api.get("/recommend", params={"user_id": known_user, "k": 20}).json()["items"]
    assert [r["item_id"] for r in ranked] == [r["item_id"] for r in plain][::-1]
    assert reranker.seen and reranker.seen[-1].user_id == known_user and reranker.seen[-1].items.size > 0
    assert api.get("/search", params={"q": "shoes"}).status_code == 503  # search turned off


def test_store_is_wal_with_versioned_migrations(api: Api) -> None:
    with sqlite3.connect(api.settings.db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [1, 2, 3]
    assert api.engine.store.synchronous == "FULL"


def test_pseudonymised_ids_never_reach_the_store(
    open_api: ApiFactory, settings_for: Callable[..., ServingSettings], item_ids: list[str]
) -> None:
    from driftrec.data.pseudonymise import pseudonymise_id

    settings = settings_for(pseudonymise_key=b"secret-key", search=False)
    api = open_api(settings)
    assert (
        api.post("/events", json={"user_id": "alice", "item_id": item_ids[0], "event": "view"}).status_code
        == 201
    )
    stored = _stored(settings.db)
    assert stored == [(pseudonymise_id("alice", b"secret-key"), item_ids[0], "view")]
    assert "alice" not in Path(settings.db).read_bytes().decode("latin-1")
    assert api.get("/users/alice/events").json()["total"] == 1
    assert api.delete("/users/alice").json()["deleted_events"] == 1


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_store_reopens_without_reapplying_migrations(tmp_path: Path, synchronous: str) -> None:
    from driftrec.serving.store import EventRow, SQLiteEventStore

    store = SQLiteEventStore(tmp_path / "s.sqlite", synchronous)  # type: ignore[arg-type]
    assert store.append([EventRow("u", "i", "view", 1), EventRow("u", "j", "cart", 2)]) == [1, 2]
    store.close()
    again = SQLiteEventStore(tmp_path / "s.sqlite", synchronous)  # type: ignore[arg-type]
    assert again.schema_version == 3 and [e.item_id for e in again.iter_events(batch=1)] == ["i", "j"]
    assert again.forget_user("u") == 2 and again.count_events() == 0 and again.forgotten() == {"u"}
    assert again.append([EventRow("v", "i", "view", 3)]) == [3]  # keys are never reused
    again.close()


def test_filters_on_fields_the_catalogue_lacks_are_422(
    open_api: ApiFactory, settings_for: Callable[..., ServingSettings], item_ids: list[str], tmp_path: Path
) -> None:
    import polars as pl

    catalogue = tmp_path / "items.parquet"
    pl.DataFrame({"item_id": item_ids, "title": [f"item {i}" for i in item_ids]}).write_parquet(catalogue)
    api = open_api(settings_for(items=catalogue, search=False))
    for params, field in (({"category": "Books"}, "category"), ({"max_price": 5}, "max_price")):
        response = api.get("/recommend", params={"user_id": "u", **params})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", field]
    assert api.get("/users/u/interests").status_code == 503  # a deployment without categories
