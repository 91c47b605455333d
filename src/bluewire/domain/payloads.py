"""Wire shapes of a message (the message object, its webhook, its status answer), built from
a MessageRecord."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from .messages import MessageRecord
from .statuses import Service, Status

# The SDK's MessageResponse.status literal: an API answer never says more than these, except
# READ, which read receipts make a real status (Sendblue's read-receipt docs).
# An inbound message answers RECEIVED, as the list and retrieve do.
_RESPONSE_STATUSES = {Status.QUEUED, Status.SENT, Status.DELIVERED, Status.ERROR, Status.READ,
                      Status.RECEIVED}


def iso(ms: int | None) -> str | None:
    """Milliseconds since the epoch as ISO 8601 UTC with milliseconds: 2024-01-15T14:30:00.000Z."""
    if ms is None:
        return None
    seconds, millis = divmod(ms, 1000)
    return f"{_iso_second(seconds)}.{millis:03d}Z"


@lru_cache(maxsize=4096)
def _iso_second(seconds: int) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)  # isoformat, unlike strftime, pads the year
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _response_status(status: Status) -> str:
    if status in _RESPONSE_STATUSES:
        return status.value
    if status is Status.DECLINED:
        return Status.ERROR.value
    return Status.QUEUED.value  # REGISTERED, PENDING, ACCEPTED: not yet sent


def _to_number(message: MessageRecord) -> str:
    return message.number if message.is_outbound else message.line


def _from_number(message: MessageRecord) -> str:
    return message.line if message.is_outbound else message.number


def _reply_to(message: MessageRecord) -> dict[str, Any] | None:
    """`reply_to` of a message that answers another inline, else null."""
    if message.reply_to is None:
        return None
    answer: dict[str, Any] = {"message_handle": message.reply_to}
    if message.reply_to_part is not None:
        answer["part_index"] = message.reply_to_part
    return answer


def message_response(message: MessageRecord, account_email: str, plan: str,
                     opted_out: bool = False) -> dict[str, Any]:
    """`MessageResponse`: what send-message and GET /api/status answer. `opted_out`, here and
    in every shape below: whether the contact (`number`) is opted out of the account's
    messages, as of when the shape is made."""
    return {
        "account_email": account_email,
        "accountEmail": account_email,
        "content": message.content,
        "date_created": iso(message.created_at),
        "date_sent": iso(message.created_at),
        "date_updated": iso(message.updated_at),
        "error_code": message.error_code,
        "error_key": None,
        "error_message": message.error_message,
        "from_number": _from_number(message),
        "is_outbound": message.is_outbound,
        "media_url": message.media_url,
        "message_handle": message.handle,
        "message_type": message.message_type,
        "number": message.number,
        "to_number": _to_number(message),
        "sendblue_number": message.line,
        "send_style": message.send_style,
        "status": _response_status(message.status),
        "service": message.service.value if message.service else None,
        "was_downgraded": message.was_downgraded,
        "plan": plan,
        "group_id": message.group_id,
        "participants": list(message.participants),
        "opted_out": opted_out,
        "campaign": message.campaign,
        "tags": list(message.tags),
        "reply_to": _reply_to(message),
    }


def message_row(message: MessageRecord, account_email: str, plan: str,
                opted_out: bool = False, *, group_name: str | None = None) -> dict[str, Any]:
    """A row of GET /api/v2/messages and the `data` of GET /api/v2/messages/{id}.
    `group_name`, here and below: the current name of the message's group, if it has one."""
    return {
        "accountEmail": account_email,
        "content": message.content,
        "date_sent": iso(message.created_at),
        "date_updated": iso(message.updated_at),
        "error_code": message.error_code,
        "error_detail": None,
        "error_key": None,
        "error_message": message.error_message,
        "error_reason": None,
        "from_number": _from_number(message),
        "group_display_name": _group_name(message, group_name),
        "group_id": message.group_id,
        "is_outbound": message.is_outbound,
        "media_url": message.media_url,
        "message_handle": message.handle,
        "message_type": message.message_type,
        "number": message.number,
        "opted_out": opted_out,
        "participants": list(message.participants),
        "plan": plan,
        "send_style": message.send_style,
        "sendblue_number": message.line,
        "service": message.service.value if message.service else None,
        "status": message.status.value,
        "to_number": _to_number(message),
        "was_downgraded": message.was_downgraded,
        "date_read": iso(message.read_at),
        "date_delivered": iso(message.delivered_at),
        "campaign": message.campaign,
        "tags": list(message.tags),
        "reply_to": _reply_to(message),
    }


