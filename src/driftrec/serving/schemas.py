"""Request and response models of the HTTP API (they are also its OpenAPI documentation).

Strings are bounded and must be valid UTF-8 without control characters, numbers finite, batches bounded,
and unknown fields rejected, so that bad input is a 422 naming the field, never a 500 further down.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from driftrec.data.schema import EVENT_ALIASES, EVENT_TYPES

__all__ = [
    "AddItemRequest",
    "AddItemResponse",
    "EventBatch",
    "EventIn",
    "EventsAck",
    "ExplanationOut",
    "ForgetResponse",
    "Health",
    "InterestsResponse",
    "RecommendRequest",
    "RecommendResponse",
    "RecommendedItem",
    "SearchResponse",
    "SimilarResponse",
    "UserEventsResponse",
    "clean_text",
]

MAX_ID = 200
MAX_HISTORY = 1_000


def clean_text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid UTF-8 (no lone surrogates)") from exc
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters")
    return value


Ident = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_ID, strip_whitespace=True), AfterValidator(clean_text)
]
Text = Annotated[str, StringConstraints(max_length=5_000), AfterValidator(clean_text)]
Price = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
Event = Literal[EVENT_TYPES]  # type: ignore[valid-type]
#: Timestamps between these bounds (microseconds in int64, and sane for a shop).
TS_MIN = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
TS_MAX = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _utc(value: dt.datetime) -> dt.datetime:
    try:
        out = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00+00:11 lies before year 1 in UTC (found by fuzzing)
        raise ValueError(f"must lie between {TS_MIN.date()} and {TS_MAX.date()}") from exc
    if not TS_MIN <= out < TS_MAX:
        raise ValueError(f"must lie between {TS_MIN.date()} and {TS_MAX.date()}")
    return out


def _event(value: str) -> str:
    name = EVENT_ALIASES.get(value.lower(), value.lower())
    if name not in EVENT_TYPES:
        raise ValueError(
            f"must be one of {', '.join(EVENT_TYPES)} (or an alias such as {', '.join(EVENT_ALIASES)})"
        )
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventIn(_Strict):
    """One behaviour event. ``ts`` defaults to the time of receipt; naive times are read as UTC."""

    user_id: Ident
    item_id: Ident
    event: Annotated[str, StringConstraints(max_length=32), AfterValidator(_event)] = Field(
        description=f"one of {', '.join(EVENT_TYPES)}", examples=["view"]
    )
    ts: Annotated[dt.datetime, AfterValidator(_utc)] | None = None
    value: Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)] | None = None
    session_id: Ident | None = None


class EventBatch(_Strict):
    events: list[EventIn] = Field(min_length=1, description="at most the server's max_batch events")


class EventsAck(BaseModel):
    accepted: int
    first_seq: int
    last_seq: int
    durable: bool = Field(True, description="committed (and fsync'd) to the event store before this reply")


class ItemContribution(BaseModel):
    item_id: str
    weight: float = Field(description="share of the explanation (all history items sum to 1)")


class CategoryContribution(BaseModel):
    category: str
    weight: float


class ExplanationOut(BaseModel):
    method: str = Field(description="item-similarity: recent history items most similar to this one")
    items: list[ItemContribution]
    categories: list[CategoryContribution]


class RecommendedItem(BaseModel):
    item_id: str
    rank: int
    score: float
    title: str | None = None
    category: str | None = None
    price: float | None = None
    explanation: ExplanationOut | None = None
    score_parts: dict[str, float] | None = None


class RecommendResponse(BaseModel):
    user_id: str | None
    known_user: bool = Field(description="False: no history here; the model's answer for an empty history")
    history_length: int
    unknown_items: list[str] = Field(default_factory=list, description="history items skipped as unknown")
    items: list[RecommendedItem]


class RecommendRequest(_Strict):
    """An anonymous session: recommend from an explicit history (oldest first)."""

    history: list[Ident] = Field(default_factory=list, max_length=MAX_HISTORY)
    k: int = Field(10, ge=1, le=1_000)
    exclude_seen: bool = True
    category: Ident | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    explain: bool = False


class SearchResponse(BaseModel):
    query: str
    user_id: str | None
    personalised: bool
    items: list[RecommendedItem]


class SimilarResponse(BaseModel):
    item_id: str
    items: list[RecommendedItem]


class AddItemRequest(_Strict):
    item_id: Ident
    title: Text | None = None
    description: Text | None = None
    category: Annotated[str, StringConstraints(max_length=500), AfterValidator(clean_text)] | None = None
    brand: Annotated[str, StringConstraints(max_length=200), AfterValidator(clean_text)] | None = None
    price: Price | None = None


class AddItemResponse(BaseModel):
    item_id: str
    recommendable: bool = Field(description="True when the model scores the new item (text-fusion models)")
    searchable: bool


class CategoryShare(BaseModel):
    category: str
    share: float


class TimelinePoint(BaseModel):
    window_start: dt.datetime
    category: str
    weight: float


class Migration(BaseModel):
    ts: dt.datetime
    end_ts: dt.datetime
    from_category: str
    to_category: str
    magnitude: float
    jsd: float | None = None
    kind: str


class InterestsResponse(BaseModel):
    user_id: str
    n_events: int
    level: int
    window: str
    profile: list[CategoryShare]
    timeline: list[TimelinePoint]
    migrations: list[Migration]


class UserEvent(BaseModel):
    item_id: str
    event: str | None
    ts: dt.datetime | None


class UserEventsResponse(BaseModel):
    user_id: str
    total: int
    events: list[UserEvent]


class ForgetResponse(BaseModel):
    user_id: str
    deleted_events: int


class Health(BaseModel):
    status: Literal["ok"]
    model: str
    items: int
    users: int
    stored_events: int
    schema_version: int
    store: str
    search: bool
    uptime_s: float


def finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def errors_body(errors: list[dict[str, Any]], message: str) -> dict[str, Any]:
    """The error shape of every 4xx: FastAPI's ``detail`` list of {loc, msg, type}, plus a summary."""
    return {
        "detail": [{"type": "value_error", **e} for e in errors] or [{"loc": [], "msg": message}],
        "message": message,
    }
