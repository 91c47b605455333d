"""New-contact limits of a line: admitting a send to a contact the line does not know yet
(in the send's transaction), and what GET /api/v2/lines/usage and /api/v2/lines/contact-status
answer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ..domain.errors import ApiError, ErrorCode, not_found
from ..domain.new_contacts import (
    HOUR_MS,
    LineUsage,
    NewContactLimits,
    Window,
    daily_window,
    is_known,
)
from ..domain.new_contacts import line_usage as usage_of
from ..domain.payloads import iso
from ..domain.phones import require_number
from ..store import first_contacts as store
from ..store.accounts import Account, Line
from ..store.database import Database, now_ms
from ..store.writer import Tx
from .lines import LineDirectory


class NewContacts:
    def __init__(self, database: Database, lines: LineDirectory, limits: NewContactLimits, *,
                 on_sandbox: bool = False) -> None:
        self._database = database
        self._lines = lines
        self.limits = limits
        self._on_sandbox = on_sandbox

    def applies_to(self, line: Line) -> bool:
        return line.connector != "sandbox" or self._on_sandbox

    def admit(self, tx: Tx, account_id: int, line: Line, number: str, now: int) -> None:
        """Count a 1:1 send to `number` on `line` if it is a first contact, or refuse it (429,
        error_code 4001) when the line has made all the first contacts its limits allow."""
        if not self.applies_to(line):
            return
        if is_known(store.last_message_at(tx, account_id, line.number, number), now,
                    self.limits):
            return
        store.lock_line(tx, line.number)
        usage = self._usage(tx, line.number, now)
        full = [name for name, window in (("an hour", usage.hourly), ("a day", usage.daily))
                if window.remaining == 0]
        if full:
            retry_at = usage.available_at
            headers = {"retry-after": str(max(1, -(-(retry_at - now) // 1000)))} \
                if retry_at is not None else {}
            raise ApiError(
                429, f"Line {line.number} has messaged all the new contacts it may "
                     f"({self.limits.hourly} an hour, {self.limits.daily} a day; full: "
                     f"{' and '.join(full)}): {number} has had no message on it in the last "
                     f"{self.limits.lookback_days:g} days. Known contacts can still be "
                     f"messaged{'; retry after ' + iso(retry_at) if retry_at else ''}",
                error_code=ErrorCode.RATE_LIMIT, error_key="NEW_CONTACT_LIMIT",
                headers=headers)
        store.record(tx, account_id, line.number, number, now)

    def _usage(self, db: Connection | Tx, line: str, now: int) -> LineUsage:
        day_start, _ = daily_window(now)
        hour, day = store.counted(db, line, now - HOUR_MS, day_start)
        return usage_of(self.limits, now, hour, day)

    async def usage(self, account: Account) -> dict[str, Any]:
        """GET /api/v2/lines/usage: each of the account's lines."""
        now = now_ms()
        own = [line for number in self._lines.numbers_of(account.id)
               if (line := self._lines.line(number)) is not None]

        def read(conn: Connection) -> list[dict[str, Any]]:
            return [self._line_answer(conn, line, now) for line in own]

        return {"status": "OK", "enabled": True, "lines": await self._database.read_async(read)}

    def _line_answer(self, conn: Connection, line: Line, now: int) -> dict[str, Any]:
        answer: dict[str, Any] = {"phone": line.number, "sampledAt": iso(now)}
        if not self.applies_to(line):
            return {**answer, "state": "not_applicable", "hourly": {}, "daily": {},
                    "availableAt": None}
        usage = self._usage(conn, line.number, now)
        if self.limits.daily == 0:
            state = "paused"
        else:
            state = "limited" if usage.available_at is not None else "available"
        return {
            **answer, "state": state, "newContactLookbackDays": self.limits.lookback_days,
            "hourly": _window(usage.hourly),
            "daily": {**_window(usage.daily), "resetsAt": iso(usage.resets_at)},
            "availableAt": iso(usage.available_at),
        }

    async def contact_status(self, account: Account, number: object,
                             sendblue_number: object) -> dict[str, Any]:
        """GET /api/v2/lines/contact-status: whether `number` is known on the line."""
        contact = require_number(number, "number")
        line_number = require_number(sendblue_number, "sendblue_number", recipient=False)
        line = self._lines.usable_by(account.id, line_number)
        if line is None:
            raise not_found(f"{line_number} is not a line of this account")
        now = now_ms()
        answer: dict[str, Any] = {"status": "OK", "number": contact,
                                  "sendblue_number": line.number, "sampled_at": iso(now)}
        if not self.applies_to(line):
            return {**answer, "classification": "not_applicable", "known_contact": None,
                    "new_contact_lookback_days": None}
        last = await self._database.read_async(
            lambda conn: store.last_message_at(conn, account.id, line.number, contact))
        known = is_known(last, now, self.limits)
        return {**answer, "classification": "known" if known else "new",
                "known_contact": known,
                "new_contact_lookback_days": self.limits.lookback_days}


def _window(window: Window) -> dict[str, Any]:
    return {"used": window.used, "limit": window.limit, "remaining": window.remaining,
            "nextSlotAt": iso(window.next_slot_at)}
