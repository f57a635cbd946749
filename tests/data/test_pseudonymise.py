"""Keyed-hash pseudonymisation (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import polars as pl
import pytest

from driftrec.data.pseudonymise import pseudonymise_id, pseudonymise_ids


def test_is_hmac_sha256_truncated() -> None:
    expected = hmac.new(b"secret", b"alice", hashlib.sha256).hexdigest()
    assert pseudonymise_id("alice", b"secret") == expected[:20]
    assert pseudonymise_id("alice", b"secret", length=8) == expected[:8]
    assert pseudonymise_id("alice", b"secret", length=64) == expected


def test_deterministic_for_a_key() -> None:
    assert pseudonymise_id("alice", b"k1") == pseudonymise_id("alice", b"k1")
    a = pseudonymise_ids(pl.Series(["alice", "bob"]), b"k1")
    b = pseudonymise_ids(pl.Series(["bob", "alice"]), b"k1")
    assert a.to_list() == b.to_list()[::-1]


def test_differs_between_keys_and_between_ids() -> None:
    assert pseudonymise_id("alice", b"k1") != pseudonymise_id("alice", b"k2")
    assert pseudonymise_id("alice", b"k1") != pseudonymise_id("bob", b"k1")


@pytest.mark.parametrize(
    "call", [lambda: pseudonymise_id("a", b""), lambda: pseudonymise_ids(pl.Series(["a"]), b"")]
)
def test_empty_key_raises(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="key must not be empty"):
        call()


def test_series_matches_single_ids_and_nulls_stay_null() -> None:
    ids = pl.Series("user_id", ["alice", None, "bob", "alice", None])
    out = pseudonymise_ids(ids, b"k")
    assert out.name == "user_id"
    assert out.dtype == pl.String
    alice, bob = pseudonymise_id("alice", b"k"), pseudonymise_id("bob", b"k")
    assert out.to_list() == [alice, None, bob, alice, None]


def test_series_all_null_empty_and_integer_ids() -> None:
    assert pseudonymise_ids(pl.Series([None, None], dtype=pl.String), b"k").to_list() == [None, None]
    assert pseudonymise_ids(pl.Series([], dtype=pl.String), b"k").to_list() == []
    assert pseudonymise_ids(pl.Series([7]), b"k").to_list() == [pseudonymise_id("7", b"k")]
