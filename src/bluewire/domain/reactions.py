"""Tapbacks (reactions): their names, a removal's `-` prefix, and the shape of one on the wire
(the `reaction.created` / `reaction.received` events, and the `receive` webhook of a phone's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ApiError, ErrorCode
from .payloads import iso

# As Sendblue's reactions docs list them; a removal is the name with a leading `-` (as
# iMessage and BlueBubbles name them).
REACTIONS: tuple[str, ...] = ("love", "like", "dislike", "laugh", "emphasize", "question")
REMOVAL = "-"
ALL_NAMES: tuple[str, ...] = (*REACTIONS, *(REMOVAL + name for name in REACTIONS))
INVALID_REACTION = f"Invalid reaction. Must be one of: {', '.join(REACTIONS)}"
INVALID_PART = "`part_index` must be a non-negative integer."


def parse_reaction(raw: object) -> tuple[str, bool]:
    """(name, removed) of a reaction as given (`love`, or `-love` to take it off); a 400
    listing the names otherwise."""
    if isinstance(raw, str):
        text = raw.strip().lower()
        removed = text.startswith(REMOVAL)
        name = text.removeprefix(REMOVAL)
        if name in REACTIONS:
            return name, removed
    raise ApiError(400, f"{INVALID_REACTION} (prefixed with `-` to remove one)",
                   error_code=ErrorCode.VALIDATION, error_key="INVALID_REACTION")


def check_part(raw: object) -> int:
    if raw is None:
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ApiError(400, INVALID_PART, error_code=ErrorCode.VALIDATION,
                       error_key="INVALID_PART_INDEX")
    return raw


def wire_name(name: str, removed: bool) -> str:
    return REMOVAL + name if removed else name


@dataclass(frozen=True, slots=True)
class ReactionRecord:
    handle: str
    account_id: int
    line: str
    number: str
    group_id: str | None
    message_handle: str
    part_index: int
    reaction: str
    removed: bool
    is_outbound: bool
    created_at: int


def reaction_data(record: ReactionRecord, account_email: str) -> dict[str, Any]:
    """A reaction as its event (and, a phone's, its `receive` webhook) carries it: laid out as a
    received message's payload is (who to whom, when), with `message_type` "reaction" and no
    `content`, and which message it is on (`reacted_to`, also as
    `associated_message_handle`, BlueBubbles' name)."""
    at = iso(record.created_at)
    ours = record.is_outbound
    return {
        "accountEmail": account_email,
        "message_type": "reaction",
        "message_handle": record.handle,
        "reaction": wire_name(record.reaction, record.removed),
        "reaction_type": record.reaction,
        "removed": record.removed,
        "reacted_to": record.message_handle,
        "associated_message_handle": record.message_handle,
        "part_index": record.part_index,
        "content": None,
        "is_outbound": ours,
        "status": "SENT" if ours else "RECEIVED",
        "from_number": record.line if ours else record.number,
        "to_number": record.number if ours else record.line,
        "number": record.number,
        "sendblue_number": record.line,
        "group_id": record.group_id or "",
        "service": "iMessage",
        "date_sent": at,
        "date_updated": at,
    }