def status_callback_payload(message: MessageRecord, account_email: str, plan: str,
                            opted_out: bool = False, *,
                            group_name: str | None = None) -> dict[str, Any]:
    """What a status callback and an `outbound` webhook carry (Sendblue's status callback), with
    `message_id` (of a read receipt) and `updated_at` (what the event stream's readers use)."""
    downgraded = message.service is Service.SMS or bool(message.was_downgraded)
    return {
        "accountEmail": account_email,
        "content": message.content,
        "is_outbound": message.is_outbound,
        "status": message.status.value,
        "error_code": message.error_code,
        "error_message": message.error_message,
        "error_reason": None,
        "message_handle": message.handle,
        "message_id": message.handle,
        "date_sent": iso(message.created_at),
        "date_updated": iso(message.updated_at),
        "updated_at": iso(message.updated_at),
        "from_number": _from_number(message),
        "number": message.number,
        "to_number": _to_number(message),
        "was_downgraded": True if downgraded else None,
        "plan": plan,
        "media_url": message.media_url or "",
        "message_type": message.message_type,
        "group_id": message.group_id or "",
        "participants": list(message.participants),
        "send_style": message.send_style or "",
        "opted_out": opted_out,
        "error_detail": None,
        "sendblue_number": message.line,
        "service": message.service.value if message.service else None,
        "group_display_name": _group_name(message, group_name),
        "campaign": message.campaign,
        "tags": list(message.tags),
        "reply_to": _reply_to(message),
    }


def receive_payload(message: MessageRecord, account_email: str, plan: str,
                    opted_out: bool = False, *, group_name: str | None = None) -> dict[str, Any]:
    """What a `receive` webhook carries (Sendblue's receive webhook), with the fields a status
    callback shares."""
    return {
        "accountEmail": account_email,
        "content": message.content,
        "media_url": message.media_url or "",
        "is_outbound": False,
        "status": message.status.value,
        "error_code": None,
        "error_message": None,
        "message_handle": message.handle,
        "message_id": message.handle,
        "date_sent": iso(message.created_at),
        "date_updated": iso(message.updated_at),
        "updated_at": iso(message.updated_at),
        "from_number": message.number,
        "number": message.number,
        "to_number": message.line,
        "was_downgraded": message.service is Service.SMS,
        "plan": plan,
        "message_type": message.message_type,
        "group_id": message.group_id or "",
        "participants": list(message.participants),
        "group_display_name": _group_name(message, group_name),
        "service": message.service.value if message.service else None,
        "sendblue_number": message.line,
        "opted_out": opted_out,
        "reply_to": _reply_to(message),
    }


def event_message_data(message: MessageRecord, account_email: str, plan: str,
                       opted_out: bool = False, *,
                       group_name: str | None = None) -> dict[str, Any]:
    """`data` of a message.* event: the webhook payload of the same fact."""
    if message.is_outbound:
        return status_callback_payload(message, account_email, plan, opted_out,
                                       group_name=group_name)
    return receive_payload(message, account_email, plan, opted_out, group_name=group_name)


def _group_name(message: MessageRecord, group_name: str | None) -> str | None:
    """`group_display_name`: the group's name, for a message of a group that has one."""
    return (group_name or None) if message.group_id else None
