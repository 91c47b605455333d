"""Read-only access to Messages' chat.db (SQLite in WAL mode, written by Messages.app)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .attributed_body import decode_attributed_body

APPLE_EPOCH_UNIX_S = 978_307_200
_NS = 1_000_000_000
# Seconds since 2001 stay below this for centuries; nanoseconds passed it in 2001.
_NANOSECOND_THRESHOLD = 100_000_000_000

STYLE_ONE_TO_ONE = 45
STYLE_GROUP = 43
TAPBACK_TYPES = frozenset(range(2000, 2008)) | frozenset(range(3000, 3006))
ATTACHMENT_CHARACTER = "\ufffc"  # stands for each attachment in a message's text


def apple_to_unix_ms(value: int | None) -> int | None:
    """An Apple-epoch date (ns since 2001; plain seconds before macOS 10.13) as Unix ms."""
    if not value:
        return None
    if abs(value) >= _NANOSECOND_THRESHOLD:
        return value // 1_000_000 + APPLE_EPOCH_UNIX_S * 1000
    return (value + APPLE_EPOCH_UNIX_S) * 1000


def unix_ms_to_apple_ns(ms: int) -> int:
    return (ms - APPLE_EPOCH_UNIX_S * 1000) * 1_000_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class MessageRow:
    rowid: int
    guid: str
    text: str | None  # `text`, else the decoded `attributedBody`
    sender: str | None  # handle.id: the other party of a 1:1 row, the sender of a group one
    service: str | None
    is_from_me: bool
    is_sent: bool
    is_delivered: bool
    date: int | None
    date_delivered: int | None
    date_read: int | None
    error: int
    was_downgraded: bool
    associated_message_type: int
    item_type: int
    has_attachments: bool
    chat_guid: str | None
    chat_style: int | None
    chat_identifier: str | None
    associated_message_guid: str | None = None  # a tapback's target: `p:<part>/<guid>`
    thread_originator_guid: str | None = None  # the message an inline reply answers

    @property
    def is_tapback(self) -> bool:
        return self.associated_message_type in TAPBACK_TYPES

    @property
    def is_group(self) -> bool:
        return self.chat_style == STYLE_GROUP


_SELECT_MESSAGES = """
SELECT m.ROWID, m.guid, m.text, m.attributedBody, h.id, m.service, m.is_from_me, m.is_sent,
       m.is_delivered, m.date, m.date_delivered, m.date_read, m.error, m.was_downgraded,
       m.associated_message_type, m.item_type, m.cache_has_attachments,
       c.guid, c.style, c.chat_identifier, m.associated_message_guid, m.thread_originator_guid
