"""A sandbox phone acting on a group it is in: renaming it, leaving it, changing its photo,
adding and removing members."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from .common import Timestamp, e164
from .conversations import GroupPhoto
from .sandbox import SandboxPhone

_GroupLine = Annotated[str, e164("The group's line, if given (a group has one line)")]


class SandboxPhoneGroup(SandboxPhone, kw_only=True):
    group_id: Annotated[str, Meta(description="A group of the account that the phone is in")]


class SandboxPhoneGroupMember(SandboxPhoneGroup, kw_only=True):
    member: Annotated[str, e164("The member the phone removes")]


class PhoneRenamesGroup(msgspec.Struct, kw_only=True):
    """POST /sandbox/phones/{number}/groups/{group_id}/name."""

    name: Annotated[str | None, Meta(
        description="The group's new name; null or empty clears it (blank is refused)",
        extra_json_schema={"maxLength": 255})]


class PhoneRenamedGroup(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    number: Annotated[str, Meta(description="The phone that renamed it")]
    group_id: str
    line: Annotated[str, Meta(description="The group's line")]
    group_name: Annotated[str | None, Meta(description="Its name now; null when cleared")]
    renamed_at: Timestamp


class PhoneLeftGroup(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    number: Annotated[str, Meta(description="The phone that left it")]
    group_id: str
    line: Annotated[str, Meta(description="The group's line")]
    participant_numbers: Annotated[list[str], Meta(
        description="The group's members now, in the order they joined")]
    left_at: Timestamp


class PhoneSetsGroupPhoto(msgspec.Struct, kw_only=True):
    """POST /sandbox/phones/{number}/groups/{group_id}/photo."""

    photo_url: Annotated[str | None, Meta(
        description="An http(s) URL of a JPEG, PNG or GIF picture (at most 5 MB), fetched and "
                    "kept, or a media object of the account (its id or download URL); null "
                    "removes the photo")]
    line: _GroupLine | None = None


class PhoneSetGroupPhoto(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    number: Annotated[str, Meta(description="The phone that changed it")]
    group_id: str
    line: Annotated[str, Meta(description="The group's line")]
    group_photo: Annotated[GroupPhoto | None, Meta(
        description="Its photo now (our download URL); null when removed")]
    changed_at: Timestamp


class PhoneAddsMember(msgspec.Struct, kw_only=True):
    """POST /sandbox/phones/{number}/groups/{group_id}/members."""

    number: Annotated[str, e164("The number the phone adds to the group (not one of the "
                                "lines)")]
    line: _GroupLine | None = None


class PhoneChangedMembers(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    number: Annotated[str, Meta(description="The phone that added or removed the member")]
    group_id: str
    line: Annotated[str, Meta(description="The group's line")]
    member_number: Annotated[str, Meta(description="The member added or removed")]
    participant_numbers: Annotated[list[str], Meta(
        description="The group's members now, in the order they joined")]
    changed_at: Timestamp
