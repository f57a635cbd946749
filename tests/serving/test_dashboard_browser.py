"""The dashboard in a real headless Chromium (Debian ``chromium`` + Playwright) against a real uvicorn server.

The page is driven as a user would: save an API key, pick a user, read the recommendations with their
explanations and the interest timeline, send purchase events from the form, and see the page update.
A missing browser fails the test (``make chromium`` installs it): a skipped browser test proves nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from driftrec.serving.process import ServerProcess
from driftrec.serving.security import create_api_key
from driftrec.workflows.bundle import load_bundle

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("DRIFTREC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium not found: run `make chromium` (apt-get install chromium) before the tests")
    return path


@pytest.fixture(scope="module")
def served(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The serving tests' tiny SASRec bundle (conftest) under real uvicorn, with one admin key."""
    root = tmp_path_factory.mktemp("dashboard")
    bundle = load_bundle(bundle_dir)
    # the shopper with the longest history: the richest timeline (and most likely a migration) to show
    user = str(bundle.users.ids[int(np.argmax(bundle.known.lengths()))])
    key, record = create_api_key("admin", "dashboard-test", n=2**10)
    settings = {
        "model": str(bundle_dir),
        "db": str(root / "events.sqlite"),
        "search": False,
        "api_keys": [asdict(record)],
    }
    with ServerProcess(settings, log_path=root / "server.log", env={"OMP_NUM_THREADS": "1"}) as server:
        yield {"url": server.url, "key": key, "user": user}


def _screenshot_is_meaningful(path: Path) -> tuple[int, float]:
    """(distinct colours, share of non-white pixels) of a screenshot; a blank page has ~1 colour."""
    image = np.asarray(Image.open(path).convert("RGB"))
    colours = np.unique(image.reshape(-1, 3), axis=0).shape[0]
    non_white = float((image.sum(axis=2) < 3 * 245).mean())
    return colours, non_white


def test_dashboard_shows_user_and_updates_after_events(served: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, key, user = served["url"], served["key"], served["user"]
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(f"{url}/dashboard")
            page.wait_for_selector("body[data-ready='1']")
            assert page.evaluate("typeof window.Plotly") == "object"  # served locally, no CDN

            # Without the key the API refuses, and the page says so.
            page.fill("#user-id", user)
            page.click("#load-user")
            page.wait_for_function("document.querySelector('#status').className === 'error'")
            assert "401" in page.inner_text("#status")
            problems.clear()  # the 401s above are expected console errors

            page.fill("#api-key", key)
            page.click("#key-form button")
            assert page.evaluate("localStorage.getItem('driftrec.apiKey')") == key
            page.wait_for_function("document.querySelector('#status').className === 'ok'")
            assert user in page.inner_text("#status")

            rows = page.locator("#recs tbody tr.rec")
            assert rows.count() == 10
            first_items = [rows.nth(i).get_attribute("data-item") for i in range(rows.count())]
            assert "because of" in page.inner_text("#recs")  # explanations from the user's history
            page.wait_for_selector("#timeline .main-svg")  # Plotly drew the interest timeline
            assert page.locator("#timeline .trace").count() >= 1

            # Send 3 purchases of the top recommendation (a click on a row fills the form).
            refreshes = int(page.evaluate("document.body.dataset.refreshes"))
            rows.first.click()
            assert page.input_value("#event-item") == first_items[0]
            page.select_option("#event-type", "purchase")
            page.fill("#event-repeat", "3")
            page.click("#send-event")
            page.wait_for_function(f"Number(document.body.dataset.refreshes) > {refreshes}")
            assert "accepted: 3" in page.inner_text("#event-status")
            assert page.locator("#event-log li").count() == 1

            # The page updated from the live state: the bought item is now seen, so it left the list.
            new_items = [rows.nth(i).get_attribute("data-item") for i in range(rows.count())]
            assert first_items[0] not in new_items and len(new_items) == 10

            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            text = page.inner_text("body")
        finally:
            browser.close()

    assert not problems, problems
    for expected in ("driftrec", "Interest timeline", "Recommendations", "Send a test event", user):
        assert expected in text
    colours, non_white = _screenshot_is_meaningful(shot)
    assert colours > 50 and non_white > 0.02, (colours, non_white)
    keep = os.environ.get("DRIFTREC_DASHBOARD_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)

    # What the page showed is what the server stored: the three events are in the user's history.
    history = httpx.get(
        f"{url}/users/{user}/events", params={"limit": 3}, headers={"X-API-Key": key}, timeout=10
    ).json()
    assert [e["item_id"] for e in history["events"]] == [first_items[0]] * 3
    assert {e["event"] for e in history["events"]} == {"purchase"}


def test_dashboard_assets_are_served_locally(served: dict[str, Any]) -> None:
    url = served["url"]
    page = httpx.get(f"{url}/dashboard", timeout=10)
    assert page.status_code == 200 and "<title>driftrec dashboard</title>" in page.text
    assert "https://" not in page.text and "http://" not in page.text  # nothing from a CDN
    plotly = httpx.get(f"{url}/dashboard/static/plotly.min.js", timeout=30)
    assert plotly.status_code == 200 and plotly.headers["content-type"].startswith("text/javascript")
    assert len(plotly.content) > 1_000_000
    assert httpx.get(f"{url}/dashboard/static/dashboard.js", timeout=10).status_code == 200
    assert httpx.get(f"{url}/dashboard/static/..%2Fapp.py", timeout=10).status_code == 404
    assert httpx.get(f"{url}/dashboard/static/secret.txt", timeout=10).status_code == 404
