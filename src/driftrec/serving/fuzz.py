"""Fuzz the API from its own OpenAPI document: schemathesis cases (valid and invalid) plus raw byte bodies.

Every operation of the spec gets ``examples`` positive cases (inputs the schema allows) and ``examples``
negative ones (inputs it forbids: wrong types, missing fields, out-of-range numbers, strange strings),
drawn by Hypothesis through schemathesis; the JSON operations also get arbitrary byte strings as bodies.
The service passes when no answer is a 5xx. Sending is a callable, so the same fuzzer drives an
in-process app (tests) or a real server over a socket (``benchmarks/fuzz.py``).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

__all__ = ["FuzzReport", "Send", "fuzz_openapi"]

log = logging.getLogger(__name__)

#: (method, path, query params, JSON body or None, raw body or None, headers) -> status code, or 0 when
#: no HTTP answer came back (connection refused, reset or timed out)
Send = Callable[[str, str, dict[str, Any] | None, Any, bytes | None, dict[str, str]], int]


@dataclass
class FuzzReport:
    requests: int = 0
    server_errors: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    unsendable: int = 0
    transport_errors: int = 0  # status 0: the connection failed or was dropped (no HTTP answer at all)

    def record(self, label: str, status: int, request: dict[str, Any]) -> None:
        self.requests += 1
        self.by_status[status] += 1
        self.by_operation[label] = self.by_operation.get(label, 0) + 1
        if status >= 500 or status == 0:
            if status == 0:
                self.transport_errors += 1
            else:
                self.server_errors += 1
            if len(self.failures) < 20:
                self.failures.append({"operation": label, "status": status, **request})


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def fuzz_openapi(
    spec: dict[str, Any],
    send: Send,
    *,
    examples: int = 50,
    seed: int = 0,
    headers: dict[str, str] | None = None,
    raw_bodies: bool = True,
) -> FuzzReport:
    """Run the fuzzer over every operation of ``spec``; returns counts (and the first 5xx requests)."""
    import schemathesis
    from schemathesis.core import NOT_SET
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_dict(spec)
    report = FuzzReport()
    extra = dict(headers or {})
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid operation raises here, loudly
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            try:
                fixed_seed(seed)(_case_runner(strategy, label, send, report, examples, extra, NOT_SET))()
            except Unsatisfiable:  # e.g. no invalid input exists for an operation without parameters
                log.debug("no %s cases for %s", mode.value, label)
        if raw_bodies and operation.method.upper() in ("POST", "PUT", "PATCH"):
            _raw(operation.path, operation.method.upper(), send, report, examples, seed, extra)
    return report


def _case_runner(
    strategy: Any,
    label: str,
    send: Send,
    report: FuzzReport,
    examples: int,
    extra: dict[str, str],
    not_set: Any,
) -> Callable[[], None]:
    """A Hypothesis test that sends each drawn case and records the answer (never fails: it counts)."""

    @settings(max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        body = None if case.body is not_set else case.body
        query = dict(case.query) if case.query else None
        if (body is not None and not _jsonable(body)) or (query is not None and not _jsonable(query)):
            report.unsendable += 1
            return
        headers = {**{str(k): str(v) for k, v in (case.headers or {}).items() if str(k).isascii()}, **extra}
        path = case.formatted_path
        try:
            status = send(case.method.upper(), path, query, body, None, headers)
        except (TypeError, ValueError, UnicodeError) as exc:  # the client could not encode it
            log.debug("unsendable case for %s: %s", label, exc)
            report.unsendable += 1
            return
        report.record(label, status, {"path": path, "query": query, "body": body})

    runner: Callable[[], None] = run
    return runner


def _raw(
    path: str, method: str, send: Send, report: FuzzReport, examples: int, seed: int, extra: dict[str, str]
) -> None:
    """Arbitrary bytes as a JSON body: broken UTF-8, truncated JSON, deep nesting, huge numbers."""
    if "{" in path:
        return
    tricky = st.sampled_from(
        [
            b"",
            b"{",
            b"[" * 5_000,
            b'{"events": [' + b"{}," * 2_000 + b"{}]}",
            b'{"user_id": 1e999999, "item_id": "a", "event": "view"}',
            b'{"user_id": "\\ud800", "item_id": "a", "event": "view"}',
            b"\xff\xfe\x00",
            b"null",
            b'"just a string"',
            b'{"history": [' + b'"a",' * 3_000 + b'"a"]}',
        ]
    )
    label = f"{method} {path} (raw bytes)"

    @settings(max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=st.one_of(st.binary(max_size=2_000), tricky))
    def run(body: bytes) -> None:
        status = send(method, path, None, None, body, {"content-type": "application/json", **extra})
        report.record(label, status, {"path": path, "raw": body[:200].decode("latin-1")})

    fixed_seed(seed)(run)()
