"""The serving engine behind the HTTP layer: ingest, recommend, search, similar items, new items, forget.

It owns the model bundle, the catalogue, the live state, the event store and the retrieval indexes, and
knows nothing of HTTP, so it can be used (and tested) directly from Python. Writes follow one rule: the
store commits first, then memory changes, so whatever the client saw acknowledged is recoverable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from driftrec.data.interactions import Histories
from driftrec.data.schema import EVENT_CODE, EVENT_TYPES
from driftrec.scoring import top_k
from driftrec.serving.catalogue import Catalogue, read_catalogue
from driftrec.serving.explain import Explanation, explain
from driftrec.serving.index import ItemIndex
from driftrec.serving.rerank import UserState, apply_reranker
from driftrec.serving.settings import ServingSettings
from driftrec.serving.state import LiveState
from driftrec.serving.store import EventRow, EventStore, ItemRow, open_store
from driftrec.workflows.bundle import Bundle, load_bundle

__all__ = ["Conflict", "Invalid", "NotFound", "RecommendRequest", "Scored", "ServingEngine", "Unavailable"]

log = logging.getLogger(__name__)

#: Seen-item lists longer than this are searched in an index call of their own (see _indexed_candidates).
_LONG_EXCLUSION = 256


class NotFound(LookupError):
    """An id the service does not know (HTTP 404)."""


class Conflict(ValueError):
    """The request contradicts the current state, e.g. an item id that exists (HTTP 409)."""


class Invalid(ValueError):
    """Well-formed but unusable input, e.g. events for unknown items (HTTP 422)."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class Unavailable(RuntimeError):
    """A feature this deployment cannot offer, e.g. search without item text (HTTP 503)."""


@dataclass(frozen=True)
class Scored:
    item: int  # dense id
    score: float
    explanation: Explanation | None = None
    parts: dict[str, float] | None = None


@dataclass(frozen=True)
class RecommendRequest:
    """One top-k question; a list of them is answered by :meth:`ServingEngine.recommend_many`."""

    state: UserState
    k: int
    exclude_seen: bool = True
    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    with_explanation: bool = False
    rerank: bool = True


