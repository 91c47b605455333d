"""Field types and answers that many endpoints share."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ..limits import (
    MAX_CAMPAIGN_CHARS,
    MAX_CONTENT_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_URL_CHARS,
    SEND_STYLES,
)
from ..statuses import Status

E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"


def e164(description: str) -> object:
    """A phone number field: documented in canonical E.164; spaces, dashes and brackets are
    tolerated and removed when it is read."""
    return Meta(description=description, extra_json_schema={"pattern": E164_PATTERN})


def url(description: str) -> Meta:
    return Meta(description=description,
                extra_json_schema={"format": "uri", "maxLength": MAX_URL_CHARS})


def one_of(values: object, description: str) -> Meta:
    return Meta(description=description, extra_json_schema={"enum": sorted(values)})  # type: ignore[call-overload]


Phone = Annotated[str, e164("A phone number in E.164 form, e.g. +14155550100")]
Line = Annotated[str, e164("One of your lines, in E.164 form")]
Content = Annotated[str, Meta(description="The message text",
                              extra_json_schema={"maxLength": MAX_CONTENT_CHARS - 1})]
MediaUrl = Annotated[str, url("An http(s) URL of a media file (its path ends in a media "
                              "extension such as .png, .jpg, .mp4, .pdf)")]
SendStyle = Annotated[str, one_of(SEND_STYLES, "An iMessage expressive effect")]
StatusCallback = Annotated[str, url("Where this message's status changes are POSTed")]
Campaign = Annotated[str, Meta(
    description="The campaign this message belongs to: stored, shown in its answers and "
                "webhooks, and a filter of GET /api/v2/messages and the analytics",
    extra_json_schema={"maxLength": MAX_CAMPAIGN_CHARS})]
Tags = Annotated[list[str], Meta(
    description="Labels of this message (a segment, a variant, ...): stored, shown in its "
                "answers and webhooks, and a filter of GET /api/v2/messages and the analytics",
    extra_json_schema={"maxItems": MAX_TAGS, "items": {"type": "string", "minLength": 1,
                                                       "maxLength": MAX_TAG_CHARS}})]


class ReplyTo(msgspec.Struct, kw_only=True):
    """An inline reply: the message of the same conversation (and line) this one answers."""

    message_handle: Annotated[str, Meta(min_length=1, description="The handle of the message "
                                        "answered")]
    part_index: Annotated[int, Meta(
        ge=0, description="Which part of it: 0 its text (or its only part), then each "
                          "attachment")] | None = None


Moment = Annotated[str, Meta(description="ISO 8601 date-time with a time zone",
                             extra_json_schema={"format": "date-time"})]
Timestamp = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]

StatusName = Literal["REGISTERED", "PENDING", "QUEUED", "ACCEPTED", "SENT", "DELIVERED", "READ",
                     "DECLINED", "ERROR", "RECEIVED"]
assert set(StatusName.__args__) == {s.value for s in Status}  # type: ignore[attr-defined]
ServiceName = Literal["iMessage", "SMS", "RCS"]


class Error(msgspec.Struct, kw_only=True):
    """Every error answer."""

    status: Literal["ERROR"]
    message: str | None = None
    error_message: str | None = None
    error_code: int | None = None
    error_key: str | None = None
    status_code: int | None = None


class Ok(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
