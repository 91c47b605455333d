"""Builders for domain values used across the unit tests."""

from __future__ import annotations

from typing import Any

from bluewire.domain.messages import MessageRecord
from bluewire.domain.statuses import Status

LINE = "+14155550000"
PHONE = "+14155550100"
CREATED_MS = 1_705_329_000_000


def message_record(**overrides: Any) -> MessageRecord:
    """An outbound 1:1 message just accepted (QUEUED, service not yet known)."""
    values: dict[str, Any] = {
        "id": 1,
        "handle": "5a17319e-cbcf-443e-897e-d8b0c04b1b09",
        "account_id": 7,
        "is_outbound": True,
        "line": LINE,
        "number": PHONE,
        "content": "Hello, World!",
        "media_url": None,
        "send_style": None,
        "status_callback": None,
        "message_type": "message",
        "status": Status.QUEUED,
        "service": None,
        "was_downgraded": None,
        "error_code": None,
        "error_message": None,
        "created_at": CREATED_MS,
        "updated_at": CREATED_MS,
    }
    values.update(overrides)
    return MessageRecord(**values)
