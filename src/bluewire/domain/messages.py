"""A message as the rest of the system sees it, whatever store it came from."""

from __future__ import annotations

from dataclasses import dataclass

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

    @classmethod
    def from_row(cls, row: object) -> MessageRecord:
        values = dict(row._mapping)  # type: ignore[attr-defined]
        values["status"] = Status(values["status"])
        if values["service"] is not None:
            values["service"] = Service(values["service"])
        return cls(**values)


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
