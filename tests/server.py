"""A real `bluewire serve` process on loopback, for tests (and benchmarks) to talk HTTP to."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from . import databases
from .child_signals import default_sigint

KEY_ID = "test-key-id"
SECRET = "test-secret-key"
SANDBOX_LINE = "+14155550199"


def phone(npa: int, suffix: str = "00") -> str:
    """The sandbox phone +1 NPA 555-01XX (its behaviour is set by the last two digits)."""
    return f"+1{npa}55501{suffix}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`bluewire serve` in a child process working in `workdir`, on a fresh database of `engine`
    (by default the current one: see tests/databases.py) unless `env` names one."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None,
                 port: int | None = None, engine: databases.Engine | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = env or {}
        if "BLUEWIRE_DATABASE_URL" not in env:
            env = {**env, "BLUEWIRE_DATABASE_URL": (engine or databases.current()).create(workdir)}
        self.env = {
            **os.environ,
            "BLUEWIRE_API_KEY_ID": KEY_ID,
            "BLUEWIRE_API_SECRET_KEY": SECRET,
            "BLUEWIRE_SANDBOX_DELIVER_MS": "0",
            "BLUEWIRE_SANDBOX_READ_MS": "0",
            "BLUEWIRE_ALLOW_PRIVATE_WEBHOOKS": "1",
            "BLUEWIRE_LOG_LEVEL": "warning",
            # Suites that send made-up CDN URLs pass them on; tests/integration/test_media.py
            # turns fetching on against its own file server.
            "BLUEWIRE_MEDIA_FETCH": "0",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"server-{self.port}.log"

    @property
    def database_url(self) -> str:
        return self.env["BLUEWIRE_DATABASE_URL"]

    @property
    def engine(self) -> str:
        """The engine the server's database is on: "sqlite" or "postgresql"."""
        return databases.engine_of(self.database_url)

    def sql(self, query: str, *params: Any) -> list[dict[str, Any]]:
        """Run `query` (`?` placeholders) on the server's database; the rows, as dicts."""
        return databases.query(self.database_url, query, params)

    def start(self, timeout: float = 20.0) -> ServerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bluewire", "serve", "--port", str(self.port)],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=default_sigint,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + "/openapi.json", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def terminate(self, timeout: float = 20.0) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self.terminate()
            except subprocess.TimeoutExpired:
                self.kill()

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a `bluewire` command against this server's store and URL."""
        env = {**self.env, "BLUEWIRE_URL": self.url, "COLUMNS": "200"}
        result = subprocess.run([sys.executable, "-m", "bluewire", *args], cwd=self.workdir,
                                env=env, capture_output=True, text=True, timeout=60,
                                preexec_fn=default_sigint)
        if check and result.returncode != 0:
            raise AssertionError(f"bluewire {' '.join(args)} failed:\n{result.stdout}\n"
                                 f"{result.stderr}")
        return result

    def client(self, key_id: str = KEY_ID, secret: str = SECRET, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30,
                            headers={"sb-api-key-id": key_id, "sb-api-secret-key": secret},
                            **kwargs)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns something truthy; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {value!r})")
        time.sleep(interval)
