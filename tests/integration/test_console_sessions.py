"""Console sessions in the store, on each engine: only the token's hash is kept, last use is
written at most once a minute, and a session ends when signed out, idle too long (60 minutes
by default) or its API key is revoked. (Tests in tests/console/ drive the same in a browser.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..console_client import ConsoleClient, token_hash
from ..server import ServerProcess

ADMIN = "admin@bluewire.local"
MINUTE_MS = 60_000


@pytest.fixture
def console(server: ServerProcess) -> Iterator[ConsoleClient]:
    with ConsoleClient(server.url) as client:
        assert client.sign_in().status_code == 303
        yield client


def row_of(server: ServerProcess, console: ConsoleClient) -> dict[str, Any] | None:
    assert console.session is not None
    rows = server.sql("SELECT * FROM console_sessions WHERE token_hash = ?",
                      token_hash(console.session))
    return rows[0] if rows else None


def age(server: ServerProcess, console: ConsoleClient, ms: int) -> None:
    """Make the session look last used `ms` earlier than it was."""
    assert console.session is not None
    server.sql("UPDATE console_sessions SET last_seen_at = last_seen_at - ? WHERE token_hash = ?",
               ms, token_hash(console.session))


def assert_signed_out(console: ConsoleClient) -> None:
    answer = console.get("/console/lines")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login")


def test_the_store_keeps_the_tokens_hash_the_account_and_the_key(
        server: ServerProcess, console: ConsoleClient) -> None:
    row = row_of(server, console)
    assert row is not None
    accounts = server.sql("SELECT id FROM accounts WHERE email = ?", ADMIN)
    assert row["account_id"] == accounts[0]["id"] and row["key_id"] == "test-key-id"
    assert row["created_at"] == row["last_seen_at"]
    assert len(row["csrf_token"]) >= 40 and row["csrf_token"] == console.csrf_token()
    assert not server.sql("SELECT 1 FROM console_sessions WHERE token_hash = ?", console.session)


def test_last_use_is_written_at_most_once_a_minute(server: ServerProcess,
                                                   console: ConsoleClient) -> None:
    for _ in range(3):
        assert console.get("/console/lines").status_code == 200
    row = row_of(server, console)
    assert row is not None and row["last_seen_at"] == row["created_at"]
    age(server, console, 2 * MINUTE_MS)
    assert console.get("/console/lines").status_code == 200
    touched = row_of(server, console)
    assert touched is not None and touched["last_seen_at"] > row["last_seen_at"] - MINUTE_MS


def test_a_session_idle_for_an_hour_is_over(server: ServerProcess,
                                            console: ConsoleClient) -> None:
    age(server, console, 59 * MINUTE_MS)
    assert console.get("/console/lines").status_code == 200  # used again in time
    age(server, console, 61 * MINUTE_MS)
    row = row_of(server, console)
    assert_signed_out(console)
    assert row is not None and not server.sql(
        "SELECT 1 FROM console_sessions WHERE token_hash = ?", row["token_hash"])


def test_signing_out_deletes_the_session(server: ServerProcess,
                                         console: ConsoleClient) -> None:
    hashed = token_hash(console.session or "")
    answer = console.post("/console/logout", {"csrf_token": console.csrf_token()})
    assert answer.status_code == 303 and console.session is None
    assert not server.sql("SELECT 1 FROM console_sessions WHERE token_hash = ?", hashed)


def test_revoking_the_key_ends_its_sessions_and_signing_in_sweeps_them(
        server: ServerProcess) -> None:
    server.cli("keys", "create", "--account", ADMIN, "--api-key-id", "session-key",
               "--api-secret-key", "session-secret")
    with ConsoleClient(server.url) as console, ConsoleClient(server.url) as other:
        assert console.sign_in("session-key", "session-secret").status_code == 303
        assert console.get("/console/lines").status_code == 200
        server.cli("keys", "revoke", "session-key")
        assert_signed_out(console)
        assert server.sql("SELECT 1 FROM console_sessions WHERE key_id = ?", "session-key")
        assert other.sign_in().status_code == 303  # any sign-in clears what cannot be used
        assert not server.sql("SELECT 1 FROM console_sessions WHERE key_id = ?", "session-key")
