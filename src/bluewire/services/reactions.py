"""Tapbacks we send (POST /api/send-reaction, as Sendblue's reactions docs define it).

A reaction is accepted durably: it is committed as a row `queued` (with its
`reaction.created` event, and its Idempotency-Key if given) before the answer, and the
reaction dispatcher (dispatch/reactions.py) hands it to the line's connector, claiming it with
a lease as the message dispatcher claims messages: a reaction accepted by a process that dies
before handing it over is handed over by the next sweep of any process. A tapback handed over
twice (the process died between the connector taking it and the row saying so) only puts the
same tapback on again, so the dispatcher may retry where the message dispatcher may not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.errors import ApiError, ErrorCode, not_found, validation_error
from ..domain.handles import new_handle
from ..domain.idempotency import IdempotencyKey, KeptBefore, StoredAnswer
from ..domain.phones import require_number
from ..domain.reactions import ReactionRecord, check_part, parse_reaction, reaction_data
from ..domain.wire.reactions import SendReaction
from ..store import messages as message_store
from ..store import reactions as store
from ..store.accounts import Account, Line
from ..store.database import Database, now_ms
from ..store.writer import Tx, Writer
from .idempotency import take
from .lines import ConnectorRegistry, LineDirectory
from .outbox import Outbox

NO_FROM_NUMBER = "You must specify a valid `from_number` in the request body."
NO_MESSAGE_HANDLE = "You must specify `message_handle` in the request body."


class ReactionService:
    def __init__(self, database: Database, writer: Writer, lines: LineDirectory,
                 registry: ConnectorRegistry, outbox: Outbox) -> None:
        self._database = database
        self._writer = writer
        self._lines = lines
        self._registry = registry
        self._outbox = outbox
        self.on_queued: Callable[[], None] = lambda: None  # wakes the reaction dispatcher

    async def send(self, account: Account, body: SendReaction,
                   key: IdempotencyKey | None = None) -> dict[str, Any]:
        """Validate and commit one reaction, queued for the line's connector."""
        if body.from_number is None or not body.from_number.strip():
            raise validation_error(NO_FROM_NUMBER, error_key="MISSING_FROM_NUMBER")
        handle = (body.message_handle or "").strip()
        if not handle:
            raise validation_error(NO_MESSAGE_HANDLE, error_key="MISSING_MESSAGE_HANDLE")
        name, removed = parse_reaction(body.reaction)
        part = check_part(body.part_index)
        line = self._line(account, body.from_number)
        capabilities = self._registry.capabilities_for(line.number)
        if capabilities is None or not capabilities.reactions:
            raise ApiError(400, f"Line {line.number} cannot send reactions (reactions): its "
                           f"connector ({line.connector}) does not support tapbacks"
                           f"{self._registry.capability_note(line.number)}",
                           error_code=ErrorCode.VALIDATION, error_key="CAPABILITY_MISSING")
        target = await self._database.read_async(
            lambda conn: message_store.message_by_handle(conn, handle))
        if target is None or target.account_id != account.id or target.line != line.number:
            raise not_found(f"No message with handle {handle} in this account's conversations "
                            f"on {line.number}: a reaction goes on a message of a "
                            "conversation of `from_number`")
        record = ReactionRecord(
            handle=new_handle(), account_id=account.id, line=line.number,
            number=target.number, group_id=target.group_id, message_handle=target.handle,
            part_index=part, reaction=name, removed=removed, is_outbound=True,
            created_at=now_ms())
        answer = {"status": "OK", "message": "Reaction request sent",
                  "message_handle": target.handle, "reaction": body.reaction}
        kept = await self._writer.submit(lambda tx: self._accept(tx, account, record, key,
                                                                 answer))
        if kept is not None:
            raise KeptBefore(kept)
        return answer

    def _accept(self, tx: Tx, account: Account, record: ReactionRecord,
                key: IdempotencyKey | None, answer: dict[str, Any]) -> StoredAnswer | None:
        if key is not None:
            kept = take(tx, account.id, key, record.handle, answer, record.created_at)
            if kept is not None:
                return kept
        store.add(tx, record, store.QUEUED, due_at=0)
        self._outbox.emit(tx, account.id, "reaction.created", record.created_at,
                          reaction_data(record, account.email),
                          message_handle=record.handle, line=record.line)
        tx.after_commit(self.on_queued)
        return None

    def _line(self, account: Account, from_number: str) -> Line:
        number = require_number(from_number, "from_number", recipient=False)
        line = self._lines.usable_by(account.id, number)
        if line is None:
            raise validation_error(f"`from_number` {number} is not a line of this account",
                                   error_key="LINE_NOT_FOUND")
        return line
