"""An account's messages read as conversations (the console's Conversations page): the list of
1:1 and group conversations with their last message and unread count, and a conversation's
thread in pages, newest page first. Every read is scoped to the account: a conversation it has
no message in, on a line it may not use, or a group it does not own, is not found."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from ..domain.errors import ApiError, not_found
from ..domain.groups import Receipt
from ..domain.messages import MessageRecord
from ..domain.phones import require_number
from ..store import conversations as store
from ..store.accounts import Account
from ..store.conversations import ConversationKey, ConversationRow
from ..store.database import Database, now_ms
from ..store.groups import ChatGroup, group_by_id
from .lines import LineDirectory

TYPING_SHOWN_MS = 60_000  # a "typing" that was never stopped is forgotten after this
MAX_LIST_PAGE = 200
MAX_THREAD_PAGE = 200


@dataclass(frozen=True, slots=True)
class ConversationList:
    rows: list[ConversationRow]
    total: int
    names: dict[str, str]  # contact names by number
    groups: dict[str, ChatGroup]  # the listed groups by id


@dataclass(frozen=True, slots=True)
class Thread:
    key: ConversationKey
    messages: list[MessageRecord]  # oldest first
    more: bool  # older messages exist (a page back), or newer than fit (a live refresh)
    receipts: dict[int, list[Receipt]] = field(default_factory=dict)  # group messages' copies
    names: dict[str, str] = field(default_factory=dict)
    group: ChatGroup | None = None
    typing: bool = False  # the contact is typing to us now (1:1 only)
    unread: int = 0


class ConversationService:
    def __init__(self, database: Database, lines: LineDirectory) -> None:
        self._database = database
        self._lines = lines

    async def list(self, account: Account, *, limit: int, offset: int) -> ConversationList:
        limit = max(1, min(limit, MAX_LIST_PAGE))
        offset = max(0, offset)

        def read(conn: Connection) -> ConversationList:
            rows, total = store.list_conversations(conn, account.id, limit=limit, offset=offset)
            numbers = [row.key.number for row in rows if row.key.number]
            groups = {row.key.group_id: group for row in rows if row.key.group_id
                      if (group := group_by_id(conn, row.key.group_id)) is not None}
            members = [n for group in groups.values() for n in group.members]
            return ConversationList(rows, total,
                                    store.contact_names(conn, account.id, numbers + members),
                                    groups)

        return await self._database.read_async(read)

    def key_of(self, account: Account, raw_line: str, raw_number: str) -> ConversationKey:
        """The 1:1 conversation a URL names, or a 404 when the line is not the account's."""
        try:
            line = require_number(raw_line, "line", recipient=False)
            number = require_number(raw_number, "number", recipient=False)
        except ApiError:
            raise not_found(f"No conversation with {raw_number} on {raw_line}") from None
        if self._lines.usable_by(account.id, line) is None:
            raise not_found(f"No conversation with {number} on {line}")
        return ConversationKey(line, number=number)

    async def group_key(self, account: Account, group_id: str) -> ConversationKey:
        group = await self._database.read_async(lambda conn: group_by_id(conn, group_id))
        if group is None or group.account_id != account.id:
            raise not_found(f"No group {group_id}")
        return ConversationKey(group.line, group_id=group.group_id)

    async def page(self, account: Account, key: ConversationKey, *, before: int | None = None,
                   limit: int = 50) -> Thread:
        """The page of messages before `before` (the latest page when None); a 404 when the
        conversation has no message of this account at all."""
        limit = max(1, min(limit, MAX_THREAD_PAGE))

        def read(conn: Connection) -> Thread:
            found, older = store.thread_before(conn, account.id, key, before, limit)
            if not found and before is None:
                raise not_found(_missing(key))
            return self._thread(conn, account, key, found, older)

        return await self._database.read_async(read)

    async def since(self, account: Account, key: ConversationKey, since_id: int, *,
                    limit: int = MAX_THREAD_PAGE) -> Thread:
        """The messages from `since_id` on (a live page's refresh), at most `limit`, newest."""
        def read(conn: Connection) -> Thread:
            found, more = store.thread_since(conn, account.id, key, since_id, limit)
            if not found and not store.thread_before(conn, account.id, key, None, 1)[0]:
                raise not_found(_missing(key))
            return self._thread(conn, account, key, found, more)

        return await self._database.read_async(read)

    def _thread(self, conn: Connection, account: Account, key: ConversationKey,
                found: list[MessageRecord], more: bool) -> Thread:
        group = group_by_id(conn, key.group_id) if key.group_id else None
        receipts = store.group_receipts(
            conn, [m.id for m in found if m.group_id and m.is_outbound and m.id is not None])
        numbers = {m.number for m in found} | set(group.members if group else ())
        typing = (key.number is not None and store.typing_since(
            conn, account.id, key.line, key.number, now_ms() - TYPING_SHOWN_MS))
        return Thread(key, found, more, receipts,
                      store.contact_names(conn, account.id, sorted(numbers)), group, typing,
                      store.unread_count(conn, account.id, key))


def _missing(key: ConversationKey) -> str:
    if key.group_id:
        return f"No group {key.group_id}"
    return f"No conversation with {key.number} on {key.line}"

