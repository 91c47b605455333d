"""Read receipts we send, as Sendblue's read-receipt docs define them: by hand with
POST /api/mark-read, or automatically for every 1:1 iMessage inbound when the account turns
auto mark-read on. Each one is recorded."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select, update

from ..domain.errors import ApiError, exact_error
from ..domain.phones import parse_number_or_none
from ..domain.statuses import Service
from ..domain.wire.conversations import AutoMarkRead, MarkRead
from ..store.accounts import Account
from ..store.database import Database, now_ms
from ..store.schema import accounts, messages, read_receipts
from ..store.writer import Tx, Writer
from .lines import ConnectorRegistry, LineDirectory

log = logging.getLogger(__name__)

MISSING_NUMBER = {"status": "ERROR", "message": "You must specify a `number` in the request body."}
BAD_FROM_NUMBER = {"status": "ERROR",
                   "message": "You must specify a valid `from_number` in the request body."}
LINE_NOT_FOUND = {"status": "ERROR", "message": "The from_number is not registered"}
NOT_A_BOOLEAN = {"status": "ERROR", "message": "auto_mark_read must be a boolean"}

MANUAL, AUTO = "manual", "auto"


class ReadReceipts:
    def __init__(self, database: Database, writer: Writer, lines: LineDirectory,
                 registry: ConnectorRegistry) -> None:
        self._database = database
        self._writer = writer
        self._lines = lines
        self._registry = registry
        self._sending: set[asyncio.Task[None]] = set()

    async def mark_read(self, account: Account, body: MarkRead) -> dict[str, Any]:
        """POST /api/mark-read: tell the sender of a conversation we read it."""
        number = parse_number_or_none(body.number)
        if number is None:
            raise exact_error(400, MISSING_NUMBER)
        line_number = parse_number_or_none(body.from_number)
        if line_number is None:
            raise exact_error(400, BAD_FROM_NUMBER)
        line = self._lines.usable_by(account.id, line_number)
        connector = self._registry.for_line(line_number) if line else None
        if line is None or connector is None:
            raise exact_error(404, LINE_NOT_FOUND)
        capabilities = self._registry.capabilities_for(line_number)
        if capabilities is None or not capabilities.mark_read:
            raise ApiError(400, f"Line {line_number} cannot send read receipts (mark_read): "
                           f"its connector ({line.connector}) does not support them"
                           f"{self._registry.capability_note(line_number)}", error_code=4000,
                           error_key="CAPABILITY_MISSING")
        if not await self._has_conversation(account.id, line_number, number):
            # Nothing to mark read; on a shared line it would be another account's chat.
            raise exact_error(404, {"status": "ERROR", "message": (
                f"No conversation with {number} on {line_number}: mark-read answers messages "
                "this account exchanged with the number on that line")})
        service = await self._conversation_service(account.id, line_number, number)
        if service is None:
            service = await connector.evaluate_service(line_number, number)
        if service is Service.SMS:
            raise ApiError(400, f"Read receipts are for iMessage and RCS conversations only; the "
                           f"conversation with {number} is SMS", error_code=4000,
                           error_key="READ_RECEIPTS_IMESSAGE_ONLY")
        await self._writer.submit(
            lambda tx: self.record(tx, account.id, line_number, number, MANUAL, None))
        return {"status": "OK", "message": "Mark read request sent", "number": number}

    async def _has_conversation(self, account_id: int, line: str, number: str) -> bool:
        def found(conn):  # type: ignore[no-untyped-def]
            return conn.execute(
                select(messages.c.id)
                .where(messages.c.account_id == account_id, messages.c.line == line,
                       messages.c.number == number).limit(1)).first() is not None

        return bool(await self._database.read_async(found))

    async def _conversation_service(self, account_id: int, line: str,
                                    number: str) -> Service | None:
        def latest(conn):  # type: ignore[no-untyped-def]
            return conn.execute(
                select(messages.c.service)
                .where(messages.c.account_id == account_id, messages.c.line == line,
                       messages.c.number == number, messages.c.service.is_not(None))
                .order_by(messages.c.id.desc()).limit(1)).scalar()

        value = await self._database.read_async(latest)
        return Service(value) if value else None

    def can_send(self, line: str) -> bool:
        """Whether `line`'s connector can send read receipts at all (a Mac without the
        Private API cannot: auto mark-read then leaves its conversations alone)."""
        capabilities = self._registry.capabilities_for(line)
        return capabilities is not None and capabilities.mark_read

    def record(self, tx: Tx, account_id: int, line: str, number: str, mode: str,
               message_handle: str | None) -> None:
        """Record a receipt; it is handed to the line's connector once this commits."""
        tx.insert(read_receipts, {"account_id": account_id, "line": line, "number": number,
                                  "mode": mode, "message_handle": message_handle,
                                  "sent_at": now_ms()})
        tx.after_commit(lambda: self._send_soon(line, number))

    def _send_soon(self, line: str, number: str) -> None:
        task = asyncio.get_running_loop().create_task(self._send(line, number))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, line: str, number: str) -> None:
        connector = self._registry.for_line(line)
        if connector is None:
            return
        try:
            await connector.mark_read(line, number)
        except Exception:  # best effort, as Sendblue's are: recorded, never retried
            log.warning("read receipt to %s from %s failed", number, line, exc_info=True)

    @staticmethod
    def auto_enabled(tx: Tx, account_id: int) -> bool:
        """Read at the moment of each inbound, so a toggle applies from the very next one."""
        rows = tx.query("SELECT auto_mark_read FROM accounts WHERE id = ?", (account_id,))
        return bool(rows and rows[0][0])

    async def auto_of(self, account: Account) -> bool:
        """Whether the account marks every 1:1 iMessage read as it arrives (the console shows
        it beside its toggle)."""
        rows = await self._database.read_async(lambda conn: conn.execute(
            select(accounts.c.auto_mark_read).where(accounts.c.id == account.id)).all())
        return bool(rows and rows[0][0])

    async def set_auto(self, account: Account, body: AutoMarkRead) -> dict[str, Any]:
        """POST /accounts/settings/auto-mark-read."""
        value = body.auto_mark_read
        await self._writer.submit(lambda tx: tx.execute(
            update(accounts).where(accounts.c.id == account.id).values(auto_mark_read=value)))
        return {"status": "OK", "auto_mark_read": value}

    async def drain(self) -> None:
        if self._sending:
            await asyncio.wait(self._sending)
