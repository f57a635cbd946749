"""``create_app(settings)``: the FastAPI application, state in ``app.state`` loaded in the lifespan.

Endpoints are thin: validate (pydantic), authorise (role), map the user id at the boundary (keyed hash
when configured), call the :class:`~driftrec.serving.service.ServingEngine`, shape the answer. Blocking
work (model, store) runs in FastAPI's thread pool because the endpoints are plain functions.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import numpy as np
from fastapi import Body, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from pydantic import AfterValidator

from driftrec import __version__
from driftrec.data.schema import EVENT_TYPES
from driftrec.serving import dashboard
from driftrec.serving import schemas as S
from driftrec.serving.batching import MicroBatcher
from driftrec.serving.explain import Explanation
from driftrec.serving.interests import user_interests
from driftrec.serving.middleware import BodyLimit, RequestMetrics
from driftrec.serving.security import KeyRing, Role, pseudonymiser
from driftrec.serving.service import (
    Conflict,
    Invalid,
    NotFound,
    RecommendRequest,
    Scored,
    ServingEngine,
    Unavailable,
)
from driftrec.serving.settings import ServingSettings
from driftrec.serving.store import EventRow

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
IdPath = Annotated[str, Path(min_length=1, max_length=S.MAX_ID), AfterValidator(S.clean_text)]


async def _engine(request: Request) -> ServingEngine:
    engine: ServingEngine = request.app.state.engine
    return engine


Engine = Annotated[ServingEngine, Depends(_engine)]


def _authoriser(keys: KeyRing, needed: Role) -> Callable[[Request], Awaitable[None]]:
    # async, so that an open API costs no thread hop; verifying a new key (a slow hash) still runs
    # in the thread pool, off the event loop
    async def check(request: Request) -> None:
        if not keys.enabled:
            return
        presented = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if presented is None and auth.lower().startswith("bearer "):
            presented = auth[7:].strip()
        if not presented:
            raise HTTPException(401, "missing API key (X-API-Key header or Authorization: Bearer)")
        role = await run_in_threadpool(keys.role_of, presented)
        if role is None:
            raise HTTPException(401, "invalid API key")
        if not keys.allows(role, needed):
            raise HTTPException(403, f"this key's role {role!r} may not do this (needs {needed!r})")

    return check


def _explanation(engine: ServingEngine, e: Explanation | None) -> S.ExplanationOut | None:
    if e is None:
        return None
    return S.ExplanationOut(
        method=e.method,
        items=[
            S.ItemContribution(item_id=engine.catalogue.external(int(c.key)), weight=c.weight)
            for c in e.items
        ],
        categories=[S.CategoryContribution(category=str(c.key), weight=c.weight) for c in e.categories],
    )


def _items(engine: ServingEngine, scored: list[Scored]) -> list[S.RecommendedItem]:
    out = []
    for rank, s in enumerate(scored, start=1):
        info = engine.catalogue.describe(s.item)
        out.append(
            S.RecommendedItem(
                item_id=engine.catalogue.external(s.item),
                rank=rank,
                score=s.score if np.isfinite(s.score) else -1e30,
                title=info["title"],  # type: ignore[arg-type]
                category=info["category"],  # type: ignore[arg-type]
                price=info["price"],  # type: ignore[arg-type]
                explanation=_explanation(engine, s.explanation),
                score_parts=s.parts,
            )
        )
    return out


async def _recommend(request: Request, engine: ServingEngine, question: RecommendRequest) -> list[Scored]:
    """Through the micro-batcher when it is on (filters checked first: a bad one fails alone, at once)."""
    engine.check_filters(question.category, question.min_price, question.max_price)
    batcher: MicroBatcher[RecommendRequest, list[Scored]] | None = request.app.state.batcher
    if batcher is not None:
        return await batcher.submit(question)
    return await run_in_threadpool(engine.recommend, **_as_kwargs(question))


def _as_kwargs(question: RecommendRequest) -> dict[str, Any]:
    return {
        "state": question.state,
        "k": question.k,
        "exclude_seen": question.exclude_seen,
        "category": question.category,
        "min_price": question.min_price,
        "max_price": question.max_price,
        "with_explanation": question.with_explanation,
        "rerank": question.rerank,
    }


def _validation_errors(errors: list[Any]) -> list[dict[str, Any]]:
    """Field, message and type only: echoing the input back could itself fail to serialise."""
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in errors
    ]


def create_app(settings: ServingSettings) -> FastAPI:
    """The service for ``settings``; the model and store are opened when the app starts (lifespan)."""
    keys = KeyRing(settings.api_keys)
    pseudo = pseudonymiser(settings.pseudonymise_key)
    registry = CollectorRegistry()
    ingested = Counter("driftrec_events_ingested", "Events stored and applied", registry=registry)
    users_gauge = Gauge("driftrec_live_users", "Users with a live state", registry=registry)
    items_gauge = Gauge("driftrec_catalogue_items", "Items in the served catalogue", registry=registry)
    if not keys.enabled:
        log.warning("no API keys configured: the API is open (development mode)")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = ServingEngine.open(settings)
        app.state.engine = engine
        batcher: MicroBatcher[RecommendRequest, list[Scored]] | None = None
        if settings.micro_batch:
            batcher = MicroBatcher(
                engine.recommend_many, settings.batch_max_requests, settings.batch_window_ms / 1000
            )
            await batcher.start()
        app.state.batcher = batcher
        users_gauge.set_function(lambda: engine.state.n_users)
        items_gauge.set_function(lambda: len(engine.catalogue))
        try:
            yield
        finally:
            if batcher is not None:
                await batcher.stop()
            engine.close()

    app = FastAPI(
        title=f"{settings.title} serving API",
        version=__version__,
        description="Recommendations that follow each shopper's interests as events arrive. "
        "Authenticate with an X-API-Key header (roles: read, ingest, admin) when keys are configured.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.registry = registry
    app.add_middleware(RequestMetrics, registry=registry)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    read = Depends(_authoriser(keys, "read"))
    ingest = Depends(_authoriser(keys, "ingest"))
    admin = Depends(_authoriser(keys, "admin"))

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_errors(list(exc.errors()))}, status_code=422)

    @app.exception_handler(Invalid)
    async def on_invalid(request: Request, exc: Invalid) -> JSONResponse:
        return JSONResponse(S.errors_body(exc.errors, str(exc)), status_code=422)

    @app.exception_handler(NotFound)
    async def on_not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc.args[0] if exc.args else exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def on_conflict(request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(Unavailable)
    async def on_unavailable(request: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    # ------------------------------------------------------------------------------------ events
    @app.post("/events", response_model=S.EventsAck, status_code=201, dependencies=[ingest], tags=["events"])
    def post_events(engine: Engine, body: Annotated[S.EventIn | S.EventBatch, Body()]) -> S.EventsAck:
        """Store one event or a batch durably, then apply it to the users' live state.

        The reply is sent only after the store committed; the next ``/recommend`` reflects the events.
        """
        events = body.events if isinstance(body, S.EventBatch) else [body]
        if len(events) > settings.max_batch:
            raise Invalid(
                "batch too large",
                [{"loc": ["body", "events"], "msg": f"at most {settings.max_batch} events per request"}],
            )
        now = np.datetime64("now", "us").astype(np.int64).item()
        rows = [
            EventRow(
                pseudo(e.user_id),
                e.item_id,
                e.event,
                (e.ts - _EPOCH) // _MICROSECOND if e.ts is not None else int(now),  # exact, no float
                e.value,
                e.session_id,
            )
            for e in events
        ]
        seqs = engine.ingest(rows)
        ingested.inc(len(seqs))
        return S.EventsAck(accepted=len(seqs), first_seq=seqs[0], last_seq=seqs[-1], durable=True)

    # -------------------------------------------------------------------------------- recommend
    @app.get("/recommend", response_model=S.RecommendResponse, dependencies=[read], tags=["recommend"])
    async def get_recommend(
        request: Request,
        engine: Engine,
        user_id: Annotated[S.Ident, Query(max_length=S.MAX_ID)],
        k: Annotated[int, Query(ge=1, le=1_000)] = 10,
        exclude_seen: bool = True,
        category: Annotated[S.Ident | None, Query(max_length=S.MAX_ID)] = None,
        min_price: Annotated[float | None, Query(ge=0, le=1e12)] = None,
        max_price: Annotated[float | None, Query(ge=0, le=1e12)] = None,
        explain: bool = False,
        rerank: bool = True,
    ) -> S.RecommendResponse:
        """Top-k for a user from their live state; a user with no history gets the empty-history answer."""
        state = engine.state.view(pseudo(user_id))
        question = RecommendRequest(
            state, min(k, settings.max_k), exclude_seen, category, min_price, max_price, explain, rerank
        )
        scored = await _recommend(request, engine, question)
        return S.RecommendResponse(
            user_id=user_id,
            known_user=state.known,
            history_length=int(state.items.size),
            items=_items(engine, scored),
        )

    @app.post("/recommend", response_model=S.RecommendResponse, dependencies=[read], tags=["recommend"])
    async def post_recommend(
        request: Request, engine: Engine, body: S.RecommendRequest
    ) -> S.RecommendResponse:
        """Top-k for an explicit history (anonymous session); unknown history items are skipped and listed."""
        state, unknown = engine.history_state(body.history)
        question = RecommendRequest(
            state,
            min(body.k, settings.max_k),
            body.exclude_seen,
            body.category,
            body.min_price,
            body.max_price,
            body.explain,
        )
        scored = await _recommend(request, engine, question)
        return S.RecommendResponse(
            user_id=None,
            known_user=False,
            history_length=int(state.items.size),
            unknown_items=unknown,
            items=_items(engine, scored),
        )

    # ---------------------------------------------------------------------------------- search
    @app.get("/search", response_model=S.SearchResponse, dependencies=[read], tags=["items"])
    def search(
        engine: Engine,
        q: Annotated[str, Query(min_length=1, max_length=500), AfterValidator(S.clean_text)],
        user_id: Annotated[S.Ident | None, Query(max_length=S.MAX_ID)] = None,
        k: Annotated[int, Query(ge=1, le=1_000)] = 10,
    ) -> S.SearchResponse:
        """Items whose text matches ``q``; with ``user_id``, re-ranked by the user's model scores."""
        if not q.strip():
            raise Invalid(
                "empty query", [{"loc": ["query", "q"], "msg": "must contain non-space characters"}]
            )
        state = engine.state.view(pseudo(user_id)) if user_id is not None else None
        scored = engine.search(q, min(k, settings.max_k), state)
        personal = state is not None and state.items.size > 0
        return S.SearchResponse(query=q, user_id=user_id, personalised=personal, items=_items(engine, scored))

    @app.get(
        "/items/{item_id}/similar", response_model=S.SimilarResponse, dependencies=[read], tags=["items"]
    )
    def similar(
        engine: Engine, item_id: IdPath, k: Annotated[int, Query(ge=1, le=1_000)] = 10
    ) -> S.SimilarResponse:
        """Nearest items in the model's item-embedding space (text space for models without one)."""
        return S.SimilarResponse(
            item_id=item_id, items=_items(engine, engine.similar(item_id, min(k, settings.max_k)))
        )

    @app.post(
        "/items", response_model=S.AddItemResponse, status_code=201, dependencies=[admin], tags=["items"]
    )
    def add_item(engine: Engine, body: S.AddItemRequest) -> S.AddItemResponse:
        """Add an item at runtime, embedded from its text: searchable at once; recommendable (text models)."""
        _, recommendable = engine.add_item(body.model_dump())
        return S.AddItemResponse(
            item_id=body.item_id, recommendable=recommendable, searchable=engine.text_index is not None
        )

    # ----------------------------------------------------------------------------------- users
    @app.get(
        "/users/{user_id}/interests", response_model=S.InterestsResponse, dependencies=[read], tags=["users"]
    )
    def interests(
        engine: Engine,
        user_id: IdPath,
        level: Annotated[int, Query(ge=0, le=10)] = 0,
        window: Annotated[str, Query(pattern=r"^\d{1,3}[hdw]$")] = "1d",
        half_life_days: Annotated[float, Query(gt=0, le=3650)] = 7.0,
        recent: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> S.InterestsResponse:
        """Current interest profile (decayed category shares), timeline per window and recent migrations."""
        if not engine.catalogue.has_categories:
            raise Unavailable("interest profiles need item categories in the catalogue")
        uid = pseudo(user_id)
        state = engine.state.view(uid)
        if not state.known:
            raise NotFound(f"no events for user {user_id!r}")
        events = engine.events_frame(uid, state)
        try:
            found = user_interests(
                events, engine.catalogue.frame(state.items), level, window, half_life_days, recent
            )
        except ValueError as exc:  # e.g. a window of 0 days
            raise Invalid(str(exc), [{"loc": ["query", "window"], "msg": str(exc)}]) from exc
        return S.InterestsResponse(
            user_id=user_id,
            n_events=found.n_events,
            level=level,
            window=window,
            profile=[S.CategoryShare(category=c, share=s) for c, s in found.profile],
            timeline=[S.TimelinePoint(**p) for p in found.timeline],
            migrations=[
                S.Migration(**{k: m[k] for k in S.Migration.model_fields if k in m}) for m in found.migrations
            ],
        )

    @app.get(
        "/users/{user_id}/events", response_model=S.UserEventsResponse, dependencies=[read], tags=["users"]
    )
    def user_events(
        engine: Engine, user_id: IdPath, limit: Annotated[int, Query(ge=1, le=10_000)] = 100
    ) -> S.UserEventsResponse:
        """The user's live history (training history + events since), newest last."""
        state = engine.state.view(pseudo(user_id))
        if not state.known:
            raise NotFound(f"no events for user {user_id!r}")
        start = max(0, state.items.size - limit)
        events = [
            S.UserEvent(
                item_id=engine.catalogue.external(int(i)),
                event=EVENT_TYPES[int(c)] if c >= 0 else None,
                ts=np.datetime64(int(t), "us").item().replace(tzinfo=dt.UTC) if t >= 0 else None,
            )
            for i, t, c in zip(
                state.items[start:].tolist(),
                state.ts[start:].tolist(),
                state.event[start:].tolist(),
                strict=True,
            )
        ]
        return S.UserEventsResponse(user_id=user_id, total=int(state.items.size), events=events)

    @app.delete("/users/{user_id}", response_model=S.ForgetResponse, dependencies=[admin], tags=["users"])
    def forget(engine: Engine, user_id: IdPath) -> S.ForgetResponse:
        """Right to be forgotten: delete the user's stored events and live state (the trained history too)."""
        uid = pseudo(user_id)
        if not engine.state.exists(uid):
            raise NotFound(f"no data for user {user_id!r}")
        return S.ForgetResponse(user_id=user_id, deleted_events=engine.forget(uid))

    # --------------------------------------------------------------------------------- operations
    @app.get("/healthz", response_model=S.Health, tags=["operations"])
    def healthz(engine: Engine) -> S.Health:
        import time

        return S.Health(
            status="ok",
            model=str(engine.bundle.meta.get("model", engine.model.name)),
            items=len(engine.catalogue),
            users=engine.state.n_users,
            stored_events=engine.stored_events,
            schema_version=engine.store.schema_version,
            store=type(engine.store).__name__,
            search=engine.text_index is not None,
            uptime_s=round(time.time() - engine.started, 3),
        )

    @app.get("/metrics", dependencies=[read], tags=["operations"], response_class=Response)
    def metrics() -> Response:
        """Prometheus text format: request counts and latency by route, events ingested, live users."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(dashboard.router)
    return app
