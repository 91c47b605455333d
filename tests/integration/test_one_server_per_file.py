"""One `bluewire serve` per SQLite file: a second one on the same file is refused, naming the
file and the process serving it; management commands keep working beside the server. Many
servers share one PostgreSQL database (the point of it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ..databases import Engine
from ..server import ServerProcess, free_port


def second_serve(first: ServerProcess, workdir: Path) -> subprocess.Popen[str]:
    """`bluewire serve` on the first server's database, from another folder."""
    return subprocess.Popen(
        [sys.executable, "-m", "bluewire", "serve", "--port", str(free_port())],
        cwd=workdir, env=first.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_server_on_one_database_file_is_refused(tmp_path: Path, engine: Engine) -> None:
    first = ServerProcess(tmp_path).start()
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert first.process is not None
    try:
        second = second_serve(first, other)
        try:
            if engine.name == "sqlite":
                out, err = second.communicate(timeout=60)
                assert second.returncode == 2, out + err
                database = first.database_url.removeprefix("sqlite:///")
                assert database in err and f"process {first.process.pid}" in err, err
                assert "PostgreSQL" in err, err
            else:
                ServerProcess(other, {"BLUEWIRE_DATABASE_URL": first.database_url}).start().stop()
        finally:
            if second.poll() is None:
                second.kill()
                second.communicate()
        # A management command is not a server: it works while one runs.
        first.cli("accounts", "create", "beside@example.com")
        with first.client() as api:
            assert api.get("/api/v2/messages").status_code == 200
    finally:
        first.stop()
    # Once the first is gone, the file may be served again.
    ServerProcess(other, {"BLUEWIRE_DATABASE_URL": first.database_url}).start().stop()
