"""Tapbacks: POST /api/send-reaction (Sendblue's reactions docs) and a sandbox phone's."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ..reactions import ALL_NAMES
from .common import Line, Timestamp

_Reaction = Annotated[str, Meta(
    description="love, like, dislike, laugh, emphasize or question; the same prefixed with "
                "`-` (e.g. `-love`) takes that tapback off",
    extra_json_schema={"enum": list(ALL_NAMES)})]
_Part = Annotated[int, Meta(ge=0, description="Which part of a multi-part message: 0 its text "
                                              "(or its only part), then each attachment")]
_Handle = Annotated[str, Meta(min_length=1, description="The handle of the message reacted to")]


class SendReaction(msgspec.Struct, kw_only=True):
    """POST /api/send-reaction: put a tapback on (or take it off) a message of a conversation
    of `from_number`."""

    from_number: Annotated[Line | None, Meta(description="The line that reacts")] = None
    message_handle: _Handle | None = None
    reaction: _Reaction | None = None
    part_index: _Part | None = None


class ReactionAnswer(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    message: str
    message_handle: str
    reaction: str


class PhoneReacts(msgspec.Struct, kw_only=True):
    """POST /sandbox/phones/{number}/reactions: the phone reacts to one of the account's
    messages it received."""

    message_handle: _Handle
    reaction: _Reaction
    part_index: _Part | None = None
    line: Annotated[Line | None, Meta(
        description="The line whose message it is (by default the message's own)")] = None


class PhoneReacted(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    number: str
    line: str
    message_handle: str
    reaction: str
    removed: bool
    part_index: int
    reaction_handle: Annotated[str | None, Meta(
        description="The reaction as the account recorded it")]


class PhoneReactionSeen(msgspec.Struct, kw_only=True):
    """A tapback of a sandbox phone's conversation with a line."""

    message_handle: str
    reaction: str
    removed: bool
    part_index: int
    from_phone: Annotated[bool, Meta(description="The phone's own (false: the line's)")]
    at: Timestamp
