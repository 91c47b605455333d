"""Queries on webhook endpoints and an account's global webhook secret.

Secrets here are as stored: sealed (store/secret_box.py), or in clear when an earlier version
wrote them; the services seal what they write and open what they must show or sign with."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from sqlalchemy import Connection, delete, select, update

from .deliveries import detach_endpoints
from .schema import accounts, webhook_endpoints
from .writer import Tx


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: int
    type: str
    url: str
    secret: str | None
    lines: tuple[str, ...] | None  # sendblue_numbers: only these lines; None: every line
    disabled_reason: str | None
    send_secret_header: bool = True

    def hears_line(self, line: str | None) -> bool:
        return self.lines is None or line is None or line in self.lines


@dataclass(frozen=True, slots=True)
class NewEndpoint:
    type: str
    url: str
    secret: str | None = None  # sealed
    lines: tuple[str, ...] | None = None
    send_secret_header: bool = True


@dataclass(frozen=True, slots=True)
class Signing:
    """A secret as stored (sealed) and whether it also goes in `sb-signing-secret`."""

    secret: str | None
    send_secret_header: bool


def endpoints_of(conn: Connection | Tx, account_id: int) -> list[Endpoint]:
    rows = conn.execute(
        select(webhook_endpoints)
        .where(webhook_endpoints.c.account_id == account_id)
        .order_by(webhook_endpoints.c.type, webhook_endpoints.c.position,
                  webhook_endpoints.c.id)
    )
    return [
        Endpoint(row.id, row.type, row.url, row.secret,
                 tuple(msgspec.json.decode(row.lines)) if row.lines else None,
                 row.disabled_reason, row.send_secret_header)
        for row in rows
    ]


def global_secret_of(conn: Connection | Tx, account_id: int) -> str | None:
    return conn.execute(
        select(accounts.c.webhook_secret).where(accounts.c.id == account_id)
    ).scalar()


def set_global_secret(tx: Tx, account_id: int, secret: str | None) -> None:
    tx.execute(update(accounts).where(accounts.c.id == account_id).values(webhook_secret=secret))


def account_signing_of(conn: Connection | Tx, account_id: int) -> Signing:
    row = conn.execute(
        select(accounts.c.webhook_secret, accounts.c.send_secret_header)
        .where(accounts.c.id == account_id)
    ).first()
    return Signing(None, True) if row is None else Signing(row[0], bool(row[1]))


def set_send_secret_header(tx: Tx, account_id: int, send: bool) -> None:
    tx.execute(update(accounts).where(accounts.c.id == account_id)
               .values(send_secret_header=send))


def signing_of(tx: Tx, endpoint_ids: set[int],
               account_ids: set[int]) -> tuple[dict[int, Signing], dict[int, Signing]]:
    """The current secrets (as stored) of these endpoints and accounts: what signs the next
    attempt of their deliveries. An endpoint removed since is not in the answer."""
    endpoints: dict[int, Signing] = {}
    if endpoint_ids:
        for row in tx.execute(
            select(webhook_endpoints.c.id, webhook_endpoints.c.secret,
                   webhook_endpoints.c.send_secret_header)
            .where(webhook_endpoints.c.id.in_(sorted(endpoint_ids)))
        ):
            endpoints[row[0]] = Signing(row[1], bool(row[2]))
    owners: dict[int, Signing] = {}
    if account_ids:
        for row in tx.execute(
            select(accounts.c.id, accounts.c.webhook_secret, accounts.c.send_secret_header)
            .where(accounts.c.id.in_(sorted(account_ids)))
        ):
            owners[row[0]] = Signing(row[1], bool(row[2]))
    return endpoints, owners


def add_endpoints(tx: Tx, account_id: int, new: list[NewEndpoint], now: int) -> None:
    positions: dict[str, int] = {}
    for endpoint in new:
        if endpoint.type not in positions:
            last = tx.execute(
                select(webhook_endpoints.c.position)
                .where(webhook_endpoints.c.account_id == account_id,
                       webhook_endpoints.c.type == endpoint.type)
                .order_by(webhook_endpoints.c.position.desc()).limit(1)
            ).scalar()
            positions[endpoint.type] = -1 if last is None else last
        positions[endpoint.type] += 1
        tx.execute(webhook_endpoints.insert().values(
            account_id=account_id, type=endpoint.type, url=endpoint.url, secret=endpoint.secret,
            send_secret_header=endpoint.send_secret_header,
            lines=msgspec.json.encode(list(endpoint.lines)).decode() if endpoint.lines else None,
            position=positions[endpoint.type], created_at=now,
        ))


def remove_endpoints(tx: Tx, account_id: int, urls: list[str], type_: str | None) -> int:
    """Forget endpoints (their delivery history stays, pointing at no endpoint)."""
    condition = [webhook_endpoints.c.account_id == account_id,
                 webhook_endpoints.c.url.in_(urls)]
    if type_ is not None:
        condition.append(webhook_endpoints.c.type == type_)
    ids = [row.id for row in tx.execute(select(webhook_endpoints.c.id).where(*condition))]
    if not ids:
        return 0
    detach_endpoints(tx, ids)
    tx.execute(delete(webhook_endpoints).where(webhook_endpoints.c.id.in_(ids)))
    return len(ids)


def remove_all_endpoints(tx: Tx, account_id: int) -> None:
    ids = [row.id for row in tx.execute(
        select(webhook_endpoints.c.id).where(webhook_endpoints.c.account_id == account_id))]
    if ids:
        detach_endpoints(tx, ids)
        tx.execute(delete(webhook_endpoints).where(webhook_endpoints.c.id.in_(ids)))


def disable_endpoint(tx: Tx, endpoint_id: int, reason: str, now: int) -> None:
    tx.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
               .values(disabled_at=now, disabled_reason=reason))