class _ReadWriteLock:
    """Many scorers at once, or one writer (adding items changes the model's item table)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._readers:
                self._cond.wait()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


def _unit(vectors: NDArray[np.floating]) -> NDArray[np.float32]:
    arr = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    out: NDArray[np.float32] = np.divide(arr, norms, out=np.zeros_like(arr), where=norms > 0)
    return out


def _zscore(x: NDArray[np.float32]) -> NDArray[np.float32]:
    finite = np.isfinite(x)
    if finite.sum() < 2:
        return np.where(finite, 0.0, -np.inf).astype(np.float32)
    mu, sd = float(x[finite].mean()), float(x[finite].std())
    return np.where(finite, (x - mu) / (sd if sd > 0 else 1.0), -np.inf).astype(np.float32)


class ServingEngine:
    """Load with :meth:`open`; close with :meth:`close` (the app's lifespan does both)."""

    def __init__(
        self, settings: ServingSettings, bundle: Bundle, store: EventStore, catalogue: Catalogue
    ) -> None:
        self.settings = settings
        self.bundle = bundle
        self.model = bundle.model
        self.store = store
        self.catalogue = catalogue
        self.state = LiveState(bundle.known, bundle.users, settings.max_events_per_user)
        self._model_lock = _ReadWriteLock()
        if settings.torch_threads > 0:
            # once, for the whole process: per-request switches (the bundle's training threads) cost ~30x
            import torch

            torch.set_num_threads(settings.torch_threads)
        # models scoring by user state . item vector: user states are encoded here and the top-k found
        # by the retrieval index; others score the whole catalogue through ``model.score``
        self._dot = callable(getattr(self.model, "user_vectors", None)) and callable(
            getattr(self.model, "item_vectors", None)
        )
        self._table: NDArray[np.float32] | None = self.model.item_vectors() if self._dot else None  # type: ignore[attr-defined]
        self.retrieval: ItemIndex | None = None
        if self._table is not None and settings.retrieval_index:
            rows = np.arange(1, self._table.shape[0], dtype=np.int64)
            self.retrieval = ItemIndex.build(rows, self._table[1:], settings.index)
        self._count_lock = threading.Lock()
        self.stored_events = 0
        self.text_vectors: NDArray[np.float32] | None = None
        self.text_index: ItemIndex | None = None
        self._can_add = bool(getattr(getattr(self.model, "config", None), "uses_text", False)) and hasattr(
            self.model, "add_items"
        )
        self.vectors, self.vector_source = self._item_vectors()
        self.similar_index = self._build_index(self.vectors)
        if settings.search:
            self._build_text_index()
        self.started = time.time()

    # ---------------------------------------------------------------------------------- start-up
    @classmethod
    def open(cls, settings: ServingSettings) -> ServingEngine:
        bundle = load_bundle(settings.model)
        meta = None
        if settings.items is not None:
            meta = read_catalogue(settings.items)
        elif bundle.meta.get("data_dir"):
            candidate = f"{bundle.meta['data_dir']}/items.parquet"
            try:
                meta = read_catalogue(candidate)
            except FileNotFoundError:
                log.warning("no item catalogue at %s: no filters, search or categories", candidate)
        store = open_store(settings.db, settings.synchronous)
        engine = cls(settings, bundle, store, Catalogue(bundle.items, meta))
        engine.replay()
        return engine

    def replay(self) -> None:
        """Rebuild memory from the store: runtime items first, then forgotten users, then events in order."""
        for item in self.store.items():
            self._apply_item(item)
        for user in self.store.forgotten():
            self.state.forget(user)
        pending: dict[str, tuple[list[int], list[int], list[int]]] = {}
        count = stored = 0
        for row in self.store.iter_events():
            stored += 1
            dense = self.catalogue.dense(row.item_id)
            if dense == 0:
                log.warning(
                    "stored event %d names item %r unknown to this catalogue: skipped", row.seq, row.item_id
                )
                continue
            items, ts, ev = pending.setdefault(row.user_id, ([], [], []))
            items.append(dense)
            ts.append(row.ts)
            ev.append(EVENT_CODE[row.event])
            count += 1
        for user, (items, ts, ev) in pending.items():
            self.state.apply(user, items, ts, ev)
        with self._count_lock:
            self.stored_events = stored  # kept current by ingest/forget: /healthz never counts rows
        log.info("live state rebuilt from the store: %d events of %d users", count, len(pending))

    def _item_vectors(self) -> tuple[NDArray[np.float32], str]:
        """Unit item vectors by dense id: the model's item embeddings when it has them."""
        network = getattr(self.model, "network", None)
        if network is not None and hasattr(network, "item_table"):
            import torch

            with torch.inference_mode():
                table = network.item_table().float().cpu().numpy()
            return _unit(table), "model"
        text = self._catalogue_text()
        if text is not None:
            return text, "text"
        # no embeddings at all: co-occurrence in the trained histories (item-item cosine via SVD)
        return self._cooccurrence_vectors(), "co-occurrence"

    def _cooccurrence_vectors(self, dim: int = 32) -> NDArray[np.float32]:
        from sklearn.decomposition import TruncatedSVD

        known = self.bundle.known
        matrix = known.to_csr(len(self.catalogue)).T.tocsr()  # (items + 1, users)
        k = max(1, min(dim, matrix.shape[0] - 1, matrix.shape[1] - 1))
        dense = TruncatedSVD(k, random_state=0).fit_transform(matrix)
        return _unit(dense)

    def _catalogue_text(self) -> NDArray[np.float32] | None:
        if self.text_vectors is not None:
            return self.text_vectors
        frame = self.catalogue.text_frame()
        if frame is None:
            return None
        from driftrec.features.text import item_text_matrix

        embeddings = item_text_matrix(self.bundle.items, frame, self.settings.text_encoder, progress=False)
        return _unit(embeddings.matrix)

    def _build_index(self, vectors: NDArray[np.float32]) -> ItemIndex:
        rows = np.flatnonzero(np.linalg.norm(vectors, axis=1) > 0)
        rows = rows[rows > 0]
        return ItemIndex.build(rows.astype(np.int64), vectors[rows], self.settings.index)

    def _build_text_index(self) -> None:
        text = self.vectors if self.vector_source == "text" else self._catalogue_text()
        if text is None:
            log.warning("no item text: /search and POST /items are unavailable")
            return
        self.text_vectors = text
        self.text_index = self._build_index(text)

    def close(self) -> None:
        self.store.close()

    # ----------------------------------------------------------------------------------- ingest
    def ingest(self, events: Sequence[EventRow]) -> list[int]:
        """Store (durably), then apply to live state. Unknown items reject the whole batch, naming them."""
        dense = self.catalogue.encode([e.item_id for e in events])
        unknown = np.flatnonzero(dense == 0)
        if unknown.size:
            errors = [
                {"loc": ["body", "events", int(i), "item_id"], "msg": f"unknown item {events[i].item_id!r}"}
                for i in unknown[:20].tolist()
            ]
            raise Invalid(
                f"{unknown.size} event(s) name items not in the catalogue (add them with POST /items)", errors
            )
        seqs = self.store.append(events)
        with self._count_lock:
            self.stored_events += len(seqs)
        grouped: dict[str, tuple[list[int], list[int], list[int]]] = {}
        for event, item in zip(events, dense.tolist(), strict=True):
            items, ts, ev = grouped.setdefault(event.user_id, ([], [], []))
            items.append(item)
            ts.append(event.ts)
            ev.append(EVENT_CODE[event.event])
        for user, (items, ts, ev) in grouped.items():
            self.state.apply(user, items, ts, ev)
        return seqs

    # ------------------------------------------------------------------------------- recommending
    def _histories(self, states: Sequence[UserState], dense_users: Sequence[int]) -> Histories:
        """The states as model input: only items the model knows, times/events when all are known."""
        n_model = int(getattr(self.model, "n_items", len(self.bundle.items)))
        items, ts, ev, lengths = [], [], [], []
        for state in states:
            keep = (state.items > 0) & (state.items <= n_model)
            items.append(state.items[keep])
            ts.append(state.ts[keep])
            ev.append(state.event[keep])
            lengths.append(int(keep.sum()))
        all_ts = np.concatenate(ts) if ts else np.zeros(0, np.int64)
        all_ev = np.concatenate(ev) if ev else np.zeros(0, np.int8)
        return Histories(
            np.asarray(dense_users, dtype=np.int64),
            np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            np.concatenate(items).astype(np.int64) if items else np.zeros(0, np.int64),
            all_ts if all_ts.size and (all_ts >= 0).all() else None,
            all_ev if all_ev.size and (all_ev >= 0).all() else None,
        )

    def _pad(self, raw: NDArray[np.float32]) -> NDArray[np.float32]:
        """Model scores -> (n_catalogue + 1,): items the model cannot score (added without text) -inf."""
        n = len(self.catalogue) + 1
        if raw.shape[0] >= n:
            out = np.array(raw[:n], dtype=np.float32)
        else:
            out = np.full(n, -np.inf, dtype=np.float32)
            out[: raw.shape[0]] = raw
        out[0] = -np.inf
        return out

    def _model_scores(self, state: UserState, dense_user: int) -> NDArray[np.float32]:
        """(n_catalogue + 1,) exact scores of every item for one state."""
        history = self._histories([state], [dense_user])
        if self._table is not None:
            user = self.model.user_vectors(history)[0]  # type: ignore[attr-defined]
            return self._pad(self._table @ user)
        return self._pad(self.model.score(history)[0])

    def _pool(self, request: RecommendRequest) -> int:
        rerank = self.settings.reranker is not None and request.rerank
        return max(request.k, self.settings.candidate_pool) if rerank else request.k

    def _exact_candidates(
        self, request: RecommendRequest, scores: NDArray[np.float32], allowed: NDArray[np.bool_] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Top of the full score vector after removing seen and filtered-out items."""
        state = request.state
        if request.exclude_seen and state.items.size:
            scores[state.items[state.items < scores.shape[0]]] = -np.inf
        if allowed is not None:
            scores[~allowed[: scores.shape[0]]] = -np.inf
        candidates = top_k(scores[None, :], min(self._pool(request), scores.shape[0]))[0]
        candidates = candidates[np.isfinite(scores[candidates])]
        return candidates, scores[candidates]

    def _indexed_candidates(
        self,
        requests: Sequence[RecommendRequest],
        users: NDArray[np.float32],
        allowed: Sequence[NDArray[np.bool_] | None],
    ) -> list[tuple[NDArray[np.int64], NDArray[np.float32]] | None]:
        """One index search for the whole batch; None where exact scoring must answer instead.

        Seen items go to the index's ``exclude``; filters over-fetch ``filter_overfetch`` times the items
        wanted and keep those passing. A row that ends with fewer than it wants (a narrow filter, a tiny
        catalogue, an approximate index) is answered exactly, so the index never shortens an answer.
        """
        assert self.retrieval is not None
        pools = [self._pool(r) for r in requests]
        fetch = max(
            p * (self.settings.filter_overfetch if a is not None else 1)
            for p, a in zip(pools, allowed, strict=True)
        )
        empty = np.zeros(0, np.int64)
        exclude = [np.unique(r.state.items) if r.exclude_seen else empty for r in requests]
        # the index over-fetches by the longest exclusion list of a call: long histories get calls of
        # their own, so one heavy user does not make the whole batch fetch (and re-score) thousands
        long = np.array([e.size > _LONG_EXCLUSION for e in exclude])
        groups = [np.flatnonzero(~long)] + [np.array([i]) for i in np.flatnonzero(long)]
        out: list[tuple[NDArray[np.int64], NDArray[np.float32]] | None] = [None] * len(requests)
        for group in groups:
            if group.size == 0:
                continue
            scores, ids = self.retrieval.search(users[group], fetch, exclude=[exclude[i] for i in group])
            for row, i in enumerate(group.tolist()):
                keep = ids[row] >= 0
                mask = allowed[i]
                if mask is not None:
                    keep[keep] &= mask[ids[row][keep]]
                found, found_scores = ids[row][keep][: pools[i]], scores[row][keep][: pools[i]]
                out[i] = (found, found_scores) if found.size >= pools[i] else None
        return out

    def recommend(
        self,
        state: UserState,
        k: int,
        *,
        exclude_seen: bool = True,
        category: str | None = None,
        min_price: float | None = None,
        max_price: float | None = None,
        with_explanation: bool = False,
        rerank: bool = True,
    ) -> list[Scored]:
        request = RecommendRequest(
            state, k, exclude_seen, category, min_price, max_price, with_explanation, rerank
        )
        result = self.recommend_many([request])[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def recommend_many(self, requests: Sequence[RecommendRequest]) -> list[list[Scored] | Exception]:
        """Answers in request order; a request's own error (e.g. a bad filter) is returned in its place.

        One encode of all histories and one index search serve the whole batch (micro-batching).
        """
        results: list[list[Scored] | Exception | None] = [None] * len(requests)
        todo: list[int] = []
        allowed: list[NDArray[np.bool_] | None] = []
        for i, r in enumerate(requests):
            try:
                self.check_filters(r.category, r.min_price, r.max_price)
                allowed.append(self.catalogue.allowed(r.category, r.min_price, r.max_price))
                todo.append(i)
            except Exception as exc:
                results[i] = exc
        reqs = [requests[i] for i in todo]
        dense = [self.state.dense_user(r.state.user_id) if r.state.user_id is not None else 0 for r in reqs]
        found: list[tuple[NDArray[np.int64], NDArray[np.float32]] | None] = [None] * len(reqs)
        if reqs:
            with self._model_lock.read():
                users = None
                if self._table is not None:
                    history = self._histories([r.state for r in reqs], dense)
                    users = self.model.user_vectors(history)  # type: ignore[attr-defined]
                    if self.retrieval is not None:
                        found = self._indexed_candidates(reqs, users, allowed)
                for j, r in enumerate(reqs):
                    if found[j] is not None:
                        continue
                    if users is not None and self._table is not None:
                        scores = self._pad(self._table @ users[j])
                    else:
                        scores = self._model_scores(r.state, dense[j])
                    found[j] = self._exact_candidates(r, scores, allowed[j])
        for j, (i, r) in enumerate(zip(todo, reqs, strict=True)):
            pair = found[j]
            assert pair is not None
            try:
                results[i] = self._finish(r, *pair)
            except Exception as exc:
                results[i] = exc
        return [r if r is not None else RuntimeError("unanswered request") for r in results]

    def _finish(
        self, request: RecommendRequest, candidates: NDArray[np.int64], cand_scores: NDArray[np.float32]
    ) -> list[Scored]:
        """Re-rank (policy hook), cut to k, explain."""
        if self.settings.reranker is not None and request.rerank and candidates.size:
            candidates, cand_scores = apply_reranker(
                self.settings.reranker, request.state, candidates, cand_scores
            )
        candidates, cand_scores = candidates[: request.k], cand_scores[: request.k]
        explanations: list[Explanation | None] = [None] * candidates.size
        if request.with_explanation:
            category = self.catalogue.category
            explanations = list(explain(self.vectors, request.state.items, candidates, category))
        return [
            Scored(int(i), float(s), e)
            for i, s, e in zip(candidates.tolist(), cand_scores.tolist(), explanations, strict=True)
        ]

    def check_filters(self, category: str | None, min_price: float | None, max_price: float | None) -> None:
        """Raise :class:`Invalid` for a filter this catalogue cannot apply (called before queueing too)."""
        # asking this catalogue for a field it lacks is the request's error (422), not the server's
        if category is not None and not self.catalogue.has_categories:
            loc: list[str | int] = ["query", "category"]
            raise Invalid(
                "this catalogue has no categories", [{"loc": loc, "msg": "no categories to filter by"}]
            )
        if (min_price is not None or max_price is not None) and not self.catalogue.has_prices:
            field = "min_price" if min_price is not None else "max_price"
            raise Invalid(
                "this catalogue has no prices", [{"loc": ["query", field], "msg": "no prices to filter by"}]
            )
        if min_price is not None and max_price is not None and min_price > max_price:
            raise Invalid(
                "min_price must not exceed max_price",
                [{"loc": ["query", "min_price"], "msg": f"min_price {min_price} > max_price {max_price}"}],
            )

    def history_state(self, item_ids: Sequence[str]) -> tuple[UserState, list[str]]:
        """An anonymous state from external item ids; unknown ids are dropped and returned."""
        dense = self.catalogue.encode(item_ids)
        unknown = [i for i, d in zip(item_ids, dense.tolist(), strict=True) if d == 0]
        items = dense[dense > 0]
        return (
            UserState(
                None, False, items, np.full(items.size, -1, np.int64), np.full(items.size, -1, np.int8)
            ),
            unknown,
        )

    # -------------------------------------------------------------------------------- search etc.
    def search(self, query: str, k: int, state: UserState | None) -> list[Scored]:
        """Items by text similarity to ``query``; with a user, blended with the model's scores for them."""
        if self.text_index is None:
            raise Unavailable("search needs item text: serve a catalogue with titles/descriptions")
        from driftrec.features.text import embed_texts

        vector = _unit(embed_texts([query], self.settings.text_encoder, progress=False))
        text_scores, ids = self.text_index.search(vector, max(k, self.settings.search_candidates))
        keep = ids[0] >= 0
        ids, text = ids[0][keep], text_scores[0][keep]
        if state is None or state.items.size == 0 or ids.size == 0:
            return [
                Scored(int(i), float(s), None, {"text": float(s)})
                for i, s in zip(ids[:k], text[:k], strict=True)
            ]
        dense_user = self.state.dense_user(state.user_id) if state.user_id is not None else 0
        with self._model_lock.read():
            model = self._model_scores(state, dense_user)[ids]
        personal = _zscore(model)
        personal = np.where(np.isfinite(personal), personal, personal[np.isfinite(personal)].min(initial=0.0))
        blended = _zscore(text) + np.float32(self.settings.personal_weight) * personal
        order = np.argsort(-blended, kind="stable")[:k]
        return [
            Scored(
                int(ids[j]), float(blended[j]), None, {"text": float(text[j]), "personal": float(personal[j])}
            )
            for j in order.tolist()
        ]

    def similar(self, item_id: str, k: int) -> list[Scored]:
        dense = self.catalogue.dense(item_id)
        if dense == 0:
            raise NotFound(f"unknown item {item_id!r}")
        if dense not in self.similar_index:
            return []
        query = self.similar_index.vectors([dense])
        scores, ids = self.similar_index.search(query, k, exclude=[np.array([dense])])
        keep = ids[0] >= 0
        return [Scored(int(i), float(s)) for i, s in zip(ids[0][keep], scores[0][keep], strict=True)]

    def add_item(self, fields: dict[str, Any]) -> tuple[int, bool]:
        """Embed a new item's text, store it, then make it searchable and (text models) recommendable."""
        item_id = str(fields["item_id"])
        if item_id in self.catalogue:
            raise Conflict(f"item {item_id!r} already exists")
        from driftrec.features.text import DEFAULT_TEXT_FIELDS, embed_texts, item_texts

        row = pl.DataFrame(
            {f: [fields.get(f)] for f in DEFAULT_TEXT_FIELDS},
            schema=dict.fromkeys(DEFAULT_TEXT_FIELDS, pl.String),
        )
        text = item_texts(row)[0]
        if not text:
            raise Invalid(
                "a new item needs text", [{"loc": ["body", "title"], "msg": "give a title or description"}]
            )
        vector = embed_texts([text], self.settings.text_encoder, progress=False)[0]
        item = ItemRow(
            item_id,
            fields.get("title"),
            fields.get("description"),
            fields.get("category"),
            fields.get("brand"),
            fields.get("price"),
            vector.astype(np.float32),
        )
        self.store.add_item(item)
        return self._apply_item(item)

    def _apply_item(self, item: ItemRow) -> tuple[int, bool]:
        with self._model_lock.write():
            recommendable = False
            if self._can_add and int(getattr(self.model, "n_items", -1)) == len(self.catalogue):
                self.model.add_items(item.vector[None, :])  # type: ignore[attr-defined]
                recommendable = True
            dense = self.catalogue.add(item.item_id, item.title, item.category, item.price)
            if recommendable and self._dot:
                self._table = self.model.item_vectors()  # type: ignore[attr-defined]
                if self.retrieval is not None:
                    self.retrieval.add(np.array([dense]), self._table[dense : dense + 1])
            text = _unit(item.vector[None, :])
            if self.vector_source == "model" and recommendable:
                new_vectors, _ = self._item_vectors()
                vec = new_vectors[dense : dense + 1]
                self.vectors = new_vectors
            elif self.vector_source == "text":
                vec = text
                self.vectors = np.vstack([self.vectors, text])
            else:  # no comparable vector: the item is found by search, not by similarity
                vec = np.zeros_like(self.vectors[:1])
                self.vectors = np.vstack([self.vectors, vec])
            if np.linalg.norm(vec) > 0:
                self.similar_index.add(np.array([dense]), vec)
            if self.text_index is not None and self.text_vectors is not None:
                self.text_vectors = np.vstack([self.text_vectors, text])
                self.text_index.add(np.array([dense]), text)
        return dense, recommendable

    # ------------------------------------------------------------------------------------ users
    def forget(self, user_id: str) -> int:
        deleted = self.store.forget_user(user_id)
        with self._count_lock:
            self.stored_events -= deleted
        self.state.forget(user_id)
        return deleted

    def events_frame(self, user_id: str, state: UserState) -> pl.DataFrame:
        """The user's timed events in the canonical schema (for interest profiles)."""
        keep = (state.ts >= 0) & (state.event >= 0)
        items = state.items[keep]
        return pl.DataFrame(
            {
                "user_id": pl.Series([user_id] * int(items.size), dtype=pl.String),
                "item_id": pl.Series(
                    [self.catalogue.external(int(i)) for i in items.tolist()], dtype=pl.String
                ),
                "ts": pl.Series(state.ts[keep], dtype=pl.Int64)
                .cast(pl.Datetime("us"))
                .dt.replace_time_zone("UTC"),
                "event": pl.Series(
                    [EVENT_TYPES[int(c)] for c in state.event[keep].tolist()], dtype=pl.String
                ),
            }
        )
