"""Everything the service is configured by, in one frozen dataclass handed to ``create_app`` (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from driftrec.features.text import TextEncoderConfig
from driftrec.serving.index import IndexConfig
from driftrec.serving.rerank import Reranker
from driftrec.serving.security import ApiKeyRecord

__all__ = ["ServingSettings"]


@dataclass(frozen=True)
class ServingSettings:
    """How to serve one model bundle.

    ``db``: SQLite file path or ``postgresql://`` URL. ``items``: Parquet/CSV catalogue (item_id, title,
    category, price, ...) for filters, search and explanations; None reads the catalogue of the data
    directory the bundle was trained from, when it recorded one. ``api_keys`` empty: no authentication
    (development only). ``pseudonymise_key``: user ids are replaced by a keyed hash at the boundary.
    ``search``: embed the catalogue's text at start-up so that ``/search`` and ``POST /items`` work.

    Latency: ``torch_threads`` is set once at start-up (0 leaves torch's default); the bundle's training
    threads never apply while serving. ``retrieval_index``: models that score by user state . item
    vector (sequence models) find the top-k with the FAISS index (``index``) instead of scoring every
    item; filters over-fetch ``filter_overfetch`` times the items wanted and fall back to exact scoring
    when too few pass. ``micro_batch``: concurrent ``/recommend`` calls are collected for up to
    ``batch_window_ms`` (or ``batch_max_requests``) and answered by one batched encode + search.
    """

    model: Path
    db: str = "events.sqlite"
    items: Path | None = None
    synchronous: Literal["FULL", "NORMAL"] = "FULL"
    api_keys: tuple[ApiKeyRecord, ...] = ()
    pseudonymise_key: bytes | None = None
    max_body_bytes: int = 1_000_000
    max_batch: int = 1_000
    max_k: int = 500
    max_events_per_user: int = 10_000
    candidate_pool: int = 200
    search: bool = True
    search_candidates: int = 100
    personal_weight: float = 1.0
    text_encoder: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    reranker: Reranker | None = None
    title: str = "driftrec"
    torch_threads: int = 1
    retrieval_index: bool = True
    filter_overfetch: int = 4
    micro_batch: bool = True
    batch_max_requests: int = 64
    batch_window_ms: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", Path(self.model))
        if self.items is not None:
            object.__setattr__(self, "items", Path(self.items))
        if not isinstance(self.db, str) or not self.db:
            raise ValueError(f"db must be a SQLite path or a postgresql:// URL, got {self.db!r}")
        if self.synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', got {self.synchronous!r}")
        for name, low in (
            ("max_body_bytes", 1024),
            ("max_batch", 1),
            ("max_k", 1),
            ("max_events_per_user", 1),
            ("candidate_pool", 1),
            ("search_candidates", 1),
            ("torch_threads", 0),
            ("filter_overfetch", 1),
            ("batch_max_requests", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if not isinstance(self.personal_weight, int | float) or not 0 <= self.personal_weight <= 100:
            raise ValueError(f"personal_weight must be a number in [0, 100], got {self.personal_weight!r}")
        if (
            isinstance(self.batch_window_ms, bool)
            or not isinstance(self.batch_window_ms, int | float)
            or not 0 <= self.batch_window_ms <= 1000
        ):
            raise ValueError(f"batch_window_ms must be a number in [0, 1000], got {self.batch_window_ms!r}")
        if self.pseudonymise_key is not None and not self.pseudonymise_key:
            raise ValueError("pseudonymise_key must be None or non-empty bytes")
        if self.reranker is not None and not isinstance(self.reranker, Reranker):
            raise ValueError("reranker must have a rerank(user_state, candidates, scores) method")
