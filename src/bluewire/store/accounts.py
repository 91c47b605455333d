"""Queries on accounts, API keys and lines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from .schema import accounts, api_keys, line_accounts, lines
from .writer import Tx


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    email: str
    plan: str


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    number: str
    connector: str
    shared: bool
    rate_limit: float | None
    settings: dict[str, Any] = field(default_factory=dict)  # its connector's (JSON)


@dataclass(frozen=True, slots=True)
class AccountRow:
    """An account as the operator lists it."""

    id: int
    email: str
    plan: str
    created_at: int
    active_keys: int


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key without its secret (only the secret's hash is stored)."""

    key_id: str
    account_id: int
    account_email: str
    created_at: int
    revoked_at: int | None


def insert_account(tx: Tx, email: str, plan: str, now: int) -> Account:
    result = tx.execute(
        accounts.insert().values(email=email, plan=plan, created_at=now).returning(accounts.c.id)
    )
    return Account(id=result.scalar_one(), email=email, plan=plan)


def insert_api_key(tx: Tx, account_id: int, key_id: str, secret_hash: str, now: int) -> None:
    tx.execute(api_keys.insert().values(account_id=account_id, key_id=key_id,
                                        secret_hash=secret_hash, created_at=now))


def insert_line(tx: Tx, number: str, connector: str, shared: bool,
                rate_limit: float | None, now: int,
                settings: dict[str, Any] | None = None) -> Line:
    result = tx.execute(
        lines.insert()
        .values(number=number, connector=connector, shared=shared, rate_limit=rate_limit,
                created_at=now, settings=json.dumps(settings) if settings else None)
        .returning(lines.c.id)
    )
    return Line(result.scalar_one(), number, connector, shared, rate_limit, settings or {})


def merge_line_settings(tx: Tx, number: str, changes: dict[str, Any]) -> bool:
    """Set `changes` in the line's settings; whether that changed them."""
    line = line_by_number(tx, number)
    if line is None or all(line.settings.get(k) == v for k, v in changes.items()):
        return False
    tx.execute(lines.update().where(lines.c.number == number)
               .values(settings=json.dumps(line.settings | changes)))
    return True


def grant_line(tx: Tx, line_id: int, account_id: int) -> None:
    exists = tx.execute(
        select(line_accounts.c.line_id).where(line_accounts.c.line_id == line_id,
                                              line_accounts.c.account_id == account_id)
    ).first()
    if exists is None:
        tx.execute(line_accounts.insert().values(line_id=line_id, account_id=account_id))


def account_by_email(conn: Connection | Tx, email: str) -> Account | None:
    row = conn.execute(select(accounts).where(accounts.c.email == email)).first()
    return Account(row.id, row.email, row.plan) if row else None


def account_by_id(conn: Connection | Tx, account_id: int) -> Account | None:
    row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
    return Account(row.id, row.email, row.plan) if row else None


def any_account(conn: Connection | Tx) -> bool:
    return conn.execute(select(accounts.c.id).limit(1)).first() is not None


def key_by_id(conn: Connection, key_id: str) -> tuple[int, str] | None:
    """(account id, secret hash) of an API key that is not revoked."""
    row = conn.execute(
        select(api_keys.c.account_id, api_keys.c.secret_hash).where(
            api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None)
        )
    ).first()
    return (row.account_id, row.secret_hash) if row else None


def all_accounts(conn: Connection) -> list[AccountRow]:
    active = (select(api_keys.c.account_id, func.count().label("n"))
              .where(api_keys.c.revoked_at.is_(None))
              .group_by(api_keys.c.account_id).subquery())
    rows = conn.execute(
        select(accounts.c.id, accounts.c.email, accounts.c.plan, accounts.c.created_at,
               func.coalesce(active.c.n, 0).label("active_keys"))
        .outerjoin(active, active.c.account_id == accounts.c.id)
        .order_by(accounts.c.id)
    )
    return [AccountRow(row.id, row.email, row.plan, row.created_at, row.active_keys)
            for row in rows]


def api_keys_of(conn: Connection | Tx, account_id: int | None = None, *,
                key_id: str | None = None) -> list[ApiKey]:
    """Every API key (of one account, or the one key, if given), oldest first; revoked ones
    too."""
    query = (select(api_keys.c.key_id, api_keys.c.account_id, accounts.c.email,
                    api_keys.c.created_at, api_keys.c.revoked_at)
             .join(accounts, accounts.c.id == api_keys.c.account_id)
             .order_by(api_keys.c.id))
    if account_id is not None:
        query = query.where(api_keys.c.account_id == account_id)
    if key_id is not None:
        query = query.where(api_keys.c.key_id == key_id)
    return [ApiKey(row.key_id, row.account_id, row.email, row.created_at, row.revoked_at)
            for row in conn.execute(query)]


def revoke_api_key(tx: Tx, key_id: str, now: int) -> None:
    tx.execute(update(api_keys).where(api_keys.c.key_id == key_id,
                                      api_keys.c.revoked_at.is_(None))
               .values(revoked_at=now))


def key_exists(conn: Connection | Tx, key_id: str) -> bool:
    query = select(api_keys.c.id).where(api_keys.c.key_id == key_id)
    return conn.execute(query).first() is not None


def line_owner_ids(conn: Connection | Tx, line_id: int) -> set[int]:
    query = select(line_accounts.c.account_id).where(line_accounts.c.line_id == line_id)
    rows = conn.execute(query)
    return {row.account_id for row in rows}


def ungrant_line(tx: Tx, line_id: int, account_id: int) -> None:
    tx.execute(delete(line_accounts).where(line_accounts.c.line_id == line_id,
                                           line_accounts.c.account_id == account_id))


def delete_line(tx: Tx, line_id: int) -> None:
    """The line and its grants (its messages keep its number)."""
    tx.execute(delete(line_accounts).where(line_accounts.c.line_id == line_id))
    tx.execute(delete(lines).where(lines.c.id == line_id))


def update_line(tx: Tx, line_id: int, *, shared: bool, rate_limit: float | None,
                settings: dict[str, Any]) -> None:
    tx.execute(update(lines).where(lines.c.id == line_id)
               .values(shared=shared, rate_limit=rate_limit,
                       settings=json.dumps(settings) if settings else None))


def line_by_number(conn: Connection | Tx, number: str) -> Line | None:
    row = conn.execute(select(lines).where(lines.c.number == number)).first()
    return _line(row) if row else None


def all_lines(conn: Connection | Tx) -> list[Line]:
    return [_line(row) for row in conn.execute(select(lines).order_by(lines.c.id))]


def all_grants(conn: Connection) -> dict[int, list[str]]:
    """Every account's line numbers."""
    grants: dict[int, list[str]] = {}
    rows = conn.execute(
        select(line_accounts.c.account_id, lines.c.number)
        .join(lines, line_accounts.c.line_id == lines.c.id)
    )
    for row in rows:
        grants.setdefault(row.account_id, []).append(row.number)
    return grants


def _line(row) -> Line:  # type: ignore[no-untyped-def]
    return Line(row.id, row.number, row.connector, bool(row.shared), row.rate_limit,
                json.loads(row.settings) if row.settings else {})
