"""API keys with roles, stored hashed (scrypt), and the keyed pseudonymisation of user ids.

A key reads ``drk_<key_id>_<secret>``: the public ``key_id`` finds the one stored record to check, so a
request costs one scrypt at most, and a verified key is remembered in memory by an HMAC under a
per-process random salt (never the key itself), so only the first request with a key pays for scrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final, Literal

from driftrec.data.pseudonymise import pseudonymise_id

__all__ = [
    "ROLES",
    "ApiKeyRecord",
    "KeyRing",
    "Role",
    "create_api_key",
    "load_keys",
    "pseudonymiser",
    "save_keys",
]

Role = Literal["read", "ingest", "admin"]
ROLES: Final[tuple[Role, ...]] = ("read", "ingest", "admin")
#: What each role may do: ``ingest`` writes events only (an ingestion service needs no read access),
#: ``admin`` may do everything, including adding items and forgetting users.
GRANTS: Final[dict[Role, frozenset[Role]]] = {
    "read": frozenset({"read"}),
    "ingest": frozenset({"ingest"}),
    "admin": frozenset({"read", "ingest", "admin"}),
}
_PREFIX: Final = "drk"
_SCRYPT_N: Final = 2**14
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)


@dataclass(frozen=True)
class ApiKeyRecord:
    """What is stored for a key: never the key, only its scrypt digest and parameters."""

    key_id: str
    name: str
    role: Role
    salt: str  # hex
    digest: str  # hex scrypt(secret, salt)
    n: int = _SCRYPT_N
    r: int = _SCRYPT_R
    p: int = _SCRYPT_P

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {self.role!r}")
        if not self.key_id.isalnum():
            raise ValueError(f"key_id must be alphanumeric, got {self.key_id!r}")
        if self.n < 2 or self.n & (self.n - 1):
            raise ValueError(f"scrypt n must be a power of two >= 2, got {self.n}")

    def verify(self, secret: str) -> bool:
        expected = bytes.fromhex(self.digest)
        return hmac.compare_digest(
            _scrypt(secret, bytes.fromhex(self.salt), self.n, self.r, self.p), expected
        )


def create_api_key(role: Role, name: str = "", *, n: int = _SCRYPT_N) -> tuple[str, ApiKeyRecord]:
    """A new key: the plaintext (show it once) and the record to store."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    key_id, secret, salt = secrets.token_hex(6), secrets.token_urlsafe(24), secrets.token_bytes(16)
    record = ApiKeyRecord(
        key_id, name, role, salt.hex(), _scrypt(secret, salt, n, _SCRYPT_R, _SCRYPT_P).hex(), n
    )
    return f"{_PREFIX}_{key_id}_{secret}", record


def save_keys(path: str | Path, records: Iterable[ApiKeyRecord]) -> None:
    Path(path).write_text(json.dumps({"keys": [asdict(r) for r in records]}, indent=2) + "\n")


def load_keys(path: str | Path) -> tuple[ApiKeyRecord, ...]:
    """Records from a keys file written by :func:`save_keys` (``driftrec serve key``)."""
    source = Path(path)
    if not source.exists():
        return ()
    raw = json.loads(source.read_text())
    if not isinstance(raw, dict) or not isinstance(raw.get("keys"), list):
        raise ValueError(f"{source}: expected a JSON object with a 'keys' list")
    return tuple(ApiKeyRecord(**entry) for entry in raw["keys"])


class KeyRing:
    """Checks presented keys against stored records; thread-safe, with a bounded cache of verified keys."""

    def __init__(self, records: Iterable[ApiKeyRecord], cache_size: int = 1024) -> None:
        self._by_id = {r.key_id: r for r in records}
        self._salt = secrets.token_bytes(16)
        self._verified: dict[bytes, Role] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self._by_id)

    def role_of(self, presented: str) -> Role | None:
        """The role of a valid key, or None (unknown, malformed or wrong secret)."""
        tag = hmac.new(self._salt, presented.encode("utf-8", "replace"), hashlib.sha256).digest()
        with self._lock:
            cached = self._verified.get(tag)
        if cached is not None:
            return cached
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != _PREFIX:
            return None
        record = self._by_id.get(parts[1])
        if record is None or not record.verify(parts[2]):
            return None
        with self._lock:
            if len(self._verified) >= self._cache_size:
                self._verified.clear()
            self._verified[tag] = record.role
        return record.role

    @staticmethod
    def allows(role: Role, needed: Role) -> bool:
        return needed in GRANTS[role]


def pseudonymiser(key: bytes | None) -> Callable[[str], str]:
    """The boundary map of user ids: a keyed hash when a key is configured, else the identity."""
    if not key:
        return _identity
    return lambda user_id: pseudonymise_id(user_id, key)


def _identity(user_id: str) -> str:
    return user_id
