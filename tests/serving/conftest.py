"""Shared serving fixtures: one tiny synthetic shop and one small SASRec (id+text fusion) bundle per session.

Training takes a few seconds (one epoch, hidden 16); item text comes from the real offline MiniLM encoder
(cached on disk after the first run).
"""

from __future__ import annotations

import asyncio
import functools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from driftrec.data import Dataset
from driftrec.data.synthetic import SyntheticShopConfig, generate
from driftrec.serving import ServingSettings, create_app
from driftrec.serving.process import free_port
from driftrec.workflows.prepare import SplitSpec
from driftrec.workflows.training import train_bundle


@pytest.fixture(scope="session")
def shop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("serving-shop")
    generate(SyntheticShopConfig(n_users=120, n_items=150, days=30, seed=11)).save(out)
    return out


@pytest.fixture(scope="session")
def bundle_dir(shop_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    params = {
        "fusion": "id+text",
        "hidden": 16,
        "blocks": 1,
        "heads": 1,
        "inner": 32,
        "max_len": 20,
        "training": {"epochs": 1, "num_threads": 1, "device": "cpu", "patience": 0},
    }
    bundle, _ = train_bundle(Dataset.load(shop_dir), "sasrec", params, SplitSpec(), shop_dir)
    return bundle.save(tmp_path_factory.mktemp("serving-bundle") / "bundle")


@pytest.fixture(scope="session")
def known_user(bundle_dir: Path) -> str:
    from driftrec.workflows.bundle import load_bundle

    return str(load_bundle(bundle_dir).users.ids[0])


@pytest.fixture(scope="session")
def item_ids(bundle_dir: Path) -> list[str]:
    from driftrec.workflows.bundle import load_bundle

    return [str(i) for i in load_bundle(bundle_dir).items.ids.to_list()]


@pytest.fixture
def settings_for(bundle_dir: Path, tmp_path: Path) -> Callable[..., ServingSettings]:
    def make(**overrides: Any) -> ServingSettings:
        values: dict[str, Any] = {"model": bundle_dir, "db": str(tmp_path / "events.sqlite")}
        values.update(overrides)
        return ServingSettings(**values)

    return make


class Api:
    """An in-process client on its own event loop, so one started app can serve many sync tests."""

    def __init__(self, settings: ServingSettings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.app = create_app(settings)
        self._lifespan = self.app.router.lifespan_context(self.app)
        self.loop.run_until_complete(self._lifespan.__aenter__())
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test")

    @property
    def engine(self) -> Any:
        return self.app.state.engine

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.run_until_complete(self.client.aclose())
        self.loop.run_until_complete(self._lifespan.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture
def open_api() -> Iterator[Callable[[ServingSettings], Api]]:
    """Start apps (closed at the end of the test); start two on one db to test a restart."""
    started: list[Api] = []

    def start(settings: ServingSettings) -> Api:
        api = Api(settings)
        started.append(api)
        return api

    yield start
    for api in reversed(started):
        api.close()


@pytest.fixture(scope="module")
def api(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One open app (no keys) shared by a module's read-mostly tests."""
    db = tmp_path_factory.mktemp("serving-db") / "events.sqlite"
    started = Api(ServingSettings(model=bundle_dir, db=str(db)))
    yield started
    started.close()


def _postgres_binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a Unix socket (skipped where PostgreSQL or psycopg is missing).

    Debian's ``postgresql`` package provides the binaries; as root the server runs as the ``postgres`` user.
    """
    pytest.importorskip("psycopg")
    binaries = _postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not installed")
    prefix: list[str] = []
    # not under pytest's tmp dir: as root that is private (0700), and the server runs as another user
    root = Path(tempfile.mkdtemp(prefix="driftrec-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a 'postgres' user to run the server")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    run = functools.partial(subprocess.run, check=True, capture_output=True, timeout=120)
    run([*prefix, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "driftrec", "--no-sync"])
    pg_ctl = [*prefix, str(binaries / "pg_ctl"), "-D", str(data)]
    options = f"-p {port} -k {root} -c listen_addresses='' -c fsync=on"
    run([*pg_ctl, "-l", str(root / "log"), "-o", options, "-w", "start"])
    try:
        yield f"postgresql://driftrec@/postgres?host={root}&port={port}"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], timeout=60, check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
