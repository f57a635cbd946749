"""The canonical schema every reader maps onto (DESIGN.md §2).

Keeping one schema means cleaning, splitting, features and models never care where data came from.
"""

from __future__ import annotations

from typing import Final

import polars as pl

#: Behaviour types in increasing order of intent. Codes are the tuple index (stable on disk).
EVENT_TYPES: Final[tuple[str, ...]] = (
    "view",
    "click",
    "favourite",
    "cart",
    "purchase",
    "rating",
    "review",
)
EVENT_CODE: Final[dict[str, int]] = {name: code for code, name in enumerate(EVENT_TYPES)}

#: Synonyms found in public logs, mapped onto canonical event names.
EVENT_ALIASES: Final[dict[str, str]] = {
    "pv": "view",
    "page_view": "view",
    "impression": "view",
    "fav": "favourite",
    "favorite": "favourite",
    "like": "favourite",
    "addtocart": "cart",
    "add_to_cart": "cart",
    "buy": "purchase",
    "order": "purchase",
    "transaction": "purchase",
    "rate": "rating",
}

TIMESTAMP: Final = pl.Datetime("us", "UTC")

EVENTS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "user_id": pl.String(),
    "item_id": pl.String(),
    "ts": TIMESTAMP,
    "event": pl.String(),
    "value": pl.Float64(),
    "text": pl.String(),
    "session_id": pl.String(),
}
EVENTS_REQUIRED: Final[tuple[str, ...]] = ("user_id", "item_id", "ts", "event")

ITEMS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "item_id": pl.String(),
    "title": pl.String(),
    "description": pl.String(),
    "category": pl.String(),  # path "A > B > C"
    "brand": pl.String(),
    "price": pl.Float64(),
}
CATEGORY_SEPARATOR: Final = " > "

USERS_SCHEMA: Final[dict[str, pl.DataType]] = {"user_id": pl.String()}


def canonical_event(name: str) -> str | None:
    """Map a raw behaviour label to its canonical name, or None if unknown."""
    key = name.strip().lower()
    if key in EVENT_CODE:
        return key
    return EVENT_ALIASES.get(key)


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Give a frame every canonical column (nulls where absent) in canonical order and types.

    Extra columns are kept after the canonical ones so that readers can carry attributes along.
    """
    exprs = []
    for name, dtype in schema.items():
        if name in frame.columns:
            exprs.append(pl.col(name).cast(dtype))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    extras = [c for c in frame.columns if c not in schema]
    return frame.select(*exprs, *extras)
