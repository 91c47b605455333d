"""One server per SQLite file: an exclusive lock on a file beside the database (`<file>.lock`),
held for the server process's life and released by the system when it ends, however it ends.

Only `bluewire serve` takes it. Management commands are short writers that SQLite serializes
with the server, and they must keep working while it runs.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .database import Database


class AlreadyServed(Exception):
    """Another process serves the file."""


class ServerLock:
    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = -1


def hold_server_lock(database: Path, holder: str) -> ServerLock:
    """The lock of the SQLite file `database` for `holder` (who the lock says serves it), or
    AlreadyServed naming the file and the process that holds it."""
    database = database.expanduser().resolve()
    path = database.with_name(database.name + ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        held_by = os.read(fd, 512).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise AlreadyServed(
            f"{database} is already served by {held_by}. One process serves a SQLite file: "
            "stop that one first, or run several processes on PostgreSQL (README: Running at "
            "scale).") from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.write(fd, holder.encode())
    return ServerLock(fd, path)


def serve_alone(database: Database, serving: str) -> ServerLock | None:
    """The lock of `database` when it is a SQLite file, for this process `serving` (e.g.
    "bluewire serve on 127.0.0.1:8080"); None for PostgreSQL, which many processes share."""
    if not database.is_sqlite:
        return None
    return hold_server_lock(Path(str(database.url.database)), f"process {os.getpid()} ({serving})")
