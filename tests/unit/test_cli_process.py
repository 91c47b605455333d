"""The `bluewire` command as a process, with no server: what it imports to start, and which
database the management commands open (never a new empty one by accident)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("sqlalchemy", "alembic", "psycopg", "httpx", "bluewire.app", "bluewire.services",
         "bluewire.store")


def bluewire(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BLUEWIRE_")}
    return subprocess.run([sys.executable, "-m", "bluewire", *args], cwd=cwd,
                          env={**environ, **env}, capture_output=True, text=True, timeout=60)


def test_the_cli_starts_without_the_server_or_the_store() -> None:
    probe = ("import sys, bluewire.cli.main; "
             f"print([m for m in sys.modules if m.startswith({HEAVY!r})])")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=60).stdout.strip()
    assert loaded == "[]"


def test_a_missing_sqlite_file_is_named_and_not_created(tmp_path: Path) -> None:
    for command in (("keys", "list"), ("accounts", "create", "ops@example.com"),
                    ("lines", "list", "--json"), ("agents", "list"), ("inbound", "--unrouted")):
        refused = bluewire(tmp_path, *command)
        assert refused.returncode == 2, (command, refused.stderr)
        assert str(tmp_path / "bluewire.db") in refused.stderr
        assert "BLUEWIRE_DATABASE_URL" in refused.stderr and "--new-database" in refused.stderr
        assert refused.stdout == "" and "Traceback" not in refused.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_new_database_is_made_only_when_asked(tmp_path: Path) -> None:
    made = bluewire(tmp_path, "accounts", "create", "ops@example.com", "--new-database")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "bluewire.db").exists()
    listed = bluewire(tmp_path, "accounts", "list", "--json")
    assert [account["email"] for account in json.loads(listed.stdout)] == ["ops@example.com"]
    assert f"database: {tmp_path / 'bluewire.db'}" in listed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    url = f"sqlite:///{tmp_path / 'bluewire.db'}"
    found = bluewire(elsewhere, "accounts", "list", "--json", BLUEWIRE_DATABASE_URL=url)
    assert found.returncode == 0 and "ops@example.com" in found.stdout


def test_an_unreachable_postgresql_is_an_error_that_hides_the_password(tmp_path: Path) -> None:
    url = "postgresql://ops:hunter2@127.0.0.1:9/bluewire"
    refused = bluewire(tmp_path, "keys", "list", BLUEWIRE_DATABASE_URL=url)
    assert refused.returncode == 1, refused.stderr
    assert "cannot reach the database" in refused.stderr and "Traceback" not in refused.stderr
    assert "127.0.0.1:9/bluewire" in refused.stderr and "hunter2" not in refused.stderr


def test_serve_refuses_store_settings_it_cannot_use_in_one_line(tmp_path: Path) -> None:
    for env, said in (
        ({"BLUEWIRE_SQLITE_MMAP_MIB": "-1"}, "BLUEWIRE_SQLITE_MMAP_MIB must be 0 or more, not -1"),
        ({"BLUEWIRE_SQLITE_SYNCHRONOUS": "sometimes"}, "BLUEWIRE_SQLITE_SYNCHRONOUS must be"),
        ({"BLUEWIRE_DATABASE_URL": "mysql://db/bluewire"}, "mysql is not supported"),
    ):
        refused = bluewire(tmp_path, "serve", "--port", "9", **env)
        assert refused.returncode == 2, (env, refused.stderr)
        assert said in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert list(tmp_path.iterdir()) == []  # no store made for a server that never started
