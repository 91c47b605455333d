"""The database going away under a running server: clear 503s, never 500s or hangs, and the
process stays alive to say so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from ..databases import Postgres
from ..server import SANDBOX_LINE, ServerProcess, wait_for


@pytest.fixture
def server(tmp_path: Path, postgres: Postgres) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path, {"BLUEWIRE_DATABASE_URL": postgres.create(tmp_path),
                                       "BLUEWIRE_DB_CONNECT_TIMEOUT_MS": "2000",
                                       "BLUEWIRE_DB_POOL_TIMEOUT_MS": "2000"}).start()
    yield process
    process.stop()


def test_requests_get_503_while_the_database_is_gone(server: ServerProcess,
                                                     postgres: Postgres) -> None:
    body = {"number": "+14155550100", "from_number": SANDBOX_LINE, "content": "before"}
    with server.client() as api:
        sent = api.post("/api/send-message", json=body)
        assert sent.status_code == 200, sent.text
        handle = sent.json()["message_handle"]

        name = make_url(server.database_url).database
        postgres.admin(f"DROP DATABASE {name} WITH (FORCE)")  # every connection is cut

        def answered_503() -> httpx.Response | None:
            answer = api.get("/api/status", params={"handle": handle})
            return answer if answer.status_code == 503 else None

        status = wait_for(answered_503, timeout=20, interval=0.2)
        assert status.json()["error_code"] == 5000
        assert "database is unavailable" in status.json()["error_message"]
        refused = api.post("/api/send-message", json={**body, "content": "during"})
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "1"

    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
    ready = httpx.get(server.url + "/readyz", timeout=10)
    assert ready.status_code == 503
    assert not next(c for c in ready.json()["checks"] if c["name"] == "database")["ok"]
    assert server.process is not None and server.process.poll() is None
