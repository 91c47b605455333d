"""Sending a message, reading it back, and looking a number up."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from .common import (
    Campaign,
    Content,
    Line,
    MediaUrl,
    Moment,
    Phone,
    ReplyTo,
    SendStyle,
    ServiceName,
    StatusCallback,
    StatusName,
    Tags,
    Timestamp,
)
from .follow_ups import InlineFollowUps


class SendMessage(msgspec.Struct, kw_only=True):
    """POST /api/send-message. `content` or `media_url` (or both)."""

    number: Annotated[str, Meta(description="The recipient, in E.164 form")]
    from_number: Line | None = None
    content: Content | None = None
    media_url: MediaUrl | None = None
    send_style: SendStyle | None = None
    status_callback: StatusCallback | None = None
    campaign: Campaign | None = None
    tags: Tags | None = None
    follow_ups: InlineFollowUps | None = None
    reply_to: Annotated[ReplyTo | None, Meta(
        description="Answer a message of this conversation inline")] = None


class StatusQuery(msgspec.Struct, kw_only=True):
    handle: Annotated[str, Meta(description="The message handle send-message answered")]


class MessageId(msgspec.Struct, kw_only=True):
    message_id: Annotated[str, Meta(description="The message handle")]


_ORDER_BY = ["createdAt", "updatedAt", "sentAt", "created_at", "updated_at", "sent_at"]


class ListMessagesQuery(msgspec.Struct, kw_only=True):
    """GET /api/v2/messages: filters (all optional), order and page."""

    number: Annotated[Phone | None, Meta(description="The end user's number")] = None
    from_number: Annotated[Phone | None, Meta(description="The sender")] = None
    to_number: Annotated[Phone | None, Meta(description="The recipient")] = None
    sendblue_number: Annotated[Line | None, Meta(description="The line")] = None
    is_outbound: Literal["true", "false"] | None = None
    status: Literal[StatusName, "SUCCESS"] | None = None
    service: Literal[ServiceName] | None = None
    message_type: Literal["message", "group"] | None = None
    campaign: Annotated[str | None, Meta(description="Only messages of this campaign")] = None
    tag: Annotated[str | None, Meta(description="Only messages with this tag")] = None
    created_at_gte: Moment | None = None
    created_at_lte: Moment | None = None
    updated_at_gte: Moment | None = None
    updated_at_lte: Moment | None = None
    sent_at_gte: Moment | None = None
    sent_at_lte: Moment | None = None
    order_by: Annotated[str | None, Meta(extra_json_schema={"enum": _ORDER_BY})] = None
    order_direction: Literal["asc", "desc"] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000, description="Page size")] = 100
    offset: Annotated[int, Meta(ge=0, le=10_000, description="Rows to skip")] = 0


class EvaluateServiceQuery(msgspec.Struct, kw_only=True):
    number: Annotated[str, Meta(description="An E.164 number or an email address")]


_MessageType = Literal["message", "group", "location"]
_SendStyleOut = Annotated[str, Meta(extra_json_schema={"enum": [
    "balloons", "celebration", "confetti", "echo", "fireworks", "gentle", "invisible",
    "lasers", "loud", "love", "shooting_star", "slam", "spotlight"]})]


class MessageResponse(msgspec.Struct, kw_only=True):
    """A message as send-message and GET /api/status answer it."""

    account_email: str
    accountEmail: str
    content: str | None
    date_created: Timestamp
    date_sent: Timestamp
    date_updated: Timestamp
    error_code: int | None
    error_key: str | None
    error_message: str | None
    from_number: str
    is_outbound: bool
    media_url: str | None
    message_handle: str
    message_type: _MessageType
    number: str
    to_number: str
    sendblue_number: str
    send_style: _SendStyleOut | None
    status: Annotated[Literal["QUEUED", "SENT", "DELIVERED", "READ", "ERROR", "RECEIVED"], Meta(
        description="RECEIVED: an inbound message")]
    service: ServiceName | None
    was_downgraded: bool | None
    plan: str
    group_id: str | None
    participants: list[str]
    opted_out: bool
    campaign: str | None
    tags: list[str]
    reply_to: ReplyTo | None = None


class MessageRow(msgspec.Struct, kw_only=True):
    """A message as GET /api/v2/messages lists it."""

    accountEmail: str
    content: str | None
    date_sent: Timestamp
    date_updated: Timestamp
    date_read: Timestamp | None
    date_delivered: Timestamp | None
    error_code: int | None
    error_detail: str | None
    error_key: str | None
    error_message: str | None
    error_reason: str | None
    from_number: str
    group_display_name: str | None
    group_id: str | None
    is_outbound: bool
    media_url: str | None
    message_handle: str
    message_type: _MessageType
    number: str
    opted_out: bool
    participants: list[str]
    plan: str
    send_style: _SendStyleOut | None
    sendblue_number: str
    service: ServiceName | None
    status: StatusName
    to_number: str
    was_downgraded: bool | None
    campaign: str | None
    tags: list[str]
    reply_to: ReplyTo | None = None


class Pagination(msgspec.Struct, kw_only=True):
    total: int
    limit: int
    offset: int
    hasMore: bool


class MessageList(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    data: list[MessageRow]
    pagination: Pagination


class OneMessage(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    data: MessageRow


class ServiceAnswer(msgspec.Struct, kw_only=True):
    number: str
    service: Literal["iMessage", "SMS"]
    rcs: bool | None = None
