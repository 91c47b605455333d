"""Applying what the networks report: status updates, inbound messages, typing."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select

from ..connectors.protocol import Inbound, StatusUpdate, Typing
from ..domain.messages import MessageRecord, advance
from ..domain.payloads import event_message_data, iso
from ..domain.statuses import Status
from ..store import messages as store
from ..store.schema import messages
from ..store.writer import Tx
from .outbox import Outbox

log = logging.getLogger(__name__)


class NetworkReports:
    """Turns connector reports into facts: each with its events and webhook deliveries."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    def apply_status_updates(self, tx: Tx, updates: Sequence[StatusUpdate]) -> int:
        """Apply connector reports in order; a report that moves nothing forward is dropped.

        Returns how many transitions took place (each a `message.updated` event, a status
        callback and `outbound` webhooks).
        """
        handles = list({update.handle for update in updates})
        by_handle = {m.handle: m for m in store.messages_by_handles(tx, handles)}
        changed: dict[str, MessageRecord] = {}
        transitions = 0
        for update in updates:
            message = by_handle.get(update.handle)
            if message is None:
                log.warning("status %s for unknown message %s", update.status, update.handle)
                continue
            if not advance(message, update.status, update.at_ms, service=update.service,
                           was_downgraded=update.was_downgraded, error_code=update.error_code,
                           error_message=update.error_message):
                continue
            changed[message.handle] = message
            transitions += 1
            self._emit_message(tx, message, "message.updated")
        store.save_statuses(tx, list(changed.values()))
        return transitions

    def _emit_message(self, tx: Tx, message: MessageRecord, type_: str) -> None:
        if message.account_id is None:
            return
        account = self._outbox.account(tx, message.account_id)
        self._outbox.emit(tx, message.account_id, type_, message.updated_at,
                          event_message_data(message, account.email, account.plan),
                          message_handle=message.handle, line=message.line,
                          status_callback=message.status_callback)

    def record_inbound(self, tx: Tx, inbound: Inbound, handle: str) -> MessageRecord:
        """Store an inbound message, routed to the account that last wrote to its sender on
        that line; with no such account it is kept unrouted (account NULL), never dropped."""
        account_id = tx.execute(
            select(messages.c.account_id)
            .where(messages.c.line == inbound.line, messages.c.number == inbound.number,
                   messages.c.is_outbound.is_(True))
            .order_by(messages.c.id.desc())
            .limit(1)
        ).scalar()
        message = MessageRecord(
            id=None, handle=handle, account_id=account_id, is_outbound=False,
            line=inbound.line, number=inbound.number, content=inbound.content,
            media_url=inbound.media_urls[0] if inbound.media_urls else None, send_style=None,
            status_callback=None, message_type="message", status=Status.RECEIVED,
            service=inbound.service, was_downgraded=None, error_code=None, error_message=None,
            created_at=inbound.at_ms, updated_at=inbound.at_ms,
        )
        store.add_message(tx, message)
        self._emit_message(tx, message, "message.received")
        return message

    def record_typing(self, tx: Tx, typing: Typing) -> None:
        account_id = tx.execute(
            select(messages.c.account_id)
            .where(messages.c.line == typing.line, messages.c.number == typing.number,
                   messages.c.account_id.is_not(None))
            .order_by(messages.c.id.desc())
            .limit(1)
        ).scalar()
        if account_id is not None:
            self._outbox.emit(tx, account_id, "typing.changed", typing.at_ms, {
                "number": typing.number, "sendblue_number": typing.line,
                "is_typing": typing.is_typing, "updated_at": iso(typing.at_ms),
            }, line=typing.line)
