"""Queries on group chats, their members, and the per-participant receipts of group messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, select, update

from ..domain.groups import Receipt
from .analytics_dirty import mark_message_changed
from .schema import chat_groups, group_members, messages
from .writer import Tx


@dataclass(frozen=True, slots=True)
class ChatGroup:
    pk: int
    group_id: str
    account_id: int
    line: str
    display_name: str | None
    members: tuple[str, ...]  # current members, in the order they joined
    photo_guid: str | None = None  # its photo's: the id of the media object kept of it
    photo_url: str | None = None  # where its photo is downloaded


def group_by_id(conn: Connection | Tx, group_id: str) -> ChatGroup | None:
    row = conn.execute(
        select(chat_groups.c.id, chat_groups.c.group_id, chat_groups.c.account_id,
               chat_groups.c.line, chat_groups.c.display_name, chat_groups.c.photo_guid,
               chat_groups.c.photo_url)
        .where(chat_groups.c.group_id == group_id)
    ).first()
    if row is None:
        return None
    members = conn.execute(
        select(group_members.c.number)
        .where(group_members.c.group_pk == row[0], group_members.c.removed_at.is_(None))
        .order_by(group_members.c.id)
    ).scalars().all()
    return ChatGroup(row[0], row[1], row[2], row[3], row[4], tuple(members), row[5], row[6])


def create_group(tx: Tx, group_id: str, account_id: int, line: str,
                 members: Sequence[str], now: int) -> None:
    tx.execute(chat_groups.insert().values(group_id=group_id, account_id=account_id, line=line,
                                           created_at=now))
    tx.execute_many(
        "INSERT INTO group_members (group_pk, number, added_at) "
        "SELECT id, ?, ? FROM chat_groups WHERE group_id = ?",
        [(number, now, group_id) for number in members],
    )


def add_member(tx: Tx, group_pk: int, number: str, now: int) -> None:
    tx.execute(group_members.insert().values(group_pk=group_pk, number=number, added_at=now))


def remove_member(tx: Tx, group_pk: int, number: str, now: int) -> None:
    tx.execute(
        update(group_members)
        .where(and_(group_members.c.group_pk == group_pk, group_members.c.number == number,
                    group_members.c.removed_at.is_(None)))
        .values(removed_at=now)
    )


def add_receipts(tx: Tx, handle: str, numbers: Sequence[str]) -> None:
    """One receipt row per participant of the (already inserted) message `handle` (whose
    add_message marked its hour for the analytics if it was closed)."""
    tx.execute_many(
        "INSERT INTO message_receipts (message_id, number) "
        "SELECT id, ? FROM messages WHERE handle = ?",
        [(number, handle) for number in numbers],
    )


def receipts_of(tx: Tx, message_id: int) -> dict[str, Receipt]:
    rows = tx.query("SELECT number, delivered_at, read_at FROM message_receipts "
                    "WHERE message_id = ? ORDER BY id", (message_id,))
    return {row[0]: Receipt(row[0], row[1], row[2]) for row in rows}


def save_receipts(tx: Tx, message_id: int, receipts: Sequence[Receipt]) -> None:
    tx.execute_many(
        "UPDATE message_receipts SET delivered_at = ?, read_at = ? "
        "WHERE message_id = ? AND number = ?",
        [(r.delivered_at, r.read_at, message_id, r.number) for r in receipts],
    )
    if receipts:
        mark_message_changed(tx, message_id)



@dataclass(frozen=True, slots=True)
class GroupTimes:
    created_at: int
    latest_at: int | None  # its latest message's creation
    latest_handle: str | None


def group_times(conn: Connection | Tx, group: ChatGroup) -> GroupTimes:
    created = conn.execute(select(chat_groups.c.created_at)
                           .where(chat_groups.c.id == group.pk)).scalar_one()
    latest = conn.execute(select(messages.c.created_at, messages.c.handle)
                          .where(messages.c.group_id == group.group_id)
                          .order_by(messages.c.id.desc()).limit(1)).first()
    return GroupTimes(created, latest[0] if latest else None, latest[1] if latest else None)


def rename_group(tx: Tx, group_pk: int, name: str | None) -> None:
    tx.execute(update(chat_groups).where(chat_groups.c.id == group_pk)
               .values(display_name=name))


def set_photo(tx: Tx, group_pk: int, guid: str | None, url: str | None) -> None:
    tx.execute(update(chat_groups).where(chat_groups.c.id == group_pk)
               .values(photo_guid=guid, photo_url=url))


def names_of(conn: Connection | Tx, group_ids: Iterable[str]) -> dict[str, str]:
    """The current names of those of `group_ids` that have one, in one query."""
    wanted = sorted(set(group_ids))
    if not wanted:
        return {}
    rows = conn.execute(select(chat_groups.c.group_id, chat_groups.c.display_name)
                        .where(chat_groups.c.group_id.in_(wanted),
                               chat_groups.c.display_name.is_not(None))).all()
    return {row[0]: row[1] for row in rows if row[1]}
