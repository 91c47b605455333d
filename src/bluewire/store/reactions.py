"""Tapbacks (the reactions table): recorded, claimed for the connector, and read back."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, exists, or_, select, update

from ..domain.reactions import ReactionRecord
from .schema import chat_groups, group_members, reactions
from .writer import Tx

QUEUED, SENT, FAILED, RECEIVED = "queued", "sent", "failed", "received"


def add(tx: Tx, record: ReactionRecord, state: str, due_at: int | None = None) -> None:
    tx.insert(reactions, {
        "handle": record.handle, "account_id": record.account_id, "line": record.line,
        "number": record.number, "group_id": record.group_id,
        "message_handle": record.message_handle, "part_index": record.part_index,
        "reaction": record.reaction, "removed": record.removed,
        "is_outbound": record.is_outbound, "state": state, "due_at": due_at, "attempts": 0,
        "error_message": None, "created_at": record.created_at})


_COLUMNS = (reactions.c.handle, reactions.c.account_id, reactions.c.line, reactions.c.number,
            reactions.c.group_id, reactions.c.message_handle, reactions.c.part_index,
            reactions.c.reaction, reactions.c.removed, reactions.c.is_outbound,
            reactions.c.created_at)


def _record(row: Sequence[object]) -> ReactionRecord:
    return ReactionRecord(*row)  # type: ignore[arg-type]


def claim_due(tx: Tx, now: int, lease_until: int,
              limit: int) -> list[tuple[ReactionRecord, int]]:
    """Take a lease on up to `limit` queued reactions due now (new ones, and ones whose try's
    lease ran out: the process trying died), oldest first, each with its tries so far (this
    one counted)."""
    query = (select(reactions.c.id).where(reactions.c.state == QUEUED,
                                          reactions.c.due_at <= now)
             .order_by(reactions.c.id).limit(limit))
    if tx.is_postgresql:
        query = query.with_for_update(skip_locked=True)
    ids = [row[0] for row in tx.execute(query)]
    if not ids:
        return []
    tx.execute(update(reactions).where(reactions.c.id.in_(ids))
               .values(due_at=lease_until, attempts=reactions.c.attempts + 1))
    return [(_record(row[:-1]), int(row[-1])) for row in tx.execute(
        select(*_COLUMNS, reactions.c.attempts).where(reactions.c.id.in_(ids))
        .order_by(reactions.c.id))]


def expire_claims(tx: Tx) -> None:
    """Make every queued reaction due now (a single-process store at start: a lease in it was
    held by a process now gone)."""
    now = time.time_ns() // 1_000_000
    tx.execute(update(reactions).where(reactions.c.state == QUEUED, reactions.c.due_at > now)
               .values(due_at=now))


def settle(tx: Tx, handle: str, state: str, error: str | None = None) -> None:
    tx.execute(update(reactions).where(reactions.c.handle == handle,
                                       reactions.c.state == QUEUED)
               .values(state=state, due_at=None, error_message=error))


def retry_at(tx: Tx, handle: str, due_at: int) -> None:
    """Not handed over (the line is offline): due again at `due_at`, the try not counted."""
    tx.execute(update(reactions).where(reactions.c.handle == handle,
                                       reactions.c.state == QUEUED)
               .values(due_at=due_at, attempts=reactions.c.attempts - 1))


@dataclass(frozen=True, slots=True)
class Seen:
    line: str
    message_handle: str
    reaction: str
    removed: bool
    part_index: int
    from_phone: bool
    at_ms: int


def of_phone(conn: Connection, account_id: int, number: str, lines: Sequence[str],
             limit: int) -> list[Seen]:
    """The newest `limit` reactions between `number` and `account_id`'s `lines` that the phone
    has: the lines' handed to the network (in its 1:1 conversation, and in the groups it was a
    member of then), and the phone's own. Oldest first."""
    if not lines:
        return []
    was_member = exists().where(
        chat_groups.c.group_id == reactions.c.group_id,
        group_members.c.group_pk == chat_groups.c.id, group_members.c.number == number,
        group_members.c.added_at <= reactions.c.created_at,
        or_(group_members.c.removed_at.is_(None),
            group_members.c.removed_at > reactions.c.created_at))
    rows = conn.execute(
        select(reactions.c.line, reactions.c.message_handle, reactions.c.reaction,
               reactions.c.removed, reactions.c.part_index, reactions.c.is_outbound,
               reactions.c.created_at)
        .where(reactions.c.account_id == account_id, reactions.c.line.in_(lines),
               reactions.c.state.in_((SENT, RECEIVED)),
               or_(reactions.c.number == number,
                   and_(reactions.c.is_outbound.is_(True), reactions.c.group_id.is_not(None),
                        was_member)))
        .order_by(reactions.c.id.desc()).limit(limit)).all()
    return [Seen(line, handle, name, bool(removed), part, not outbound, at)
            for line, handle, name, removed, part, outbound, at in reversed(rows)]

