"""The dashboard: one self-contained page served by the app, calling the app's own JSON endpoints.

It needs no build step and no network: the page, its script and style live in ``static/`` beside this
module, and Plotly.js is served from the copy inside the installed ``plotly`` Python package (no CDN, so
it works on an offline machine). The page holds no data of its own; every figure comes from the API with
the API key the user typed (kept in the browser's localStorage), so the API's auth applies unchanged.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

__all__ = ["STATIC_DIR", "plotly_js_path", "router"]

STATIC_DIR: Final = Path(__file__).resolve().with_name("static")
_MEDIA: Final = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_OWN_ASSETS: Final = frozenset({"dashboard.js", "dashboard.css"})
_CACHE: Final = {"Cache-Control": "public, max-age=3600"}

router = APIRouter(include_in_schema=False)


@cache
def plotly_js_path() -> Path:
    """The minified Plotly.js shipped inside the plotly Python package (a dependency already)."""
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():
        raise FileNotFoundError(f"plotly.min.js not found at {path}; reinstall the plotly package")
    return path


@cache
def _page() -> str:
    return (STATIC_DIR / "dashboard.html").read_text(encoding="utf-8")


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_page() -> HTMLResponse:
    """The page itself (no user data in it: the script fetches everything with the user's key).

    Async and cached: no thread hop, no disk read, so under load it measures HTTP + routing alone (the
    load benchmark's floor).
    """
    return HTMLResponse(_page())


@router.get("/dashboard/static/{name}")
def dashboard_asset(name: str) -> FileResponse:
    """The page's script, style and Plotly.js; only these names, so no path can escape the folder."""
    if name == "plotly.min.js":
        return FileResponse(plotly_js_path(), media_type=_MEDIA[".js"], headers=_CACHE)
    if name not in _OWN_ASSETS:
        raise HTTPException(status_code=404, detail=f"no dashboard asset named {name!r}")
    path = STATIC_DIR / name
    return FileResponse(path, media_type=_MEDIA[path.suffix], headers=_CACHE)