FROM message m
LEFT JOIN handle h ON h.ROWID = m.handle_id
LEFT JOIN chat_message_join cmj ON cmj.message_id = m.ROWID
LEFT JOIN chat c ON c.ROWID = cmj.chat_id
"""


def _row(values: Sequence[Any]) -> MessageRow:
    (rowid, guid, text, body, sender, service, from_me, sent, delivered, date, date_delivered,
     date_read, error, downgraded, associated, item_type, attachments, chat_guid, style,
     identifier, associated_guid, thread_guid) = values
    return MessageRow(
        rowid=int(rowid), guid=str(guid),
        text=text if text is not None else decode_attributed_body(body),
        sender=sender, service=service,
        is_from_me=bool(from_me), is_sent=bool(sent), is_delivered=bool(delivered),
        date=date, date_delivered=date_delivered or None,
        date_read=date_read or None, error=int(error or 0),
        was_downgraded=bool(downgraded),
        associated_message_type=int(associated or 0),
        item_type=int(item_type or 0), has_attachments=bool(attachments),
        chat_guid=chat_guid, chat_style=style, chat_identifier=identifier,
        associated_message_guid=associated_guid or None,
        thread_originator_guid=thread_guid or None,
    )


class ChatDb:
    """Queries on chat.db; each opens its own read-only connection, so it sees the latest
    commit (including what is still in the WAL) and never holds a lock between polls."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        uri = f"file:{quote(str(self.path))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=5.0)
        try:
            yield conn
        finally:
            conn.close()

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._connect() as conn:
            return conn.execute(sql, params).fetchall()

    def max_rowid(self) -> int:
        rows = self._query("SELECT COALESCE(MAX(ROWID), 0) FROM message")
        return int(rows[0][0])

    def uses_nanoseconds(self) -> bool:
        """Whether `date` columns are in ns (macOS 10.13+); an empty database is assumed new."""
        latest = self._query("SELECT date FROM message WHERE date > 0 ORDER BY ROWID DESC LIMIT 1")
        return not latest or abs(int(latest[0][0])) >= _NANOSECOND_THRESHOLD

    def apple_date(self, unix_ms: int) -> int:
        """`unix_ms` in the unit this database's `date` columns use."""
        ns = unix_ms_to_apple_ns(unix_ms)
        return ns if self.uses_nanoseconds() else ns // _NS

    def messages_since(self, rowid: int, limit: int = 500) -> list[MessageRow]:
        rows = self._query(_SELECT_MESSAGES + " WHERE m.ROWID > ? ORDER BY m.ROWID LIMIT ?",
                           (rowid, limit))
        return [_row(r) for r in rows]

    def messages_by_guid(self, guids: Sequence[str]) -> dict[str, MessageRow]:
        if not guids:
            return {}
        marks = ",".join("?" * len(guids))
        rows = self._query(_SELECT_MESSAGES + f" WHERE m.guid IN ({marks})", tuple(guids))
        return {row.guid: row for row in map(_row, rows)}

    def recent_outgoing(self, since: int, guids: Sequence[str] | None = None) -> list[MessageRow]:
        """Outgoing rows dated from `since` (Apple epoch, the database's unit), optionally only
        those with one of `guids`, with their delivery, read and error state."""
        sql = _SELECT_MESSAGES + " WHERE m.is_from_me = 1 AND m.date >= ?"
        params: list[object] = [since]
        if guids is not None:
            if not guids:
                return []
            sql += f" AND m.guid IN ({','.join('?' * len(guids))})"
            params.extend(guids)
        return [_row(r) for r in self._query(sql + " ORDER BY m.ROWID", params)]

    def outgoing_after(self, rowid: int, chat_guid: str | None,
                       number: str | None) -> list[MessageRow]:
        """Outgoing rows after `rowid` in the group chat `chat_guid`, or in any 1:1 chat with
        `number` (Messages may pick its iMessage, SMS or `any;` chat)."""
        rows = self._query(
            _SELECT_MESSAGES + " WHERE m.ROWID > ? AND m.is_from_me = 1 AND (c.guid = ? OR "
            "(c.style = ? AND c.chat_identifier = ?)) ORDER BY m.ROWID",
            (rowid, chat_guid, STYLE_ONE_TO_ONE, number))
        return [_row(r) for r in rows]

    def chat_exists(self, guid: str) -> bool:
        return bool(self._query("SELECT 1 FROM chat WHERE guid = ?", (guid,)))

    def one_to_one_chats(self, number: str) -> list[str]:
        """Guids of the 1:1 chats with `number`, the most recently used first."""
        rows = self._query(
            "SELECT c.guid FROM chat c LEFT JOIN chat_message_join cmj ON cmj.chat_id = c.ROWID "
            "WHERE c.style = ? AND c.chat_identifier = ? GROUP BY c.ROWID "
            "ORDER BY MAX(COALESCE(cmj.message_date, 0)) DESC, c.ROWID DESC",
            (STYLE_ONE_TO_ONE, number))
        return [str(r[0]) for r in rows]

    def chat_guid_prefix(self) -> str:
        """`any` when this Messages uses macOS 26's `any;-;…` chat guids, else `iMessage`."""
        rows = self._query("SELECT 1 FROM chat WHERE guid LIKE 'any;%' LIMIT 1")
        return "any" if rows else "iMessage"

    def chat_participants(self, chat_guid: str) -> tuple[str, ...]:
        rows = self._query(
            "SELECT DISTINCT h.id FROM chat c JOIN chat_handle_join chj ON chj.chat_id = c.ROWID "
            "JOIN handle h ON h.ROWID = chj.handle_id WHERE c.guid = ? ORDER BY h.id",
            (chat_guid,))
        return tuple(str(r[0]) for r in rows)

    def chat_style(self, chat_guid: str) -> int | None:
        rows = self._query("SELECT style FROM chat WHERE guid = ?", (chat_guid,))
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def handle_services(self, number: str) -> set[str]:
        rows = self._query("SELECT DISTINCT service FROM handle WHERE id = ?", (number,))
        return {str(r[0]) for r in rows}

    def attachment_paths(self, message_rowid: int) -> list[str]:
        rows = self._query(
            "SELECT a.filename FROM message_attachment_join maj "
            "JOIN attachment a ON a.ROWID = maj.attachment_id "
            "WHERE maj.message_id = ? AND a.filename IS NOT NULL ORDER BY a.ROWID",
            (message_rowid,))
        return [str(r[0]) for r in rows]
