"""Fuzz the in-process API from its OpenAPI spec (short form): no input may produce a 5xx."""

from __future__ import annotations

from typing import Any

from driftrec.serving.fuzz import fuzz_openapi

from .conftest import Api


def test_openapi_fuzz_finds_no_server_errors(api: Api) -> None:
    def send(
        method: str, path: str, query: Any, body: Any, raw: bytes | None, headers: dict[str, str]
    ) -> int:
        kwargs: dict[str, Any] = {"params": query, "headers": headers}
        if raw is not None:
            kwargs["content"] = raw
        elif body is not None:
            kwargs["json"] = body
        return api.request(method, path, **kwargs).status_code

    report = fuzz_openapi(api.app.openapi(), send, examples=8, seed=1)
    assert report.server_errors == 0 and report.transport_errors == 0, report.failures
    assert report.requests > 150
    assert len(report.by_operation) >= 10  # every operation was exercised, raw-body variants included
    assert any(400 <= s < 500 for s in report.by_status) and any(s < 300 for s in report.by_status)
    assert api.get("/healthz").status_code == 200
