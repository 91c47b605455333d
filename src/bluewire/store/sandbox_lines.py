"""An account's lines on the sandbox network, as `/v3/sandboxes` lists, adds and removes them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from .accounts import line_owner_ids
from .schema import line_accounts, lines
from .writer import Tx


@dataclass(frozen=True, slots=True)
class SandboxLineRow:
    id: int
    number: str
    shared: bool
    created_at: int


def of_account(conn: Connection | Tx, account_id: int) -> list[SandboxLineRow]:
    """The account's sandbox lines, oldest first."""
    rows = conn.execute(
        select(lines.c.id, lines.c.number, lines.c.shared, lines.c.created_at)
        .join(line_accounts, line_accounts.c.line_id == lines.c.id)
        .where(line_accounts.c.account_id == account_id, lines.c.connector == "sandbox")
        .order_by(lines.c.created_at, lines.c.id))
    return [SandboxLineRow(row.id, row.number, bool(row.shared), row.created_at) for row in rows]


def own_count(conn: Connection | Tx, account_id: int) -> int:
    """How many sandbox lines the account has that are not shared."""
    return int(conn.execute(
        select(func.count())
        .select_from(lines.join(line_accounts, line_accounts.c.line_id == lines.c.id))
        .where(line_accounts.c.account_id == account_id, lines.c.connector == "sandbox",
               lines.c.shared.is_(False))).scalar_one())


def taken_numbers(conn: Connection | Tx, first: str, last: str) -> set[str]:
    """The line numbers in use from `first` to `last` (E.164 numbers of one length)."""
    rows = conn.execute(select(lines.c.number).where(lines.c.number >= first,
                                                     lines.c.number <= last))
    return {row.number for row in rows}


def owned_only_by(conn: Connection | Tx, line_id: int, account_id: int) -> bool:
    return line_owner_ids(conn, line_id) == {account_id}
