"""Queries that read an account's messages as conversations: a 1:1 conversation is a line and
a contact's number, a group conversation is a group id. They serve the console's list of
conversations and its threads; nothing here writes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from ..domain.groups import Receipt
from ..domain.messages import MESSAGE_COLUMNS, MessageRecord
from .schema import contacts, events, message_receipts, messages, read_receipts

_COLUMNS = [messages.c[name] for name in MESSAGE_COLUMNS]


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """A conversation: `group_id` for a group's, else the contact's `number` on `line`."""

    line: str
    number: str | None = None
    group_id: str | None = None

    @property
    def is_group(self) -> bool:
        return self.group_id is not None


@dataclass(frozen=True, slots=True)
class ConversationRow:
    key: ConversationKey
    last: MessageRecord
    unread: int


def list_conversations(conn: Connection, account_id: int, *, limit: int,
                       offset: int) -> tuple[list[ConversationRow], int]:
    """The account's conversations, the most recently active first, and how many there are.

    Two grouped reads that the conversation index (account, number, line, group, id) answers
    by itself, without the table: each 1:1 conversation's last message id, and each group's.
    They are merged and paged here, which stays cheap as an account has thousands of
    conversations (a tuple each), however many messages they hold."""
    ones = conn.execute(
        select(messages.c.line, messages.c.number, func.max(messages.c.id))
        .where(messages.c.account_id == account_id, messages.c.group_id.is_(None))
        .group_by(messages.c.number, messages.c.line)).all()
    groups = conn.execute(
        select(messages.c.line, messages.c.group_id, func.max(messages.c.id))
        .where(messages.c.account_id == account_id, messages.c.group_id.is_not(None))
        .group_by(messages.c.group_id, messages.c.line)).all()
    latest = sorted([(last_id, ConversationKey(line, number=number))
                     for line, number, last_id in ones]
                    + [(last_id, ConversationKey(line, group_id=group_id))
                       for line, group_id, last_id in groups],
                    key=lambda found: found[0], reverse=True)
    page = latest[offset:offset + limit]
    last = _messages_by_id(conn, [last_id for last_id, _ in page])
    rows = [ConversationRow(key, last[last_id], unread_count(conn, account_id, key))
            for last_id, key in page]
    return rows, len(latest)


def _messages_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, MessageRecord]:
    rows = conn.execute(select(*_COLUMNS).where(messages.c.id.in_(ids))).all()
    return {row[0]: MessageRecord.from_row(row) for row in rows}


def _in_conversation(account_id: int, key: ConversationKey):  # type: ignore[no-untyped-def]
    if key.group_id is not None:
        # `account_id + 0`: SQLite, without statistics, would otherwise range over every
        # message of the account rather than look up the group's own in ix_messages_group.
        return (messages.c.group_id == key.group_id) & (messages.c.account_id + 0 == account_id)
    return ((messages.c.account_id == account_id) & (messages.c.number == key.number)
            & (messages.c.line == key.line) & messages.c.group_id.is_(None))


def unread_count(conn: Connection, account_id: int, key: ConversationKey) -> int:
    """Inbound messages we have not read: for a 1:1 conversation, those that arrived after the
    last read receipt we sent the contact (by hand or automatically); for a group, where read
    receipts are not sent, those that arrived after our last message to it."""
    if key.group_id is None:
        since = (select(func.max(read_receipts.c.sent_at))
                 .where(read_receipts.c.account_id == account_id,
                        read_receipts.c.line == key.line, read_receipts.c.number == key.number)
                 .scalar_subquery())
    else:
        since = (select(func.max(messages.c.created_at))
                 .where(_in_conversation(account_id, key), messages.c.is_outbound.is_(True))
                 .scalar_subquery())
    # `created_at + 0`: without statistics SQLite would rather range over the account's
    # messages by creation time (ix_messages_outcomes), all of them, than look up the
    # conversation's own.
    query = (select(func.count()).select_from(messages)
             .where(_in_conversation(account_id, key), messages.c.is_outbound.is_(False),
                    messages.c.created_at + 0 > func.coalesce(since, -1)))
    return int(conn.execute(query).scalar_one())


def thread_before(conn: Connection, account_id: int, key: ConversationKey,
                  before_id: int | None, limit: int) -> tuple[list[MessageRecord], bool]:
    """Up to `limit` messages of the conversation older than `before_id` (the newest when
    None), oldest first, and whether there are older ones still."""
    query = select(*_COLUMNS).where(_in_conversation(account_id, key))
    if before_id is not None:
        query = query.where(messages.c.id < before_id)
    rows = conn.execute(query.order_by(messages.c.id.desc()).limit(limit + 1)).all()
    page = [MessageRecord.from_row(row) for row in rows[:limit]]
    page.reverse()
    return page, len(rows) > limit


def thread_since(conn: Connection, account_id: int, key: ConversationKey, since_id: int,
                 limit: int) -> tuple[list[MessageRecord], bool]:
    """The messages of the conversation from `since_id` on, oldest first, at most the newest
    `limit` of them, and whether more than that many exist."""
    rows = conn.execute(select(*_COLUMNS)
                        .where(_in_conversation(account_id, key), messages.c.id >= since_id)
                        .order_by(messages.c.id.desc()).limit(limit + 1)).all()
    page = [MessageRecord.from_row(row) for row in rows[:limit]]
    page.reverse()
    return page, len(rows) > limit


def group_receipts(conn: Connection, message_ids: Sequence[int]) -> dict[int, list[Receipt]]:
    """Each group message's per-participant delivery and read times."""
    if not message_ids:
        return {}
    rows = conn.execute(
        select(message_receipts.c.message_id, message_receipts.c.number,
               message_receipts.c.delivered_at, message_receipts.c.read_at)
        .where(message_receipts.c.message_id.in_(message_ids))
        .order_by(message_receipts.c.id)).all()
    found: dict[int, list[Receipt]] = {}
    for message_id, number, delivered_at, read_at in rows:
        found.setdefault(message_id, []).append(Receipt(number, delivered_at, read_at))
    return found


def contact_names(conn: Connection, account_id: int, numbers: Sequence[str]) -> dict[str, str]:
    """The names the account gave these numbers in its contacts (numbers without one absent)."""
    if not numbers:
        return {}
    rows = conn.execute(
        select(contacts.c.number, contacts.c.first_name, contacts.c.last_name,
               contacts.c.company_name)
        .where(contacts.c.account_id == account_id, contacts.c.number.in_(list(numbers)))).all()
    names = {}
    for number, first, last, company in rows:
        name = " ".join(part for part in (first, last) if part) or company
        if name:
            names[number] = name
    return names


def typing_since(conn: Connection, account_id: int, line: str, number: str,
                 since_ms: int) -> bool:
    """Whether the contact's last typing indicator since `since_ms` said they are typing."""
    rows = conn.execute(
        select(events.c.data)
        .where(events.c.account_id == account_id, events.c.type == "typing.changed",
               events.c.occurred_at >= since_ms)
        .order_by(events.c.id.desc()).limit(500)).scalars()
    for raw in rows:
        data = json.loads(raw)
        if data.get("number") == number and data.get("sendblue_number") == line:
            return bool(data.get("is_typing"))
    return False
