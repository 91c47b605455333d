"""A sandbox phone acting on a group it is in: renaming it, leaving it."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from .common import Timestamp
from .sandbox import SandboxPhone


class SandboxPhoneGroup(SandboxPhone, kw_only=True):
    group_id: Annotated[str, Meta(description="A group of the account that the phone is in")]


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
