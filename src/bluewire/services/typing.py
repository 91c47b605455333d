"""Typing indicators we send (POST /api/send-typing-indicator): best effort, 1:1 only."""

from __future__ import annotations

from typing import Any

from ..domain.errors import ApiError, exact_error
from ..domain.phones import parse_number_or_none
from ..domain.wire.conversations import TypingIndicator
from ..store import contacts as contact_store
from ..store.accounts import Account
from ..store.database import Database
from .lines import ConnectorRegistry, LineDirectory
from .read_receipts import MISSING_NUMBER


class TypingIndicators:
    def __init__(self, database: Database, lines: LineDirectory,
                 registry: ConnectorRegistry) -> None:
        self._database = database
        self._lines = lines
        self._registry = registry

    async def send(self, account: Account, body: TypingIndicator) -> dict[str, Any]:
        number = parse_number_or_none(body.number)
        if number is None:
            raise exact_error(400, MISSING_NUMBER)
        state = body.state
        contact = await self._database.read_async(
            lambda conn: contact_store.contact_of(conn, account.id, number))
        if contact is None:
            raise exact_error(400, {
                "status": "ERROR", "status_code": 400,
                "error_message": "No route mapping found for number, have you messaged them "
                                 "before?", "number": number})
        line_number = self._line(account, body.from_number, contact.sendblue_number,
                                 number)
        connector = self._registry.for_line(line_number)
        capabilities = self._registry.capabilities_for(line_number)
        if connector is None or capabilities is None or not capabilities.typing:
            raise _error(number, f"Line {line_number} cannot send typing indicators (typing): "
                                 "its connector does not support them"
                                 f"{self._registry.capability_note(line_number)}")
        await connector.set_typing(line_number, number, state == "start")
        return {"status": "SENT", "number": number}

    def _line(self, account: Account, from_number: object, assigned: str | None,
              number: str) -> str:
        if from_number is not None and from_number != "":
            line = parse_number_or_none(from_number)
            if line is None or self._lines.usable_by(account.id, line) is None:
                raise _error(number, "`from_number` must be a line of this account")
            return line
        if assigned and self._lines.usable_by(account.id, assigned):
            return assigned
        numbers = self._lines.numbers_of(account.id)
        if len(numbers) != 1:
            raise _error(number, "`from_number` is required: the line to type from")
        return numbers[0]


def _error(number: str, message: str) -> ApiError:
    return exact_error(400, {"status": "ERROR", "status_code": 400, "error_message": message,
                             "number": number})

