"""Real-time serving: HTTP API, durable event store, live user state, retrieval index, explanations, auth.

Typical use::

    from driftrec.serving import ServingSettings, create_app

    app = create_app(ServingSettings(model="runs/demo/bundle", db="events.sqlite"))
    # uvicorn.run(app)  -- or the CLI: driftrec serve --model runs/demo/bundle

Names are imported on first use, so that ``driftrec --help`` does not pay for FastAPI and torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from driftrec.serving.app import create_app
    from driftrec.serving.rerank import Reranker, UserState
    from driftrec.serving.security import ApiKeyRecord, create_api_key, load_keys, save_keys
    from driftrec.serving.service import ServingEngine
    from driftrec.serving.settings import ServingSettings
    from driftrec.serving.store import EventRow, open_store

_WHERE = {
    "create_app": "app",
    "Reranker": "rerank",
    "UserState": "rerank",
    "ApiKeyRecord": "security",
    "create_api_key": "security",
    "load_keys": "security",
    "save_keys": "security",
    "ServingEngine": "service",
    "ServingSettings": "settings",
    "EventRow": "store",
    "open_store": "store",
}

__all__ = [
    "ApiKeyRecord",
    "EventRow",
    "Reranker",
    "ServingEngine",
    "ServingSettings",
    "UserState",
    "create_api_key",
    "create_app",
    "load_keys",
    "open_store",
    "save_keys",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'driftrec.serving' has no attribute {name!r}")
    return getattr(importlib.import_module(f"driftrec.serving.{module}"), name)
