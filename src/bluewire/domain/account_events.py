"""Account events on the wire: the 12 types, the `types` allowlist, and the SSE frame of one event.

A frame is `event: <type>\\ndata: <AccountEvent JSON>\\n\\n`, never with `id:` or `retry:` lines:
the Python SDK's decoder would turn the next heartbeat comment into an empty frame and fail on
it.
"""

from __future__ import annotations

import msgspec

from .errors import validation_error
from .payloads import iso

EVENT_TYPES: tuple[str, ...] = (
    "message.received",
    "message.created",
    "message.updated",
    "typing.changed",
    "line.assigned",
    "line.unassigned",
    "line.status.changed",
    "line.blocked",
    "contact.created",
    "verification.approved",
    "verification.expired",
    "verification.canceled",
)
ALL_TYPES = frozenset(EVENT_TYPES)
# bluewire's own types, sent only to a stream that names them in `types` (the SDK's
# AccountEvent knows the 12 above alone): follow-ups' changes of state, a group's new name or
# photo, a member leaving a group or adding or removing another.
OPT_IN_TYPES: tuple[str, ...] = (
    "follow_up.scheduled",
    "follow_up.fired",
    "follow_up.skipped",
    "follow_up.cancelled",
    "follow_up.due",
    "group.renamed",
    "group.photo_changed",
    "group.member_left",
    "group.member_added",
    "group.member_removed",
    "reaction.created",  # a tapback this account sent (domain/reactions.py)
    "reaction.received",  # a phone's tapback on one of its messages
)

READY = b": ready\n\n"
HEARTBEAT = b": heartbeat\n\n"

_decode = msgspec.json.decode
_encode = msgspec.json.encode


def parse_types(raw: str | None) -> frozenset[str]:
    """The `types` query parameter as the set of event types to send: all 12 when absent or empty.

    Only the 12 types ever reach a client, whatever else the event log holds: the SDK's
    `AccountEvent.type` is a literal of exactly these. bluewire's own types (OPT_IN_TYPES)
    reach a stream that names them.
    """
    wanted = {part.strip() for part in (raw or "").split(",") if part.strip()}
    if not wanted:
        return ALL_TYPES
    unknown = sorted(wanted - ALL_TYPES - set(OPT_IN_TYPES))
    if unknown:
        raise validation_error(f"`types` has unknown event type(s) {', '.join(unknown)}; "
                               f"known types: {', '.join(EVENT_TYPES + OPT_IN_TYPES)}")
    return frozenset(wanted)


def sse_frame(event_id: str, type_: str, occurred_at_ms: int, data_json: str) -> bytes | None:
    """The frame of one stored event, or None when its data is not a JSON object.

    The data is decoded and re-encoded compactly: a line break inside it would end the `data:`
    line early, and a client must never get a frame that is not an AccountEvent.
    """
    try:
        data = _decode(data_json)
    except msgspec.DecodeError:
        return None
    if not isinstance(data, dict):
        return None
    body = _encode({"version": 1, "id": event_id, "type": type_,
                    "occurred_at": iso(occurred_at_ms), "data": data})
    return b"event: " + type_.encode() + b"\ndata: " + body + b"\n\n"
