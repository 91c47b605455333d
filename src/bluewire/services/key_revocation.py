"""Whether a key the Authenticator verified earlier has been revoked since, by any process.

The Authenticator remembers verified keys so that a request does not pay for scrypt; a key
revoked from the CLI (another process) must stop working at the very next request all the same.

- SQLite: every request the cache answers reads the key's row (store/key_state.py, about 5 µs).
  A SQLite file has no other channel between processes, and a read that cheap needs none.
- PostgreSQL: a read would be a network round trip on every request. Instead the revocation's
  transaction sends a NOTIFY (notifications.KEYS) and every process forgets its verified keys
  when it arrives, before the revoking command has even returned. While a process's LISTEN
  connection is down it cannot hear revocations, so it reads the key's row on each request
  until it listens again (and, having reconnected, forgets everything it verified).
"""

from __future__ import annotations

from collections.abc import Callable

from ..store import accounts as store
from ..store.database import Database
from ..store.key_state import SqliteKeyState


class RevocationCheck:
    def __init__(self, database: Database, listening: Callable[[], bool]) -> None:
        self._database = database
        self._listening = listening
        self._sqlite = SqliteKeyState(database.url.database or "") \
            if database.is_sqlite else None

    async def revoked(self, key_id: str) -> bool:
        """Whether the key, verified earlier, can no longer be used."""
        if self._sqlite is not None:
            return not self._sqlite.usable(key_id)
        if self._listening():
            return False  # a revocation would have made the Authenticator forget the key
        found = await self._database.read_async(lambda conn: store.key_by_id(conn, key_id))
        return found is None

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
