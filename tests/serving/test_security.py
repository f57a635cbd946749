"""API keys and roles, hashed storage, and bad input answered with field-level 4xx (never 500)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftrec.serving import ServingSettings
from driftrec.serving.security import ApiKeyRecord, KeyRing, create_api_key, load_keys, save_keys

from .conftest import Api

FAST_N = 2**4  # scrypt cost for tests only; the default (2**14) is what production keys use


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[str, ApiKeyRecord]]:
    return {role: create_api_key(role, f"test-{role}", n=FAST_N) for role in ("read", "ingest", "admin")}  # type: ignore[arg-type]


def test_keys_are_stored_hashed_and_verified(tmp_path: Path) -> None:
    plaintext, record = create_api_key("read", "ci")
    save_keys(tmp_path / "keys.json", [record])
    text = (tmp_path / "keys.json").read_text()
    assert plaintext not in text and plaintext.split("_", 2)[2] not in text
    loaded = load_keys(tmp_path / "keys.json")
    assert loaded == (record,)
    ring = KeyRing(loaded)
    assert ring.role_of(plaintext) == "read"
    assert ring.role_of(plaintext) == "read"  # cached path
    assert ring.role_of(plaintext + "x") is None
    assert ring.role_of("drk_" + record.key_id + "_wrong") is None
    assert ring.role_of("garbage") is None
    with pytest.raises(ValueError, match="role must be one of"):
        create_api_key("root")  # type: ignore[arg-type]


def test_roles_gate_every_endpoint(
    open_api: Callable[[ServingSettings], Api],
    settings_for: Callable[..., ServingSettings],
    keys: dict[str, tuple[str, ApiKeyRecord]],
    item_ids: list[str],
) -> None:
    api = open_api(settings_for(api_keys=tuple(r for _, r in keys.values()), search=False))
    event = {"user_id": "k1", "item_id": item_ids[0], "event": "view"}
    calls: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/events", {"json": event}, "ingest"),
        ("GET", "/recommend", {"params": {"user_id": "k1"}}, "read"),
        ("POST", "/recommend", {"json": {"history": []}}, "read"),
        ("GET", f"/items/{item_ids[0]}/similar", {}, "read"),
        ("GET", "/users/k1/events", {}, "read"),
        ("GET", "/metrics", {}, "read"),
        ("POST", "/items", {"json": {"item_id": "x1", "title": "A red mug"}}, "admin"),
        ("DELETE", "/users/k1", {}, "admin"),
    ]
    allowed = {"read": {"read"}, "ingest": {"ingest"}, "admin": {"read", "ingest", "admin"}}
    for method, url, kwargs, needed in calls:
        assert api.request(method, url, **kwargs).status_code == 401, url
        wrong = api.request(method, url, headers={"X-API-Key": "drk_abc_def"}, **kwargs)
        assert wrong.status_code == 401, url
        for role, (plaintext, _) in keys.items():
            response = api.request(method, url, headers={"X-API-Key": plaintext}, **kwargs)
            if needed in allowed[role]:
                assert response.status_code < 400 or response.status_code in (404, 503), (url, role)
            else:
                assert response.status_code == 403, (url, role, response.status_code)
                assert needed in response.json()["detail"]
    bearer = api.get(
        "/recommend", params={"user_id": "k1"}, headers={"Authorization": f"Bearer {keys['read'][0]}"}
    )
    assert bearer.status_code == 200
    assert api.get("/healthz").status_code == 200  # liveness probes need no key


BAD_EVENTS: list[tuple[Any, str]] = [
    ({"user_id": "u", "item_id": "i", "event": "teleport"}, "event"),
    ({"user_id": "", "item_id": "i", "event": "view"}, "user_id"),
    ({"user_id": "u" * 500, "item_id": "i", "event": "view"}, "user_id"),
    ({"user_id": "u\x00", "item_id": "i", "event": "view"}, "user_id"),
    ({"user_id": "u", "item_id": "i", "event": "view", "ts": "yesterday"}, "ts"),
    ({"user_id": "u", "item_id": "i", "event": "view", "ts": "1900-01-01T00:00:00Z"}, "ts"),
    ({"user_id": "u", "item_id": "i", "event": "view", "ts": "0001-01-01T00:00:00+00:11"}, "ts"),
    ({"user_id": "u", "item_id": "i", "event": "view", "ts": "9999-12-31T23:59:59-14:00"}, "ts"),
    ({"user_id": "u", "item_id": "i", "event": "view", "value": "NaN"}, "value"),
    ({"user_id": "u", "item_id": "i", "event": "view", "colour": "red"}, "colour"),
    ({"user_id": 5, "item_id": "i", "event": "view"}, "user_id"),
    ({"events": []}, "events"),
    ([1, 2, 3], "body"),
]


@pytest.mark.parametrize(("payload", "field"), BAD_EVENTS)
def test_bad_events_are_422_naming_the_field(api: Api, payload: Any, field: str) -> None:
    response = api.post("/events", json=payload)
    assert response.status_code == 422
    locations = [entry["loc"] for entry in response.json()["detail"]]
    assert any(field in [str(part) for part in loc] for loc in locations), locations


def test_other_bad_input_is_4xx(api: Api, item_ids: list[str]) -> None:
    unknown = api.post("/events", json={"events": [{"user_id": "u", "item_id": "no-such", "event": "view"}]})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == [
        "body",
        "events",
        0,
        "item_id",
    ]
    assert (
        api.post("/events", content=b"{not json", headers={"content-type": "application/json"}).status_code
        == 422
    )
    assert (
        api.post("/events", content=b"\xff\xfe", headers={"content-type": "application/json"}).status_code
        == 422
    )
    lone = b'{"user_id": "\\ud800", "item_id": "i", "event": "view"}'
    assert api.post("/events", content=lone, headers={"content-type": "application/json"}).status_code == 422
    for params in (
        {"user_id": "u", "k": 0},
        {"user_id": "u", "k": "ten"},
        {"k": 3},
        {"user_id": "u", "min_price": -1},
    ):
        assert api.get("/recommend", params=params).status_code == 422, params
    assert api.get("/recommend", params={"user_id": "u", "min_price": "nan"}).status_code == 422
    assert api.post("/recommend", json={"history": ["x"] * 5_000}).status_code == 422
    assert api.post("/items", json={"item_id": "blank"}).status_code == 422  # no text to embed
    assert api.get("/search", params={"q": "x" * 600}).status_code == 422


def test_request_size_limit(
    open_api: Callable[[ServingSettings], Api],
    settings_for: Callable[..., ServingSettings],
    item_ids: list[str],
) -> None:
    api = open_api(settings_for(max_body_bytes=4_096, max_batch=5, search=False))
    big = {"events": [{"user_id": "u", "item_id": item_ids[0], "event": "view"}] * 200}
    response = api.post("/events", json=big)
    assert response.status_code == 413 and "4096" in response.json()["detail"][0]["msg"]
    six = {"events": [{"user_id": "u", "item_id": item_ids[0], "event": "view"}] * 6}
    too_many = api.post("/events", json=six)
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["body", "events"]
    assert api.get("/healthz").json()["stored_events"] == 0  # nothing of a rejected batch was stored


def test_strange_strings_in_paths_and_queries_are_4xx(api: Api) -> None:
    for path in ("/users/%ED%A0%80/events", "/users/a%00b/interests", "/items/%FF%FE/similar", "/users/%0A"):
        response = api.request("GET" if "similar" in path or "events" in path else "DELETE", path)
        assert 400 <= response.status_code < 500, (path, response.status_code)
    for q in ("%00", "a%1Bb"):  # control characters
        assert api.get(f"/search?q={q}").status_code == 422, q
    for q in ("%ED%A0%80", "%FF"):  # invalid UTF-8 is decoded with replacement characters: a plain query
        assert api.get(f"/search?q={q}").status_code == 200, q
