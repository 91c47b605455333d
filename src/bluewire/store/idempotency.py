"""Idempotency keys of sends (idempotency_keys; see domain/idempotency.py)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from sqlalchemy import Connection, text

from ..domain.idempotency import StoredAnswer
from .writer import Tx

# Taken when the key is new to the account, or its row is older than `since` (forgotten, only
# not yet deleted): then, and only then, it returns a row. On PostgreSQL, a key that another
# transaction has just written waits here for that transaction to end, so of two processes
# sending with one key, the second finds the first's answer.
_TAKE = (
    "INSERT INTO idempotency_keys (account_id, idempotency_key, request_hash, message_handle, "
    "status_code, response, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (account_id, idempotency_key) DO UPDATE SET "
    "request_hash = excluded.request_hash, message_handle = excluded.message_handle, "
    "status_code = excluded.status_code, response = excluded.response, "
    "created_at = excluded.created_at "
    "WHERE idempotency_keys.created_at < ? "
    "RETURNING id"
)
_STORED = ("SELECT request_hash, status_code, response FROM idempotency_keys "
           "WHERE account_id = ? AND idempotency_key = ?")
_STORED_SINCE = text("SELECT request_hash, status_code, response FROM idempotency_keys "
                     "WHERE account_id = :account_id AND idempotency_key = :key "
                     "AND created_at >= :since")
_FORGET = ("DELETE FROM idempotency_keys WHERE id IN (SELECT id FROM idempotency_keys "
           "WHERE created_at < ? ORDER BY created_at LIMIT ?) RETURNING id")


def take(tx: Tx, account_id: int, key: str, request_hash: str, message_handle: str,
         status: int, body: dict[str, Any], now: int, since: int) -> StoredAnswer | None:
    """Keep `key` with this answer, in `tx`; or, when the account already holds the key (kept
    at `since` or later), the answer kept with it, and nothing is written."""
    taken = tx.query(_TAKE, (account_id, key, request_hash, message_handle, status,
                             msgspec.json.encode(body).decode(), now, since))
    if taken:
        return None
    (row,) = tx.query(_STORED, (account_id, key))
    return StoredAnswer(row[0], int(row[1]), json.loads(row[2]))


def stored(conn: Connection, account_id: int, key: str, since: int) -> StoredAnswer | None:
    """The answer kept with the account's `key` at `since` or later, if any."""
    row = conn.execute(_STORED_SINCE, {"account_id": account_id, "key": key,
                                       "since": since}).first()
    return StoredAnswer(row[0], int(row[1]), json.loads(row[2])) if row else None


def forget(tx: Tx, before: int, limit: int) -> int:
    """Delete up to `limit` keys kept before `before`, oldest first; how many."""
    return len(tx.query(_FORGET, (before, limit)))
