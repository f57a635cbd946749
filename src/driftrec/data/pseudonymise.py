"""Keyed-hash pseudonymisation of user ids (HMAC-SHA256), so stored logs never hold raw ids.

A keyed hash (not a plain one) is used because plain hashes of small id spaces are reversed by
enumeration; without the key the mapping cannot be recomputed.
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

__all__ = ["pseudonymise_id", "pseudonymise_ids"]


def pseudonymise_id(user_id: str, key: bytes, length: int = 20) -> str:
    """One id -> ``length`` hex chars of HMAC-SHA256(key, id)."""
    if not key:
        raise ValueError("pseudonymisation key must not be empty")
    return hmac.new(key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()[:length]


def pseudonymise_ids(ids: pl.Series, key: bytes, length: int = 20) -> pl.Series:
    """Vectorised over the distinct ids only (logs repeat ids many times)."""
    distinct = ids.cast(pl.String).unique()
    mapping = {v: pseudonymise_id(v, key, length) for v in distinct.to_list() if v is not None}
    return ids.cast(pl.String).replace_strict(mapping, default=None, return_dtype=pl.String).alias(ids.name)
