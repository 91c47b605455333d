"""Queries on the web console's sessions (console/sessions.py says what a session is)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, exists, or_, select, update

from .schema import accounts, api_keys, console_sessions
from .writer import Tx


@dataclass(frozen=True, slots=True)
class SessionRow:
    account_id: int
    email: str
    key_id: str
    csrf_token: str
    created_at: int
    last_seen_at: int


def insert_session(tx: Tx, token_hash: str, account_id: int, key_id: str, csrf_token: str,
                   now: int) -> None:
    tx.execute(console_sessions.insert().values(
        token_hash=token_hash, account_id=account_id, key_id=key_id, csrf_token=csrf_token,
        created_at=now, last_seen_at=now))


def usable_session(conn: Connection, token_hash: str) -> SessionRow | None:
    """The session, with its account's email, if the API key it was opened with is still
    usable (exists, not revoked). Idle expiry is the caller's to judge."""
    row = conn.execute(
        select(console_sessions.c.account_id, accounts.c.email, console_sessions.c.key_id,
               console_sessions.c.csrf_token, console_sessions.c.created_at,
               console_sessions.c.last_seen_at)
        .join(accounts, accounts.c.id == console_sessions.c.account_id)
        .join(api_keys, api_keys.c.key_id == console_sessions.c.key_id)
        .where(console_sessions.c.token_hash == token_hash,
               api_keys.c.account_id == console_sessions.c.account_id,
               api_keys.c.revoked_at.is_(None))
    ).first()
    return SessionRow(row.account_id, row.email, row.key_id, row.csrf_token, row.created_at,
                      row.last_seen_at) if row else None


def touch_session(tx: Tx, token_hash: str, now: int) -> None:
    tx.execute(update(console_sessions).where(console_sessions.c.token_hash == token_hash)
               .values(last_seen_at=now))


def delete_session(tx: Tx, token_hash: str) -> None:
    tx.execute(delete(console_sessions).where(console_sessions.c.token_hash == token_hash))


def delete_stale_sessions(tx: Tx, idle_since: int) -> int:
    """Delete the sessions last used before `idle_since` and those whose key was revoked; how
    many."""
    key_usable = exists().where(api_keys.c.key_id == console_sessions.c.key_id,
                                api_keys.c.revoked_at.is_(None))
    result = tx.execute(delete(console_sessions).where(
        or_(console_sessions.c.last_seen_at < idle_since, ~key_usable)))
    return result.rowcount or 0
