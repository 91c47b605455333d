"""Follow-ups: `/api/v2/follow-ups`, a durable, conditional action on an outbound message."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .common import Content, MediaUrl, SendStyle, Timestamp

Condition = Literal["read", "not_read", "replied", "not_replied", "delivered", "not_delivered"]
State = Literal["scheduled", "fired", "skipped", "cancelled"]
Reason = Literal["condition_false", "opted_out", "parent_failed", "line_unavailable",
                 "cancelled"]
MAX_PAGE = 1000
MAX_OFFSET = 100_000

After = Annotated[float | str, Meta(
    description="How long after the parent was sent (while it is not yet sent: after it was "
                "created) to judge the condition: seconds (more than 0, at most 30 days), or an "
                "ISO 8601 duration such as `PT2H`, `PT90M`, `P1D`")]


MAX_INLINE = 10  # follow-ups on one message, given with it
MAX_CHAIN = 5  # follow-ups of follow-ups' messages, nested


class SendAction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new message in the parent's conversation: to the same number from the same line, or
    to the same group. `content` or `media_url` (or both). Its own `follow_ups` make a
    sequence: they are scheduled on the new message when it is sent."""

    content: Content | None = None
    media_url: MediaUrl | None = None
    send_style: SendStyle | None = None
    follow_ups: Annotated[list[InlineFollowUp] | None, Meta(
        description=f"Follow-ups of the new message (at most {MAX_INLINE}; sequences nest "
                    f"at most {MAX_CHAIN} deep)",
        extra_json_schema={"maxItems": MAX_INLINE})] = None


class Action(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Exactly one of `send` and `notify`."""

    send: SendAction | None = None
    notify: Annotated[dict[str, Any] | None, Meta(
        description="Any small JSON object (4 KB at most): the `follow_up.due` event and "
                    "`follow_up` webhook carry it; nothing is sent")] = None


class InlineFollowUp(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A follow-up given with the message it follows up (send-message's `follow_ups`)."""

    condition: Condition
    after: After
    action: Action


InlineFollowUps = Annotated[list[InlineFollowUp], Meta(
    description="Follow-ups of this message, scheduled in the transaction that accepts it: "
                "each a condition judged `after` it was sent, and an action (a message in "
                f"the same conversation, or a notify event); at most {MAX_INLINE}",
    extra_json_schema={"maxItems": MAX_INLINE})]


class NewFollowUp(msgspec.Struct, kw_only=True):
    """POST /api/v2/follow-ups."""

    message_handle: Annotated[str, Meta(description="The outbound message to follow up")]
    condition: Annotated[Condition, Meta(
        description="Judged from the message's state when the follow-up is due: `read` "
                    "(READ), `delivered` (DELIVERED or READ), `replied` (the contact, or "
                    "anyone in the group, wrote after it), and their negations")]
    after: After
    action: Action


class FollowUpQuery(msgspec.Struct, kw_only=True):
    """GET /api/v2/follow-ups."""

    message: Annotated[str | None, Meta(description="Only the follow-ups of this message "
                                                    "(its handle)")] = None
    state: State | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_PAGE)] = 100
    offset: Annotated[int, Meta(ge=0, le=MAX_OFFSET)] = 0


class FollowUpId(msgspec.Struct, kw_only=True):
    id: Annotated[str, Meta(description="The follow-up's id (fu_…)")]


class FollowUp(msgspec.Struct, kw_only=True):
    id: str
    message_handle: str
    condition: Condition
    after: Annotated[float, Meta(description="Seconds")]
    due_at: Timestamp
    action: dict[str, Any]
    state: State
    reason: Reason | None = None
    result_message_handle: Annotated[str | None, Meta(
        description="The message a fired `send` action created")] = None
    number: str
    sendblue_number: str
    group_id: str | None = None
    created_at: Timestamp
    updated_at: Timestamp


class FollowUpAnswer(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    data: FollowUp


class Pagination(msgspec.Struct, kw_only=True):
    total: int
    limit: int
    offset: int
    hasMore: bool


class FollowUpList(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    data: list[FollowUp]
    pagination: Pagination
