"""Follow-ups: the conditions, `after` as given (seconds or an ISO 8601 duration), when one is
due, how its condition is judged from the parent's state, and its public shape."""

from __future__ import annotations

import re
import secrets
from typing import Any

from .errors import validation_error
from .messages import MessageRecord
from .payloads import iso
from .statuses import Status

CONDITIONS = ("read", "not_read", "replied", "not_replied", "delivered", "not_delivered")
MAX_AFTER_MS = 30 * 24 * 3600 * 1000
MAX_NOTIFY_BYTES = 4096

# Why a follow-up ended without firing.
CONDITION_FALSE, OPTED_OUT, PARENT_FAILED = "condition_false", "opted_out", "parent_failed"
LINE_UNAVAILABLE, CANCELLED_BY_CLIENT = "line_unavailable", "cancelled"

# PnW, PnD and a time part of hours, minutes and seconds (years and months have no fixed
# length, so they are refused).
DURATION = re.compile(
    r"^P(?!$)(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


def new_follow_up_id() -> str:
    return "fu_" + secrets.token_hex(12)


def after_ms(value: object) -> int:
    """`after` in milliseconds: a number of seconds, or an ISO 8601 duration (PT2H, P1D,
    PT90M); more than zero and at most 30 days, else a 400 naming `after`."""
    if isinstance(value, bool):
        raise validation_error("`after` must be a number of seconds or an ISO 8601 duration")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        found = DURATION.match(value.strip().upper())
        if found is None:
            raise validation_error(
                "`after` must be a number of seconds or an ISO 8601 duration such as PT2H, "
                "PT90M or P1D (weeks, days, hours, minutes and seconds; not years or months)")
        parts = {k: float(v) for k, v in found.groupdict().items() if v is not None}
        seconds = (parts.get("w", 0) * 604800 + parts.get("d", 0) * 86400
                   + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0))
    else:
        raise validation_error("`after` must be a number of seconds or an ISO 8601 duration")
    # Bounded in seconds before any conversion: a huge or infinite value is a 400, not an
    # overflow.
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN, infinities
        raise validation_error("`after` must be a finite number of seconds")
    if seconds * 1000 > MAX_AFTER_MS:
        raise validation_error("`after` must be at most 30 days (2592000 seconds)")
    ms = round(seconds * 1000) if seconds > 0 else 0
    if ms <= 0:
        raise validation_error("`after` must be more than zero")
    return ms


def anchor_of(parent: MessageRecord) -> int:
    """What `after` counts from: when the parent was sent; until it is, when it was created."""
    return parent.sent_at if parent.sent_at is not None else parent.created_at


def was_read(parent: MessageRecord) -> bool:
    return parent.status is Status.READ or parent.read_at is not None


def was_delivered(parent: MessageRecord) -> bool:
    return (parent.status in (Status.DELIVERED, Status.READ)
            or parent.delivered_at is not None or parent.read_at is not None)


def judge(condition: str, parent: MessageRecord, replied: bool) -> tuple[bool, str | None]:
    """Whether the condition holds now; if not, why it ended (the reason of a skip)."""
    failed = parent.status is Status.ERROR
    if condition == "read":
        return (True, None) if was_read(parent) else \
            (False, PARENT_FAILED if failed else CONDITION_FALSE)
    if condition == "delivered":
        return (True, None) if was_delivered(parent) else \
            (False, PARENT_FAILED if failed else CONDITION_FALSE)
    if condition == "not_read":
        return (False, CONDITION_FALSE) if was_read(parent) else (True, None)
    if condition == "not_delivered":
        return (False, CONDITION_FALSE) if was_delivered(parent) else (True, None)
    if condition == "replied":
        return (True, None) if replied else (False, CONDITION_FALSE)
    if condition == "not_replied":
        return (False, CONDITION_FALSE) if replied else (True, None)
    raise ValueError(f"unknown condition {condition!r}")


def needs_reply_check(condition: str) -> bool:
    return condition in ("replied", "not_replied")


def follow_up_data(row: Any) -> dict[str, Any]:
    """A follow-up as answers, events and webhooks show it (`row`: store.follow_ups.FollowUp)."""
    return {
        "id": row.public_id,
        "message_handle": row.message_handle,
        "condition": row.condition,
        "after": row.after_ms / 1000,
        "due_at": iso(row.due_at),
        "action": row.action_value,
        "state": row.state,
        "reason": row.reason,
        "result_message_handle": row.result_handle,
        "number": row.number,
        "sendblue_number": row.line,
        "group_id": row.group_id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }
