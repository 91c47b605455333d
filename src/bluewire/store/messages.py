"""Queries on messages and the event log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    asc,
    bindparam,
    desc,
    func,
    or_,
    select,
    update,
)

from ..domain.analytics import REPLY_WINDOW_MS
from ..domain.messages import MESSAGE_COLUMNS, MessageRecord
from ..domain.statuses import is_terminal
from .analytics_dirty import mark_changed
from .notifications import MESSAGES
from .schema import message_tags, messages
from .writer import Tx


def message_values(message: MessageRecord) -> dict[str, Any]:
    """The column values of a new message row (without its id, which the store assigns)."""
    return {
        "handle": message.handle,
        "account_id": message.account_id,
        "is_outbound": message.is_outbound,
        "line": message.line,
        "number": message.number,
        "content": message.content,
        "media_url": message.media_url,
        "send_style": message.send_style,
        "status_callback": message.status_callback,
        "message_type": message.message_type,
        "status": message.status.value,
        "service": message.service.value if message.service else None,
        "was_downgraded": message.was_downgraded,
        "error_code": message.error_code,
        "error_message": message.error_message,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
        "claimed_until": message.claimed_until,
        "dispatch_attempts": 0,
        "group_id": message.group_id,
        "participants": json.dumps(list(message.participants)) if message.group_id else None,
        "campaign": message.campaign,
        "tags": json.dumps(list(message.tags)) if message.tags else None,
        "reply_to": message.reply_to,
        "reply_to_part": message.reply_to_part,
    }


def add_message(tx: Tx, message: MessageRecord) -> None:
    tx.insert(messages, message_values(message))
    if message.is_outbound:  # rarely of a closed hour: an import, a clock stepped back
        mark_changed(tx, [(message.account_id, message.created_at)])
    if message.tags:  # one row per tag, for filtering and grouping by tag
        tx.execute_many(
            "INSERT INTO message_tags (message_id, tag, account_id, created_at) "
            "SELECT id, ?, account_id, created_at FROM messages WHERE handle = ?",
            [(tag, message.handle) for tag in message.tags],
        )


# The conversation's latest messages looked at for those a reply answers: far more than a
# conversation exchanges in a day.
_REPLY_LOOKBACK = 200


def mark_replied(tx: Tx, account_id: int, line: str, number: str, group_id: str | None,
                 at: int) -> None:
    """`number` wrote to `line` at `at` (in group `group_id`, or 1:1): the outbound messages of
    that conversation from the 24 hours before, not yet answered, are answered now (the 1:1
    message's `replied_at`; in a group, the sender's receipt's)."""
    if group_id is None:
        rows = tx.query(
            "SELECT id, is_outbound, created_at, replied_at FROM messages "
            "WHERE account_id = ? AND number = ? AND line = ? AND group_id IS NULL "
            f"ORDER BY id DESC LIMIT {_REPLY_LOOKBACK}", (account_id, number, line))
    else:
        rows = tx.query(
            "SELECT id, is_outbound, created_at, NULL FROM messages WHERE group_id = ? "
            f"ORDER BY id DESC LIMIT {_REPLY_LOOKBACK}", (group_id,))
    answered = [(at, row[0]) for row in rows
                if row[1] and row[3] is None and at - REPLY_WINDOW_MS <= row[2] <= at]
    if not answered:
        return
    created = {row[0]: row[2] for row in rows}
    mark_changed(tx, [(account_id, created[message_id]) for _, message_id in answered])
    if group_id is None:
        tx.execute_many("UPDATE messages SET replied_at = ? WHERE id = ?", answered)
    else:
        tx.execute_many("UPDATE message_receipts SET replied_at = ? "
                        "WHERE message_id = ? AND number = ? AND replied_at IS NULL",
                        [(at, message_id, number) for at, message_id in answered])


_COLUMNS = [messages.c[name] for name in MESSAGE_COLUMNS]
_BY_HANDLE = select(*_COLUMNS).where(messages.c.handle == bindparam("handle"))

# The hot paths run plain SQL on the driver: building a SQLAlchemy statement, and processing its
# parameters row by row, costs more than running it.
_COLUMN_LIST = ", ".join(MESSAGE_COLUMNS)
_SAVE_STATUS = (
    "UPDATE messages SET status = ?, service = ?, was_downgraded = ?, error_code = ?, "
    "error_message = ?, updated_at = ?, sent_at = ?, delivered_at = ?, read_at = ?{} "
    "WHERE id = ?"
)
# A message that becomes terminal needs no more dispatcher work: its lease is cleared. Otherwise
# the lease column is left out of the statement, so its index is not touched.
_SAVE_STATUS_AND_RELEASE = _SAVE_STATUS.format(", claimed_until = NULL")
_SAVE_STATUS_ONLY = _SAVE_STATUS.format("")
_CLAIM = (
    "UPDATE messages SET claimed_until = ?, dispatch_attempts = dispatch_attempts + 1 "
    "WHERE id IN (SELECT id FROM messages "
    "WHERE claimed_until IS NOT NULL AND claimed_until <= ? "
    "ORDER BY claimed_until, id LIMIT ?{lock}) "
    f"RETURNING {_COLUMN_LIST}"
)
_CLAIM_SQL = {False: _CLAIM.format(lock=""), True: _CLAIM.format(lock=" FOR UPDATE SKIP LOCKED")}


def message_by_handle(conn: Connection | Tx, handle: str) -> MessageRecord | None:
    row = conn.execute(_BY_HANDLE, {"handle": handle}).first()
    return MessageRecord.from_row(row) if row else None


def messages_by_handles(tx: Tx, handles: list[str]) -> list[MessageRecord]:
    marks = ", ".join("?" * len(handles))
    # On PostgreSQL the rows are locked, in id order, until the status changes are written: a
    # status read here is still the status when it is advanced, whatever other processes do.
    lock = " ORDER BY id FOR UPDATE" if tx.is_postgresql else ""
    rows = tx.query(f"SELECT {_COLUMN_LIST} FROM messages WHERE handle IN ({marks}){lock}",
                    handles)
    return [MessageRecord.from_row(row) for row in rows]


def save_statuses(tx: Tx, changed: list[MessageRecord]) -> None:
    """Write the status fields of each message back (after the domain allowed the change)."""
    release: list[tuple[Any, ...]] = []
    keep: list[tuple[Any, ...]] = []
    for message in changed:
        row = (
            message.status.value,
            message.service.value if message.service else None,
            message.was_downgraded,
            message.error_code,
            message.error_message,
            message.updated_at,
            message.sent_at,
            message.delivered_at,
            message.read_at,
            message.id,
        )
        done = message.claimed_until is not None and is_terminal(message.status, message.service)
        (release if done else keep).append(row)
    tx.execute_many(_SAVE_STATUS_AND_RELEASE, release)
    tx.execute_many(_SAVE_STATUS_ONLY, keep)
    mark_changed(tx, [(message.account_id, message.created_at) for message in changed
                      if message.is_outbound])


def claim_due(tx: Tx, now: int, lease_until: int, limit: int) -> list[MessageRecord]:
    """Take a lease on up to `limit` messages that need the dispatcher now: new ones, and
    unfinished ones whose lease ran out. Oldest first."""
    sql = _CLAIM_SQL[tx.is_postgresql]
    rows = tx.query(sql, (lease_until, now, limit))
    claimed = [MessageRecord.from_row(row) for row in rows]
    claimed.sort(key=lambda message: message.id or 0)
    return claimed


def release_claims(tx: Tx, handles: list[str], due_at: int = 0) -> None:
    """Hand leased messages back, as if never claimed (they were not given to a connector),
    due again at `due_at` (epoch ms; now by default)."""
    if handles:
        tx.execute(
            update(messages)
            .where(messages.c.handle.in_(handles), messages.c.claimed_until.is_not(None))
            .values(claimed_until=due_at, dispatch_attempts=messages.c.dispatch_attempts - 1)
        )
        tx.notify(MESSAGES)


def due_now_on(tx: Tx, lines: list[str], now: int) -> None:
    """Make the messages handed back for `lines` while they were offline due now (their
    connection is back), in every process."""
    result = tx.execute(
        update(messages)
        .where(messages.c.claimed_until > now, messages.c.dispatch_attempts == 0,
               messages.c.line.in_(lines))
        .values(claimed_until=0)
    )
    if result.rowcount:  # asked every half second: wake the processes only for work
        tx.notify(MESSAGES)


def expire_claims(tx: Tx) -> int:
    """Make every lease due now (a single-process store at start: their holder is gone)."""
    result = tx.execute(
        update(messages)
        .where(messages.c.claimed_until.is_not(None), messages.c.claimed_until > 0)
        .values(claimed_until=0)
    )
    return result.rowcount or 0


@dataclass(frozen=True, slots=True)
class MessageFilter:
    account_id: int
    number: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    line: str | None = None
    is_outbound: bool | None = None
    status: str | None = None
    service: str | None = None
    message_type: str | None = None
    campaign: str | None = None
    tag: str | None = None
    created_gte: int | None = None
    created_lte: int | None = None
    updated_gte: int | None = None
    updated_lte: int | None = None
    sent_gte: int | None = None
    sent_lte: int | None = None


ORDER_COLUMNS = {"created_at": messages.c.created_at, "updated_at": messages.c.updated_at,
                 "sent_at": messages.c.sent_at}


def list_messages(conn: Connection, flt: MessageFilter, *, order_by: str, descending: bool,
                  limit: int, offset: int) -> tuple[list[MessageRecord], int]:
    """A page of an account's messages and the total that match the filter."""
    c = messages.c
    conditions = [c.account_id == flt.account_id]
    if flt.number is not None:
        conditions.append(c.number == flt.number)
    if flt.from_number is not None:
        conditions.append(or_(and_(c.is_outbound.is_(True), c.line == flt.from_number),
                              and_(c.is_outbound.is_(False), c.number == flt.from_number)))
    if flt.to_number is not None:
        conditions.append(or_(and_(c.is_outbound.is_(True), c.number == flt.to_number),
                              and_(c.is_outbound.is_(False), c.line == flt.to_number)))
    if flt.line is not None:
        conditions.append(c.line == flt.line)
    if flt.is_outbound is not None:
        conditions.append(c.is_outbound.is_(flt.is_outbound))
    if flt.status is not None:
        conditions.append(c.status == flt.status)
    if flt.service is not None:
        conditions.append(c.service == flt.service)
    if flt.message_type is not None:
        conditions.append(c.message_type == flt.message_type)
    if flt.campaign is not None:
        conditions.append(c.campaign == flt.campaign)
    if flt.tag is not None:
        tagged = select(message_tags.c.message_id).where(
            message_tags.c.account_id == flt.account_id, message_tags.c.tag == flt.tag)
        conditions.append(c.id.in_(tagged))
    for column, low, high in ((c.created_at, flt.created_gte, flt.created_lte),
                              (c.updated_at, flt.updated_gte, flt.updated_lte),
                              (c.sent_at, flt.sent_gte, flt.sent_lte)):
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column <= high)
    where = and_(*conditions)
    total = conn.execute(select(func.count()).select_from(messages).where(where)).scalar_one()
    column = ORDER_COLUMNS[order_by]
    direction = desc if descending else asc
    rows = conn.execute(
        select(*_COLUMNS).where(where).order_by(direction(column), direction(c.id))
        .limit(limit).offset(offset)
    )
    return [MessageRecord.from_row(row) for row in rows], total


def unrouted_inbound(conn: Connection, limit: int) -> tuple[int, list[MessageRecord]]:
    """How many inbound messages reached no account, and the latest of them."""
    where = and_(messages.c.account_id.is_(None), messages.c.is_outbound.is_(False))
    total = conn.execute(select(func.count()).select_from(messages).where(where)).scalar_one()
    rows = conn.execute(select(*_COLUMNS).where(where).order_by(messages.c.id.desc())
                        .limit(limit))
    return total, [MessageRecord.from_row(row) for row in rows]
