"""The sandbox's simulated phones: act as one (send, read, type, deliver) and see what it sees."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ..limits import MAX_URL_CHARS
from .common import Content, ReplyTo, ServiceName, Timestamp, e164
from .reactions import PhoneReactionSeen

MAX_PHONE_MEDIA_URLS = 10

# The behaviours a sandbox phone's number gives it (+1 NPA 555-01XX: the last two digits).
BehaviourName = Literal[
    "iMessage, read receipts on", "iMessage, read receipts off", "SMS only", "RCS",
    "send fails", "status never resolves", "replies with an echo", "replies STOP", "manual",
    "reads after a long delay"]

_PhoneLine = Annotated[str, e164("The line the phone talks to, one of the account's sandbox "
                                 "lines; by default the one the phone last talked with, or "
                                 "the account's first")]
_PhoneMediaUrl = Annotated[str, Meta(
    description="An http(s) URL of a picture or file the phone sends",
    extra_json_schema={"format": "uri", "maxLength": MAX_URL_CHARS})]


class SandboxPhone(msgspec.Struct, kw_only=True):
    number: Annotated[str, e164("A sandbox phone's number, in E.164 form (the `+` as is or "
                                "as %2B); not one of the lines")]


MAX_VIEW_LIMIT = 500


class PhoneViewQuery(SandboxPhone, kw_only=True):
    limit: Annotated[int, Meta(ge=1, le=MAX_VIEW_LIMIT, description=(
        "How many of the newest messages (received and sent together) to show"))] = 100
    before: Annotated[datetime | None, Meta(description=(
        "Only messages older than this (the previous page's `next_before`)"))] = None


class PhoneSends(msgspec.Struct, kw_only=True):
    """POST /sandbox/phones/{number}/messages: `content` or media (or both)."""

    line: _PhoneLine | None = None
    content: Content | None = None
    media_url: Annotated[_PhoneMediaUrl | None, Meta(
        description="One picture or file (or give `media_urls`)")] = None
    media_urls: Annotated[list[_PhoneMediaUrl] | None, Meta(
        description="Several pictures or files (or give `media_url`)",
        extra_json_schema={"maxItems": MAX_PHONE_MEDIA_URLS})] = None
    group_id: Annotated[str | None, Meta(
        description="Send to this group the phone and the line are in")] = None
    reply_to: Annotated[ReplyTo | None, Meta(
        description="Answer a message of this conversation inline")] = None


class PhoneAction(msgspec.Struct, kw_only=True):
    """POST /sandbox/phones/{number}/read and …/deliver."""

    line: _PhoneLine | None = None


class PhoneTypes(msgspec.Struct, kw_only=True):
    """POST /sandbox/phones/{number}/typing."""

    line: _PhoneLine | None = None
    typing: Annotated[bool, Meta(description="false: the phone stops typing")] = True


class PhoneSentMessage(msgspec.Struct, kw_only=True):
    """A message the phone sent to a line."""

    line: str
    content: str | None
    media_urls: list[str]
    service: ServiceName
    sent_at: Timestamp
    read_at: Annotated[Timestamp | None, Meta(
        description="When a read receipt from the line first covered it")]
    group_id: str | None
    reply_to: Annotated[str | None, Meta(
        description="The handle of the line's message it answers inline")] = None


class PhoneSent(PhoneSentMessage, kw_only=True):
    status: Literal["OK"]
    number: str
    message_handles: Annotated[list[str], Meta(
        description="The inbound messages of this account it was recorded as")]


class PhoneRead(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    number: str
    line: str
    read: Annotated[int, Meta(description="How many of this account's messages it read now")]
    receipts_reported: Annotated[bool, Meta(description="Whether the line was told")]
    message_handles: list[str]
    read_receipts: Annotated[bool, Meta(description="Whether this phone sends read receipts")]


class PhoneTypingState(msgspec.Struct, kw_only=True):
    line: str
    is_typing: bool
    updated_at: Timestamp


class PhoneTyped(PhoneTypingState, kw_only=True):
    status: Literal["OK"]
    number: str
    reported: Annotated[bool, Meta(description="Whether the line sees it (not on SMS)")]


class PhoneDelivered(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    number: str
    line: str
    delivered: int
    message_handles: list[str]


class PhoneReceivedMessage(msgspec.Struct, kw_only=True):
    """A message of the account's line as the phone has it."""

    message_handle: str
    line: str
    content: str | None
    media_url: str | None
    status: Literal["SENT", "DELIVERED", "READ"]
    received_at: Timestamp
    read_at: Timestamp | None
    group_id: str | None
    reply_to: Annotated[str | None, Meta(
        description="The handle of the message it answers inline")] = None


class PhoneReceiptSeen(msgspec.Struct, kw_only=True):
    line: str
    received_at: Timestamp


class PhoneConversation(msgspec.Struct, kw_only=True):
    line: str
    received: list[PhoneReceivedMessage]
    sent: list[PhoneSentMessage]
    read_receipts: Annotated[list[PhoneReceiptSeen], Meta(
        description="Read receipts the line sent the phone")]
    typing: Annotated[PhoneTypingState | None, Meta(
        description="The line's last typing state, as the phone saw it")]
    phone_typing: Annotated[PhoneTypingState | None, Meta(
        description="The phone's own last typing state towards the line")]
    reactions: Annotated[list[PhoneReactionSeen], Meta(
        description="Tapbacks of the conversation, oldest first: the line's on messages the "
                    "phone sent, and the phone's own")] = []


class PhoneView(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    number: str
    behaviour: BehaviourName
    service: ServiceName
    read_receipts: bool
    manual: Annotated[bool, Meta(description="Delivers only when told to (…/deliver)")]
    conversations: list[PhoneConversation]
    next_before: Annotated[Timestamp | None, Meta(description=(
        "Older messages exist: pass this as `before` for the next page"))] = None
