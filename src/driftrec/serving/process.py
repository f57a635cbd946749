"""Run the service in a child process under real uvicorn, on a free loopback port (tests and benchmarks).

Browser tests and load benchmarks must talk to the server over a socket, from another process, exactly as
clients do; this starts ``uvicorn.run(create_app(ServingSettings(...)))`` in a fresh interpreter, waits
until ``/healthz`` answers, and stops it on exit (SIGTERM, then SIGKILL if it hangs).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

__all__ = ["ServerProcess", "free_port"]

_RUNNER = """
import json, sys
import uvicorn
from driftrec.serving import ServingSettings, create_app
from driftrec.serving.index import IndexConfig
from driftrec.serving.security import ApiKeyRecord
spec = json.loads(sys.argv[1])
kwargs = dict(spec["settings"])
if "index" in kwargs:
    kwargs["index"] = IndexConfig(**kwargs["index"])
if "api_keys" in kwargs:
    kwargs["api_keys"] = tuple(ApiKeyRecord(**k) for k in kwargs["api_keys"])
app = create_app(ServingSettings(**kwargs))
uvicorn.run(app, host=spec["host"], port=spec["port"], log_level=spec["log_level"], access_log=False)
"""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``with ServerProcess({"model": ..., "db": ...}) as server: httpx.get(server.url + "/healthz")``.

    ``settings`` are ``ServingSettings`` keyword arguments as JSON values (``index`` as an ``IndexConfig``
    dict, ``api_keys`` as ``ApiKeyRecord`` dicts). ``env`` adds to the child's environment (e.g. thread
    counts). The child's output goes to ``log_path`` so that a failed start can be diagnosed.
    """

    def __init__(
        self,
        settings: dict[str, Any],
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: str | Path | None = None,
        env: dict[str, str] | None = None,
        start_timeout_s: float = 180.0,
        log_level: str = "warning",
    ) -> None:
        self.settings = settings
        self.host = host
        self.port = port or free_port(host)
        self.log_path = Path(log_path) if log_path else None
        self.env = env or {}
        self.start_timeout_s = start_timeout_s
        self.log_level = log_level
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the server is not running")
        return self.process.pid

    def start(self) -> ServerProcess:
        spec = {"settings": self.settings, "host": self.host, "port": self.port, "log_level": self.log_level}
        self._log_file = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-c", _RUNNER, json.dumps(spec, default=str)],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with code {self.process.returncode} on start-up{self._tail()}"
                )
            try:
                if httpx.get(self.url + "/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"server not ready within {self.start_timeout_s:.0f}s{self._tail()}")

    def _tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return "; log tail:\n" + self.log_path.read_text(errors="replace")[-3000:]
        return ""

    def stop(self, timeout_s: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log_file not in (None, subprocess.DEVNULL):
            self._log_file.close()
        self._log_file = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
