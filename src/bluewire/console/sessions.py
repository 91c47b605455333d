"""Console sessions: server-side, one row each in `console_sessions`.

Signing in with an API key pair opens a session. Its cookie carries only a random token (256
bits); the table keeps the token's SHA-256, never the token, so a copy of the database opens no
session. The row holds the account, the key signed in with, the session's CSRF token, and when
it was opened and last used.

A session ends when it is signed out (its row is deleted), when it has not been used for the
idle time (`BLUEWIRE_CONSOLE_IDLE_MINUTES`), or when its API key is revoked. Every console
request reads its session row, and that read joins the key's row in `api_keys`, the one that
`bluewire keys revoke` marks, so a revocation by any process ends the key's sessions at their
next request, on both engines, at no cost beyond the read the session needs anyway. (The API's
Authenticator caches verified keys in memory and so needs services/key_revocation.py to learn
of revocations; a session is never cached, so it does not.)

Last use is written at most once every `touch_every_ms` (a minute): a session idles out between
`idle` and `idle` plus a minute after its last request, and browsing writes nothing most of the
time. Sessions that idled out or lost their key are deleted when someone signs in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from ..store import console_sessions as store
from ..store.accounts import Account
from ..store.database import Database, now_ms
from ..store.writer import Tx, Writer

COOKIE = "bluewire_session"
TOUCH_EVERY_MS = 60_000
_MAX_TOKEN_LENGTH = 128  # a token is 43 characters; anything much longer is not one of ours


@dataclass(frozen=True, slots=True)
class Session:
    token_hash: str
    account_id: int
    email: str
    key_id: str
    csrf_token: str
    created_at: int
    last_seen_at: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleSessions:
    def __init__(self, database: Database, writer: Writer, *, idle_ms: int,
                 touch_every_ms: int = TOUCH_EVERY_MS) -> None:
        self._database = database
        self._writer = writer
        self.idle_ms = idle_ms
        self._touch_every_ms = touch_every_ms

    async def open(self, account: Account, key_id: str) -> tuple[str, Session]:
        """A new session of `account`, signed in with `key_id`: the cookie's token, and the
        session."""
        token = secrets.token_urlsafe(32)
        now = now_ms()
        session = Session(token_hash(token), account.id, account.email, key_id,
                          secrets.token_urlsafe(32), now, now)

        def op(tx: Tx) -> None:
            store.delete_stale_sessions(tx, now - self.idle_ms)
            store.insert_session(tx, session.token_hash, account.id, key_id, session.csrf_token,
                                 now)

        await self._writer.submit(op)
        return token, session

    async def resolve(self, token: str | None, *, touch: bool = True) -> Session | None:
        """The live session of the cookie's `token`, or None (none, idled out, key revoked).
        `touch`: the request counts as use (else it only checks, as a live stream does)."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        hashed = token_hash(token)
        row = await self._database.read_async(lambda conn: store.usable_session(conn, hashed))
        if row is None:
            return None
        now = now_ms()
        if now - row.last_seen_at > self.idle_ms:
            await self.close(hashed)
            return None
        last_seen = row.last_seen_at
        if touch and now - last_seen >= self._touch_every_ms:
            await self._writer.submit(lambda tx: store.touch_session(tx, hashed, now))
            last_seen = now
        return Session(hashed, row.account_id, row.email, row.key_id, row.csrf_token,
                       row.created_at, last_seen)

    async def close(self, hashed: str) -> None:
        """End the session whose token hashes to `hashed` (signing out)."""
        await self._writer.submit(lambda tx: store.delete_session(tx, hashed))
