"""Read receipts, typing indicators and group messages we send."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from .common import (
    Campaign,
    Content,
    Line,
    MediaUrl,
    Phone,
    ReplyTo,
    StatusCallback,
    Tags,
    Timestamp,
)
from .follow_ups import InlineFollowUps


class MarkRead(msgspec.Struct, kw_only=True):
    """POST /api/mark-read: tell `number` we read their conversation with `from_number`."""

    number: Annotated[Phone | None, Meta(description="The contact whose messages were read")] = None
    from_number: Annotated[Line | None, Meta(description="The line they wrote to")] = None


class MarkReadAnswer(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    message: str
    number: str


class AutoMarkRead(msgspec.Struct, kw_only=True):
    """POST /accounts/settings/auto-mark-read."""

    auto_mark_read: Annotated[bool, Meta(
        description="Send a read receipt for every 1:1 iMessage as it arrives")]


class AutoMarkReadAnswer(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    auto_mark_read: bool


class TypingIndicator(msgspec.Struct, kw_only=True):
    """POST /api/send-typing-indicator (1:1, best effort)."""

    number: Annotated[Phone | None, Meta(description="A contact you have messaged")] = None
    from_number: Annotated[Line | None, Meta(
        description="The line to type from (default: the contact's line)")] = None
    state: Literal["start", "stop"] = "start"
    max_duration_ms: Annotated[int, Meta(ge=1, le=300_000)] | None = None


class TypingAnswer(msgspec.Struct, kw_only=True):
    status: Literal["SENT"]
    number: str


class SendGroupMessage(msgspec.Struct, kw_only=True):
    """POST /api/send-group-message: to `numbers` (a new group) or to an existing `group_id`;
    `content` or `media_url` (or both)."""

    from_number: Annotated[Line | None, Meta(description="The line to send from")] = None
    numbers: Annotated[list[Phone] | None, Meta(
        description="The participants of a new group",
        extra_json_schema={"minItems": 2, "uniqueItems": True})] = None
    group_id: Annotated[str | None, Meta(description="An existing group")] = None
    content: Content | None = None
    media_url: MediaUrl | None = None
    status_callback: StatusCallback | None = None
    campaign: Campaign | None = None
    tags: Tags | None = None
    follow_ups: InlineFollowUps | None = None
    reply_to: Annotated[ReplyTo | None, Meta(
        description="Answer a message of this group inline")] = None


class ModifyGroup(msgspec.Struct, kw_only=True):
    """POST /api/modify-group: add or remove one participant."""

    group_id: str
    modify_type: Literal["add_recipient", "remove_recipient"]
    number: Annotated[Phone, Meta(description="The participant")]
    from_number: Annotated[Line | None, Meta(description="The group's line, if given")] = None


class ModifyGroupAnswer(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    group_id: str
    modify_type: Literal["add_recipient", "remove_recipient"]
    number: str


class GroupPath(msgspec.Struct, kw_only=True):
    group_id: Annotated[str, Meta(description="The group's id")]


class GroupParticipant(msgspec.Struct, kw_only=True):
    participant_id: Annotated[str, Meta(description="This membership's id")]
    handle: Annotated[str, Meta(description="The participant's number, as the network has it")]
    phone: Annotated[str, Meta(description="The participant's number, E.164")]
    type: Literal["contact"]
    contact_id: None = None
    name: Annotated[str | None, Meta(description="The contact's name, if the account set one")]


class GroupPhoto(msgspec.Struct, kw_only=True):
    photo_guid: Annotated[str, Meta(
        description="The photo's id: the media object kept of it (or, with media fetching "
                    "off, a digest of its URL)")]
    url: Annotated[str, Meta(description="Where the photo is downloaded")]


class GroupDetails(msgspec.Struct, kw_only=True):
    group_id: str
    group_name: Annotated[str | None, Meta(description="Its name; null when it has none")]
    group_photo: Annotated[GroupPhoto | None, Meta(
        description="Its photo; null when it has none")]
    line: Annotated[str, Meta(description="The line the group is on")]
    participant_numbers: list[str]
    participants: list[GroupParticipant]
    created_at: Timestamp
    updated_at: Timestamp
    latest_comm_at: Annotated[Timestamp | None, Meta(
        description="When its latest message was made")]
    latest_message_id: Annotated[str | None, Meta(description="Its latest message's handle")]
    worker_group_id: None = None


class OneGroup(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    data: GroupDetails


class RenameGroup(msgspec.Struct, kw_only=True):
    """POST /api/v2/groups/{group_id}/name."""

    group_name: Annotated[str | None, Meta(
        description="The new name; null or empty clears it (blank is refused)",
        extra_json_schema={"maxLength": 255})]
    from_number: Annotated[Line | None, Meta(description="The group's line, if given")] = None


class RenamedGroup(msgspec.Struct, kw_only=True):
    group_id: str
    group_name: Annotated[str, Meta(description="Its name now; empty when cleared")]
    from_number: Annotated[str, Meta(description="The line that renamed it")]


class RenameGroupAnswer(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    data: RenamedGroup


class SetGroupPhoto(msgspec.Struct, kw_only=True):
    """POST /api/v2/groups/{group_id}/photo."""

    photo_url: Annotated[str | None, Meta(
        description="An http(s) URL of a JPEG, PNG or GIF picture (at most 5 MB), fetched and "
                    "kept, or a media object of the account (its id or download URL); null "
                    "clears the photo")]
    from_number: Annotated[Line | None, Meta(description="The group's line, if given")] = None


class GroupPhotoSet(msgspec.Struct, kw_only=True):
    group_id: str
    group_photo: Annotated[GroupPhoto | None, Meta(
        description="Its photo now; null when cleared")]
    from_number: Annotated[str, Meta(description="The line that changed it")]


class SetGroupPhotoAnswer(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    data: GroupPhotoSet
