"""Verify: proving a user can send from a phone number, as Sendblue's Verify does it.

It is an inverted one-time code: creating a verification answers a code and a line of the
account (`delivery_target`), the app shows them to its user, and the user texts the code from
the phone being verified to that line. The inbound is matched in the transaction that records
it (`VerifyInbound`, called by NetworkReports): the right code approves the verification, a
wrong one counts an attempt, and the last allowed wrong attempt cancels it.

Only an HMAC of the code is stored, under a salt of its own row, and codes are compared in
constant time; so the code is in the answer that creates the verification alone. A verification
is pending until approved, canceled (by the client, or by too many wrong codes) or expired.
Expiry is judged when a verification is read, listed or texted to, not by a timer: the first of
these past `expires_at` ends it and emits `verification.expired`, once (the UPDATE that ends it
moves only a row still pending). Each ending is an event (`verification.approved`, `.expired`,
`.canceled`) and a `verification` webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import quote

from ..domain.errors import ApiError, not_found, validation_error
from ..domain.payloads import iso
from ..domain.phones import require_number
from ..domain.query import parse_moment
from ..domain.wire.verify import (
    DEFAULT_ATTEMPTS,
    DEFAULT_CODE,
    DEFAULT_TTL_S,
    MAX_ATTEMPTS,
    MAX_CODE,
    MAX_TTL_S,
    MIN_CODE,
    MIN_TTL_S,
    NewVerification,
    NewVerifyService,
    VerificationQuery,
)
from ..store import verify as store
from ..store.accounts import Account
from ..store.database import Database, now_ms
from ..store.verify import APPROVED, CANCELED, EXPIRED, PENDING
from ..store.writer import Tx, Writer
from .contact_book import ContactBook
from .lines import LineDirectory
from .outbox import Outbox

BASE = "/api/v2/verify"
MAX_NAME = 64
_EVENT_OF = {APPROVED: "verification.approved", EXPIRED: "verification.expired",
             CANCELED: "verification.canceled"}
# What of an inbound is taken as a code: its text without spaces, dashes or dots, when what is
# left is digits alone, at most this many (anything else is a message, not counted as a wrong
# code).
_MAX_ATTEMPT_DIGITS = 32
_SEPARATORS = re.compile(r"[\s\-.]")


def account_sid(account_id: int) -> str:
    return f"AC{account_id:032x}"


def code_hash(code: str, salt: str) -> str:
    return hmac.new(bytes.fromhex(salt), code.encode(), hashlib.sha256).hexdigest()


def code_matches(candidate: str, stored_hash: str, salt: str) -> bool:
    return hmac.compare_digest(code_hash(candidate, salt), stored_hash)


def service_data(row: Any) -> dict[str, Any]:
    return {
        "sid": row.sid, "account_sid": account_sid(row.account_id),
        "friendly_name": row.friendly_name, "code_length": row.code_length,
        "ttl_seconds": row.ttl_seconds, "max_attempts": row.max_attempts,
        "from_number": row.line, "date_created": iso(row.created_at),
        "date_updated": iso(row.updated_at), "url": f"{BASE}/services/{row.sid}",
    }


def verification_data(row: Any, code: str | None = None) -> dict[str, Any]:
    """A verification as the SDK's VerificationCreateResponse / RetrieveResponse has it; the
    delivery target only with the code (the answer that creates it)."""
    data: dict[str, Any] = {
        "sid": row.sid, "service_sid": row.service_sid,
        "account_sid": account_sid(row.account_id), "channel": "imessage",
        "status": row.status, "to": row.number, "date_created": iso(row.created_at),
        "date_updated": iso(row.updated_at), "expires_at": iso(row.expires_at),
        "url": f"{BASE}/services/{row.service_sid}/verifications/{row.sid}",
        "delivery_target": None, "hosted": None,
    }
    if code is not None:
        data["delivery_target"] = {
            "code": code, "pool_number": row.line,
            "sms_deep_link": f"sms:{row.line}&body={quote(code)}"}
    return data


def state_data(row: Any) -> dict[str, Any]:
    """A verification as the list, events and webhooks show it (the SDK's VerificationState)."""
    return {
        "sid": row.sid, "service_sid": row.service_sid, "channel": "imessage",
        "status": row.status, "to": row.number, "date_created": iso(row.created_at),
        "date_updated": iso(row.updated_at), "date_completed": iso(row.completed_at),
    }


def _whole(value: int | None, field: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not low <= value <= high:
        raise validation_error(f"`{field}` must be a whole number from {low} to {high}")
    return value


class VerifyService:
    def __init__(self, database: Database, writer: Writer, lines: LineDirectory,
                 outbox: Outbox, contacts: ContactBook) -> None:
        self._database = database
        self._writer = writer
        self._lines = lines
        self._outbox = outbox
        self._contacts = contacts

    # --- services --------------------------------------------------------------------------

    async def create_service(self, account: Account, body: NewVerifyService) -> dict[str, Any]:
        name = (body.friendly_name or "").strip() or "Verify"
        if len(name) > MAX_NAME:
            raise validation_error(f"`friendly_name` must be at most {MAX_NAME} characters")
        code_length = _whole(body.code_length, "code_length", MIN_CODE, MAX_CODE, DEFAULT_CODE)
        ttl = _whole(body.ttl_seconds, "ttl_seconds", MIN_TTL_S, MAX_TTL_S, DEFAULT_TTL_S)
        attempts = _whole(body.max_attempts, "max_attempts", 1, MAX_ATTEMPTS, DEFAULT_ATTEMPTS)
        line = None
        if body.from_number not in (None, ""):
            line = self._own_line(account, body.from_number)
        sid = "VA" + secrets.token_hex(16)
        now = now_ms()

        def op(tx: Tx) -> Any:
            store.add_service(tx, {
                "sid": sid, "account_id": account.id, "friendly_name": name,
                "code_length": code_length, "ttl_seconds": ttl, "max_attempts": attempts,
                "line": line, "created_at": now, "updated_at": now})
            return store.service(tx, account.id, sid)

        return service_data(await self._writer.submit(op))

    async def list_services(self, account: Account) -> dict[str, Any]:
        rows = await self._database.read_async(lambda conn: store.services(conn, account.id))
        return {"status": "OK", "data": [service_data(row) for row in rows]}

    async def retrieve_service(self, account: Account, sid: str) -> dict[str, Any]:
        return service_data(await self._service(account, sid))

    async def _service(self, account: Account, sid: str) -> Any:
        row = await self._database.read_async(lambda conn: store.service(conn, account.id, sid))
        if row is None:
            raise not_found(f"No Verify service {sid}: create one with POST {BASE}/services")
        return row

    def _own_line(self, account: Account, number: object) -> str:
        line = require_number(number, "from_number", recipient=False)
        if self._lines.usable_by(account.id, line) is None:
            raise validation_error(f"`from_number` {line} is not a line of this account",
                                   error_key="LINE_NOT_FOUND")
        return line

    def _line_for(self, account: Account, service: Any) -> str:
        if service.line is not None and self._lines.usable_by(account.id, service.line):
            return str(service.line)
        numbers = self._lines.numbers_of(account.id)
        if not numbers:
            raise validation_error("This account has no line for the phone to text the code "
                                   "to: ask the operator to assign one (bluewire lines assign)")
        return numbers[0]

    # --- verifications ---------------------------------------------------------------------

    async def create(self, account: Account, service_sid: str,
                     body: NewVerification) -> dict[str, Any]:
        service = await self._service(account, service_sid)
        if body.hosted is not None:
            raise validation_error("`hosted` widget sessions are not served by bluewire: leave "
                                   "`hosted` out and show `delivery_target` in your own page")
        number = require_number(body.to, "to")
        line = self._line_for(account, service)
        if number == line or self._lines.line(number) is not None:
            raise validation_error(f"`to` {number} is one of our lines, not a phone")
        code = "".join(secrets.choice("0123456789") for _ in range(service.code_length))
        salt = secrets.token_hex(16)
        sid = "VE" + secrets.token_hex(16)
        now = now_ms()

        def op(tx: Tx) -> Any:
            # The phone becomes a contact, so what it texts the line reaches this account.
            self._contacts.ensure(tx, account.id, number, line)
            store.add_verification(tx, {
                "sid": sid, "account_id": account.id, "service_id": service.id,
                "line": line, "number": number, "code_hash": code_hash(code, salt),
                "code_salt": salt, "status": PENDING, "attempts": 0,
                "max_attempts": service.max_attempts,
                "expires_at": now + service.ttl_seconds * 1000, "completed_at": None,
                "created_at": now, "updated_at": now})
            return store.verification(tx, account.id, sid)

        return verification_data(await self._writer.submit(op), code)

    async def retrieve(self, account: Account, service_sid: str, sid: str) -> dict[str, Any]:
        row = await self._verification(account, service_sid, sid)
        if row.status == PENDING and row.expires_at <= now_ms():
            row = await self._expire(account, [row.id]) or row
        return verification_data(row)

    async def cancel(self, account: Account, service_sid: str, sid: str) -> dict[str, Any]:
        row = await self._verification(account, service_sid, sid)
        now = now_ms()
        expired = row.status == PENDING and row.expires_at <= now

        def op(tx: Tx) -> tuple[bool, Any]:
            ended = self.end(tx, row.id, EXPIRED if expired else CANCELED, now)
            if ended is not None:
                return ended.status == CANCELED, ended
            return False, store.verification_by_id(tx, row.id)

        canceled, current = await self._writer.submit(op)
        if not canceled:
            raise ApiError(409, f"Verification {sid} is {current.status}: only a pending one "
                                "can be canceled", error_key="VERIFICATION_ENDED")
        return verification_data(current)

    async def list(self, account: Account, query: VerificationQuery) -> dict[str, Any]:
        since = parse_moment(query.updated_at_gte, "updated_at_gte")
        overdue = await self._database.read_async(
            lambda conn: store.overdue_of(conn, account.id, now_ms()))
        if overdue:
            await self._expire(account, overdue)
        rows, total = await self._database.read_async(lambda conn: store.verifications_listed(
            conn, account.id, since, query.limit, query.offset))
        return {"status": "OK", "data": [state_data(row) for row in rows],
                "pagination": {"count": total, "has_more": query.offset + len(rows) < total,
                               "limit": query.limit, "offset": query.offset}}

    async def _verification(self, account: Account, service_sid: str, sid: str) -> Any:
        row = await self._database.read_async(
            lambda conn: store.verification(conn, account.id, sid))
        if row is None or row.service_sid != service_sid:
            raise not_found(f"No verification {sid} in Verify service {service_sid}")
        return row

    async def _expire(self, account: Account, ids: list[int]) -> Any:
        """Expire these pending verifications; the last as it is now."""
        def op(tx: Tx) -> Any:
            now = now_ms()
            for verification_id in ids:
                self.end(tx, verification_id, EXPIRED, now)
            return store.verification_by_id(tx, ids[-1])

        return await self._writer.submit(op)

    # --- endings, inside a caller's transaction --------------------------------------------

    def end(self, tx: Tx, verification_id: int, status: str, now: int) -> Any:
        """End a pending verification with its event; None if it had ended already."""
        if not store.end(tx, verification_id, status, now):
            return None
        row = store.verification_by_id(tx, verification_id)
        self._outbox.emit(tx, row.account_id, _EVENT_OF[status], now, state_data(row),
                          line=row.line)
        return row

    def inbound(self, tx: Tx, account_id: int, line: str, number: str,
                content: str | None) -> None:
        """A 1:1 message from `number` to `line`, routed to the account: the code of its
        pending verifications, if it is one."""
        pending = store.pending_of(tx, account_id, line, number)
        if not pending:
            return
        now = now_ms()
        live = []
        for row in pending:
            if row.expires_at <= now:
                self.end(tx, row.id, EXPIRED, now)
            else:
                live.append(row)
        candidate = _SEPARATORS.sub("", content or "")
        if not live or not candidate.isdigit() or len(candidate) > _MAX_ATTEMPT_DIGITS:
            return
        for row in live:
            if code_matches(candidate, row.code_hash, row.code_salt):
                self.end(tx, row.id, APPROVED, now)
                return
        for row in live:  # a wrong code: an attempt on each, and the last one allowed cancels
            attempts = store.count_attempt(tx, row.id, now)
            if attempts is not None and attempts >= row.max_attempts:
                self.end(tx, row.id, CANCELED, now)
