"""The live event stream (GET /api/v2/events): its `types` allowlist and the event it sends."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from ..account_events import EVENT_TYPES, OPT_IN_TYPES
from .common import Timestamp

EventType = Literal["message.received", "message.created", "message.updated", "typing.changed",
                    "line.assigned", "line.unassigned", "line.status.changed", "line.blocked",
                    "contact.created", "verification.approved", "verification.expired",
                    "verification.canceled"]
assert EventType.__args__ == EVENT_TYPES  # type: ignore[attr-defined]


class EventsQuery(msgspec.Struct, kw_only=True):
    types: Annotated[str | None, Meta(
        description="Comma-separated allowlist of event types (default: all of them): "
                    + ", ".join(EVENT_TYPES) + "; bluewire's own, sent only when named here: "
                    + ", ".join(OPT_IN_TYPES))] = None


class AccountEvent(msgspec.Struct, kw_only=True):
    """The JSON of each frame's `data:` line; the frame's `event:` line is its `type`."""

    version: Literal[1]
    id: Annotated[str, Meta(description="Stable; dedupe on it")]
    type: EventType
    occurred_at: Timestamp
    data: Annotated[dict[str, Any], Meta(
        description="The event's object: the message, typing state, line or contact")]
