"""Whether an API key may still be used, read from a SQLite file on every request that an
in-memory cache answers.

It is one indexed lookup on a connection of its own, with no pool or SQL compilation in between:
about 5 µs, against about 190 µs for the same query through the engine. Other processes (the
CLI revoking a key) write the same file, so reading it is the only way to see their commits at
once; in WAL mode the read never waits for a writer.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

_QUERY = "SELECT revoked_at IS NULL FROM api_keys WHERE key_id = ?"


class SqliteKeyState:
    """Used only from the event loop's thread; opened at the first question."""

    def __init__(self, path: str) -> None:
        self._path = str(Path(path).expanduser())
        self._connection: sqlite3.Connection | None = None

    def usable(self, key_id: str) -> bool:
        """The key exists and is not revoked."""
        if self._connection is None:
            self._connection = sqlite3.connect(self._path, timeout=30, isolation_level=None,
                                               check_same_thread=False)
            self._connection.execute("PRAGMA query_only=1")
        row = self._connection.execute(_QUERY, (key_id,)).fetchone()
        return bool(row and row[0])

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
