"""The latency path: index top-k equals exact scoring, no per-request thread switches, micro-batching."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from driftrec.serving import ServingSettings
from driftrec.serving.batching import MicroBatcher
from driftrec.serving.index import IndexConfig
from driftrec.serving.service import RecommendRequest, ServingEngine
from driftrec.workflows.bundle import load_bundle

from .conftest import Api

CASES: list[dict[str, Any]] = [
    {"k": 10},
    {"k": 10, "exclude_seen": False},
    {"k": 7, "category": "Fashion"},
    {"k": 5, "category": "Home & Kitchen"},  # 8 items: over-fetching cannot fill it, exact fallback
    {"k": 10, "min_price": 10.0, "max_price": 40.0},
    {"k": 500},  # more than the catalogue
]


@pytest.fixture(scope="module")
def engines(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """The same bundle served with the (exact) retrieval index and with full-catalogue scoring."""
    root = tmp_path_factory.mktemp("fast-path")
    indexed = ServingEngine.open(
        ServingSettings(
            model=bundle_dir, db=str(root / "a.sqlite"), search=False, index=IndexConfig(kind="exact")
        )
    )
    exact = ServingEngine.open(
        ServingSettings(model=bundle_dir, db=str(root / "b.sqlite"), search=False, retrieval_index=False)
    )
    yield indexed, exact
    indexed.close()
    exact.close()


@pytest.fixture(scope="module")
def users(bundle_dir: Path) -> list[str]:
    return [str(u) for u in load_bundle(bundle_dir).users.ids.to_list()[:15]] + ["never-seen"]


def test_index_top_k_equals_exact_scoring(engines: tuple[Any, Any], users: list[str]) -> None:
    indexed, exact = engines
    assert indexed.retrieval is not None and indexed.retrieval.kind == "exact" and exact.retrieval is None
    for user in users:
        for case in CASES:
            got = indexed.recommend(indexed.state.view(user), **case)
            want = exact.recommend(exact.state.view(user), **case)
            assert [s.item for s in got] == [s.item for s in want], (user, case)
            np.testing.assert_allclose([s.score for s in got], [s.score for s in want], rtol=1e-4, atol=1e-5)
            if "category" in case:
                assert all(indexed.catalogue.category[s.item].startswith(case["category"]) for s in got)
    seen = indexed.state.view(users[0]).items
    assert not set(seen.tolist()) & {s.item for s in indexed.recommend(indexed.state.view(users[0]), 500)}


def test_user_vectors_reproduce_the_models_scores(engines: tuple[Any, Any], users: list[str]) -> None:
    engine = engines[0]
    states = [engine.state.view(u) for u in users]
    history = engine._histories(states, [engine.state.dense_user(u) for u in users])
    model = engine.model
    direct = model.user_vectors(history) @ model.item_vectors().T
    np.testing.assert_allclose(direct[:, 1:], model.score(history)[:, 1:], rtol=1e-4, atol=1e-5)


def test_a_batch_answers_like_single_requests(engines: tuple[Any, Any], users: list[str]) -> None:
    engine = engines[0]
    requests = [RecommendRequest(engine.state.view(u), **c) for u in users[:6] for c in CASES]
    requests.append(RecommendRequest(engine.state.view(users[0]), 5, category="NoSuchCategory"))
    answers = engine.recommend_many(requests)
    for request, answer in zip(requests[:-1], answers[:-1], strict=True):
        single = engine.recommend(
            request.state,
            request.k,
            exclude_seen=request.exclude_seen,
            category=request.category,
            min_price=request.min_price,
            max_price=request.max_price,
        )
        assert not isinstance(answer, Exception)
        assert [s.item for s in answer] == [s.item for s in single]
    assert answers[-1] == []  # an unknown category passes no item: an empty answer, not an error


def test_serving_never_switches_torch_threads_per_request(
    engines: tuple[Any, Any], users: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert torch.get_num_threads() == 1  # set once at start-up from ServingSettings.torch_threads
    calls: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    for engine in engines:
        engine.recommend(engine.state.view(users[0]), 10)
        engine.recommend_many([RecommendRequest(engine.state.view(u), 5) for u in users])
    assert calls == []


def test_concurrent_requests_get_the_sequential_answers(
    open_api: Callable[[ServingSettings], Api],
    settings_for: Callable[..., ServingSettings],
    users: list[str],
) -> None:
    api = open_api(settings_for(search=False, batch_window_ms=20.0, batch_max_requests=16))
    urls = [
        f"/recommend?user_id={u}&k={k}&exclude_seen={str(ex).lower()}"
        for u in users
        for k, ex in ((10, True), (3, False))
    ]
    urls += [f"/recommend?user_id={users[1]}&category=Fashion", f"/recommend?user_id={users[2]}&min_price=9"]
    sequential = [api.get(u) for u in urls]
    assert all(r.status_code == 200 for r in sequential)
    batcher = api.app.state.batcher
    before = batcher.batches

    async def burst() -> list[Any]:
        return await asyncio.gather(
            *(api.client.get(u) for u in urls),
            api.client.get(f"/recommend?user_id={users[0]}&min_price=50&max_price=10"),  # bad alone: 422
            api.client.post("/recommend", json={"history": ["i00001", "nope"], "k": 4}),
        )

    *concurrent, bad, anonymous = api.loop.run_until_complete(burst())
    assert [r.json() for r in concurrent] == [r.json() for r in sequential]
    assert bad.status_code == 422 and anonymous.status_code == 200
    assert len(anonymous.json()["items"]) == 4 and anonymous.json()["unknown_items"] == ["nope"]
    batches = batcher.batches - before
    assert batches < len(urls) / 4, f"{len(urls) + 1} requests took {batches} batches"


def test_micro_batching_can_be_switched_off(
    open_api: Callable[[ServingSettings], Api], settings_for: Callable[..., ServingSettings], users: list[str]
) -> None:
    api = open_api(settings_for(search=False, micro_batch=False))
    assert api.app.state.batcher is None
    answer = api.get(f"/recommend?user_id={users[0]}&k=4")
    assert answer.status_code == 200 and len(answer.json()["items"]) == 4


def test_healthz_counts_stored_events_without_scanning(
    open_api: Callable[[ServingSettings], Api], settings_for: Callable[..., ServingSettings]
) -> None:
    api = open_api(settings_for(search=False))
    assert api.get("/healthz").json()["stored_events"] == 0
    events = [{"user_id": "hz", "item_id": "i00003", "event": "view"}] * 3
    assert api.post("/events", json={"events": events}).status_code == 201
    assert api.get("/healthz").json()["stored_events"] == 3 == api.engine.store.count_events()
    assert api.delete("/users/hz").status_code == 200
    assert api.get("/healthz").json()["stored_events"] == 0


def test_micro_batcher_returns_per_item_errors_and_whole_call_failures() -> None:
    def run(items: list[int]) -> list[int | BaseException]:
        if 13 in items:
            raise RuntimeError("unlucky batch")
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]

    async def scenario() -> tuple[list[Any], list[Any], int]:
        batcher: MicroBatcher[int, int] = MicroBatcher(run, max_size=4, window_s=0.01)
        await batcher.start()
        first = await asyncio.gather(*(batcher.submit(i) for i in range(8)), return_exceptions=True)
        second = await asyncio.gather(batcher.submit(13), return_exceptions=True)
        n = batcher.batches
        await batcher.stop()
        return first, second, n

    first, second, batches = asyncio.run(scenario())
    assert [x if isinstance(x, int) else str(x) for x in first] == [
        0, "odd 1", 20, "odd 3", 40, "odd 5", 60, "odd 7"
    ]  # fmt: skip
    assert isinstance(second[0], RuntimeError) and batches == 3
    with pytest.raises(ValueError, match="max_size"):
        MicroBatcher(run, max_size=0)


def test_long_histories_are_searched_apart_with_the_same_answers(
    engines: tuple[Any, Any], users: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftrec.serving import service

    monkeypatch.setattr(service, "_LONG_EXCLUSION", 5)  # most test users' histories count as long here
    indexed, exact = engines
    calls: list[int] = []
    search = indexed.retrieval.search
    monkeypatch.setattr(
        indexed.retrieval, "search", lambda q, *a, **kw: calls.append(len(q)) or search(q, *a, **kw)
    )
    requests = [RecommendRequest(indexed.state.view(u), 10) for u in users]
    got = indexed.recommend_many(requests)
    want = exact.recommend_many([RecommendRequest(exact.state.view(u), 10) for u in users])
    assert [[s.item for s in g] for g in got] == [[s.item for s in w] for w in want]
    n_long = sum(np.unique(r.state.items).size > 5 for r in requests)
    assert 0 < n_long < len(users) and sorted(calls) == [1] * n_long + [len(users) - n_long]
