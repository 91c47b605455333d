"""A message as the rest of the system sees it, whatever store it came from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from .statuses import Service, Status, can_transition, timestamp_field


@dataclass(slots=True)
class MessageRecord:
    id: int | None
    handle: str
    account_id: int | None
    is_outbound: bool
    line: str
    number: str
    content: str | None
    media_url: str | None
    send_style: str | None
    status_callback: str | None
    message_type: str
    status: Status
    service: Service | None
    was_downgraded: bool | None
    error_code: int | None
    error_message: str | None
    created_at: int
    updated_at: int
    sent_at: int | None = None
    delivered_at: int | None = None
    read_at: int | None = None
    claimed_until: int | None = None
    dispatch_attempts: int = 0
    group_id: str | None = None  # the group a group message went to or came from
    participants: tuple[str, ...] = ()  # the group's members when the message was sent
    campaign: str | None = None  # what the sender filed an outbound under
    tags: tuple[str, ...] = ()
    # An inline reply: the handle of the message of the same conversation it answers, and the
    # part of that message (its text or one of its attachments) when it has several.
    reply_to: str | None = None
    reply_to_part: int | None = None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> MessageRecord:
        """A record from a row whose columns are MESSAGE_COLUMNS, in that order."""
        (id_, handle, account_id, is_outbound, line, number, content, media_url, send_style,
         status_callback, message_type, status, service, was_downgraded, error_code,
         error_message, created_at, updated_at, sent_at, delivered_at, read_at, claimed_until,
         dispatch_attempts, group_id, participants, campaign, tags, reply_to,
         reply_to_part) = row
        return cls(
            id_, handle, account_id, bool(is_outbound), line, number, content, media_url,
            send_style, status_callback, message_type, _STATUSES[status],
            None if service is None else _SERVICES[service],
            None if was_downgraded is None else bool(was_downgraded), error_code,
            error_message, created_at, updated_at, sent_at, delivered_at, read_at,
            claimed_until, dispatch_attempts, group_id,
            tuple(json.loads(participants)) if participants else (), campaign,
            tuple(json.loads(tags)) if tags else (), reply_to, reply_to_part,
        )


def in_conversation(message: MessageRecord, account_id: int | None, line: str,
                    number: str | None, group_id: str | None) -> bool:
    """Whether `message` is one of account `account_id`'s conversation on `line`: with group
    `group_id`, or 1:1 with `number` (what an inline reply may answer)."""
    return (message.account_id == account_id and message.line == line
            and message.group_id == group_id
            and (group_id is not None or message.number == number))


MESSAGE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(MessageRecord))
_STATUSES: dict[str, Status] = {status.value: status for status in Status}
_SERVICES: dict[str, Service] = {service.value: service for service in Service}


def advance(message: MessageRecord, status: Status, at_ms: int, *,
            service: Service | None = None, was_downgraded: bool | None = None,
            error_code: int | None = None, error_message: str | None = None) -> bool:
    """Move `message` to `status` if the status machine allows it; False (and no change) if not.

    The service a report names is what the message travels on from then on, so an SMS report
    of SENT makes SENT final.
    """
    effective_service = service or message.service
    if not can_transition(message.status, status, effective_service):
        return False
    message.status = status
    message.service = effective_service
    if was_downgraded is not None:
        message.was_downgraded = was_downgraded
    if status in (Status.ERROR, Status.DECLINED):
        message.error_code = error_code
        message.error_message = error_message
    message.updated_at = max(message.updated_at, at_ms)
    field = timestamp_field(status)
    if field is not None:
        setattr(message, field, message.updated_at)
    return True
