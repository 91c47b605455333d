"""First contacts of a line (counted against its new-contact limits), and when a contact last
exchanged a 1:1 message with an account on a line."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from .schema import first_contacts, lines, messages
from .writer import Tx


def last_message_at(db: Connection | Tx, account_id: int, line: str, number: str) -> int | None:
    """When the account's latest 1:1 message with `number` on `line` (either way) was made."""
    m = messages.c
    latest = (select(m.created_at)
              .where(m.account_id == account_id, m.number == number, m.line == line,
                     m.group_id.is_(None))
              .order_by(m.id.desc()).limit(1))
    row = db.execute(latest).first()
    return int(row[0]) if row else None


def counted(db: Connection | Tx, line: str, hour_start: int,
            day_start: int) -> tuple[list[int], int]:
    """The times of `line`'s first contacts since `hour_start`, oldest first, and how many it
    made since `day_start`."""
    c = first_contacts.c
    hour = [int(row[0]) for row in db.execute(
        select(c.counted_at).where(c.line == line, c.counted_at >= hour_start)
        .order_by(c.counted_at))]
    day = db.execute(select(func.count()).select_from(first_contacts)
                     .where(c.line == line, c.counted_at >= day_start)).scalar_one()
    return hour, int(day)


def lock_line(tx: Tx, line: str) -> None:
    """On PostgreSQL, one transaction at a time counts `line`'s first contacts (its row is held
    until commit), so two processes cannot both take its last slot. SQLite has one writer."""
    if tx.is_postgresql:
        tx.execute(select(lines.c.id).where(lines.c.number == line).with_for_update())


def record(tx: Tx, account_id: int, line: str, number: str, at: int) -> None:
    tx.insert(first_contacts, {"account_id": account_id, "line": line, "number": number,
                               "counted_at": at})
