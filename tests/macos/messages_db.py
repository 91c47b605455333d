"""A chat.db like the one Messages.app keeps, for tests: the Sequoia schema in WAL mode, and
the writes Messages makes (incoming rows, delivery, read, errors)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The schema of a real Messages database, kept beside this module.
SCHEMA = Path(__file__).resolve().parent / "chatdb-schema-sequoia.sql"
APPLE_EPOCH_UNIX_S = 978_307_200


def apple_now_ns() -> int:
    return time.time_ns() - APPLE_EPOCH_UNIX_S * 1_000_000_000


def typedstream_blob(text: str) -> bytes:
    """An attributedBody as Messages writes it: an NSAttributedString in typedstream format,
    its string after 0x01 0x2B and a length (<0x80; 0x81 + 2 bytes LE; 0x82 + 4 bytes LE)."""
    data = text.encode()
    n = len(data)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x8000:
        length = b"\x81" + n.to_bytes(2, "little")
    else:
        length = b"\x82" + n.to_bytes(4, "little")
    return (b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00"
            b"\x84\x84\x08NSObject\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01\x2b"
            + length + data + b"\x86\x84\x02iI\x01\x05\x92\x84\x84\x84\x0cNSDictionary\x00"
            b"\x94\x84\x01i\x00\x86\x86")


class MessagesDb:
    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA.read_text())

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
        db = self._connect()
        try:
            with db:
                return db.execute(sql, params).fetchall()
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction: Messages writes a message with its chat link and attachments at
        once, so a reader never sees a message without them."""
        db = self._connect()
        try:
            with db:
                yield db
        finally:
            db.close()

    def handle(self, number: str, service: str = "iMessage") -> int:
        with self._transaction() as db:
            return _handle(db, number, service)

    def chat(self, guid: str, participants: list[str], *, group: bool = False,
             service: str = "iMessage") -> int:
        identifier = guid.split(";", 2)[2]
        with self._transaction() as db:
            chat_id = int(db.execute(
                "INSERT INTO chat (guid, style, chat_identifier, service_name) "
                "VALUES (?, ?, ?, ?)", (guid, 43 if group else 45, identifier, service)).lastrowid)
            for number in participants:
                db.execute("INSERT INTO chat_handle_join VALUES (?, ?)",
                           (chat_id, _handle(db, number, service)))
        return chat_id

    def incoming(self, chat_guid: str, sender: str, text: str | None, *,
                 body: bytes | None = None, service: str = "iMessage",
                 associated_type: int = 0, associated_guid: str | None = None,
                 attachment: str | None = None, thread_originator: str | None = None) -> str:
        """An incoming row. A tapback is one with `associated_type` (2000-2005 put on, 3000-3005
        taken off) naming its target in `associated_guid` (`p:<part>/<guid>`); an inline reply
        names the message it answers in `thread_originator` (with its part, "0:0:<length>")."""
        guid = str(uuid.uuid4()).upper()
        now = apple_now_ns()
        if associated_type and associated_guid is None:
            associated_guid = "p:0/OTHER"
        with self._transaction() as db:
            chat_id = int(db.execute("SELECT ROWID FROM chat WHERE guid = ?",
                                     (chat_guid,)).fetchone()[0])
            rowid = db.execute(
                "INSERT INTO message (guid, text, attributedBody, handle_id, service, date, "
                "is_from_me, associated_message_type, associated_message_guid, "
                "cache_has_attachments, thread_originator_guid, thread_originator_part) "
                "VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
                (guid, text, body, _handle(db, sender, service), service, now, associated_type,
                 associated_guid, int(attachment is not None), thread_originator,
                 f"0:0:{len(text or '')}" if thread_originator else None),
            ).lastrowid
            db.execute("INSERT INTO chat_message_join VALUES (?, ?, ?)", (chat_id, rowid, now))
            if attachment:
                att = db.execute(
                    "INSERT INTO attachment (guid, original_guid, filename) VALUES (?, ?, ?)",
                    (guid + "-a", guid + "-a", attachment)).lastrowid
                db.execute("INSERT INTO message_attachment_join VALUES (?, ?)", (rowid, att))
        return guid

    def sent_rows(self) -> list[Any]:
        """(guid, text, service, chat guid) of every outgoing row, oldest first."""
        return self.execute(
            "SELECT m.guid, m.text, m.service, c.guid FROM message m "
            "JOIN chat_message_join j ON j.message_id = m.ROWID JOIN chat c ON c.ROWID = j.chat_id "
            "WHERE m.is_from_me = 1 ORDER BY m.ROWID")

    def deliver(self, guid: str) -> None:
        self.execute("UPDATE message SET is_delivered = 1, date_delivered = ? WHERE guid = ?",
                     (apple_now_ns(), guid))

    def read(self, guid: str) -> None:
        self.execute("UPDATE message SET is_read = 1, date_read = ? WHERE guid = ?",
                     (apple_now_ns(), guid))

    def fail(self, guid: str, error: int = 22) -> None:
        self.execute("UPDATE message SET error = ? WHERE guid = ?", (error, guid))


def _handle(db: sqlite3.Connection, number: str, service: str) -> int:
    db.execute("INSERT OR IGNORE INTO handle (id, service) VALUES (?, ?)", (number, service))
    return int(db.execute("SELECT ROWID FROM handle WHERE id = ? AND service = ?",
                          (number, service)).fetchone()[0])
