"""Agent tokens: `agt_<id>.<secret>`, the secret stored as an scrypt hash (like API secrets)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from ..connectors.agent.frames import TOKEN_PREFIX
from ..domain.phones import InvalidNumber, parse_e164
from ..services.accounts import AdminError
from ..services.secrets import hash_secret, verify_secret
from ..store.database import Database, now_ms
from ..store.schema import agent_tokens
from ..store.writer import Tx, Writer

_DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class AgentToken:
    token_id: str
    lines: tuple[str, ...]
    created_at: int
    revoked_at: int | None


def split_token(token: str) -> tuple[str, str] | None:
    """(token id, secret) of `agt_<id>.<secret>`, or None if it is not shaped so."""
    if not token.startswith(TOKEN_PREFIX) or "." not in token:
        return None
    token_id, _, secret = token.partition(".")
    return (token_id, secret) if secret else None


def _row(row) -> AgentToken:  # type: ignore[no-untyped-def]
    return AgentToken(row.token_id, tuple(json.loads(row.lines)), row.created_at, row.revoked_at)


class AgentTokens:
    def __init__(self, database: Database, writer: Writer) -> None:
        self._database = database
        self._writer = writer

    def create(self, lines: list[str]) -> tuple[AgentToken, str]:
        """A new token serving `lines`, and its full text (shown once)."""
        if not lines:
            raise AdminError("a token must serve at least one line (--line NUMBER)")
        try:
            numbers = tuple(sorted({parse_e164(line) for line in lines}))
        except InvalidNumber as exc:
            raise AdminError(str(exc)) from None
        token_id = TOKEN_PREFIX + secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        created_at = now_ms()
        row = {"token_id": token_id, "secret_hash": hash_secret(secret),
               "lines": json.dumps(list(numbers)), "created_at": created_at, "revoked_at": None}

        def op(tx: Tx) -> None:
            tx.insert(agent_tokens, row)

        self._writer.run(op)
        return AgentToken(token_id, numbers, created_at, None), f"{token_id}.{secret}"

    def all(self) -> list[AgentToken]:
        rows = self._database.read(lambda conn: conn.execute(
            select(agent_tokens).order_by(agent_tokens.c.id)).all())
        return [_row(row) for row in rows]

    def revoke(self, token_id: str) -> None:
        def op(tx: Tx) -> int:
            result = tx.execute(update(agent_tokens)
                                .where(agent_tokens.c.token_id == token_id,
                                       agent_tokens.c.revoked_at.is_(None))
                                .values(revoked_at=now_ms()))
            return result.rowcount or 0

        if not self._writer.run(op):
            raise AdminError(f"no active agent token {token_id}")

    def verify(self, token: str) -> AgentToken | None:
        """The token, if `token` is a valid, unrevoked one (blocking: scrypt; run in a thread)."""
        parts = split_token(token)
        row = None
        if parts is not None:
            row = self._database.read(lambda conn: conn.execute(
                select(agent_tokens).where(agent_tokens.c.token_id == parts[0])).first())
        if row is None or parts is None:
            verify_secret(token, _DUMMY_HASH)  # the same cost whether or not it exists
            return None
        if not verify_secret(parts[1], row.secret_hash) or row.revoked_at is not None:
            return None
        return _row(row)
