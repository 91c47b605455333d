"""`/sandbox/phones/{number}/groups/{group_id}/…`: a sandbox phone renames or leaves a group
it is in, changes its photo, adds or removes a member (the work is
`services/sandbox_groups.py`'s)."""

from __future__ import annotations

from typing import Any

from ..domain.wire.sandbox_groups import (
    PhoneAddsMember,
    PhoneChangedMembers,
    PhoneLeftGroup,
    PhoneRenamedGroup,
    PhoneRenamesGroup,
    PhoneSetGroupPhoto,
    PhoneSetsGroupPhoto,
    SandboxPhoneGroup,
    SandboxPhoneGroupMember,
)
from ..services.sandbox_groups import SandboxGroups, Together
from ..services.sandbox_phones import SandboxPhones
from ..store.database import Database
from .endpoint import Endpoint
from .http import Request, Router

BASE = "/sandbox/phones/{number}/groups/{group_id}"
TAG = "Sandbox"
_SCOPE = ("Only a group of the account, on one of its sandbox lines, that the phone is in "
          "(another account's group is a 404); answered once what it caused is recorded.")

PHONE_RENAMES_GROUP = Endpoint(
    "POST", f"{BASE}/name", "A sandbox phone renames a group it is in", TAG,
    params=SandboxPhoneGroup, body=PhoneRenamesGroup, response=PhoneRenamedGroup,
    errors=(400, 401, 404),
    description="The group's account sees the new name (retrieve, `group_display_name`) and a "
                f"`group.renamed` event whose `from_number` is the phone. {_SCOPE}")
PHONE_LEAVES_GROUP = Endpoint(
    "POST", f"{BASE}/leave", "A sandbox phone leaves a group it is in", TAG,
    params=SandboxPhoneGroup, response=PhoneLeftGroup, errors=(400, 401, 404),
    description="The phone is no longer a participant: the group's later messages do not go "
                "to it, and its account gets a `group.member_left` event. As in iMessage, only "
                f"a group of 3 or more participants can be left. {_SCOPE}")

PHONE_SETS_GROUP_PHOTO = Endpoint(
    "POST", f"{BASE}/photo", "A sandbox phone changes the photo of a group it is in", TAG,
    params=SandboxPhoneGroup, body=PhoneSetsGroupPhoto, response=PhoneSetGroupPhoto,
    errors=(400, 401, 404),
    description="The picture is fetched and kept as the account's own group photo is (a JPEG, "
                "PNG or GIF of at most 5 MB, or one of the account's media objects); null "
                "removes it. The account sees the new photo (retrieve's `group_photo`) and a "
                f"`group.photo_changed` event whose `from_number` is the phone. {_SCOPE}")
PHONE_ADDS_MEMBER = Endpoint(
    "POST", f"{BASE}/members", "A sandbox phone adds a member to a group it is in", TAG,
    params=SandboxPhoneGroup, body=PhoneAddsMember, response=PhoneChangedMembers,
    errors=(400, 401, 404),
    description="The number becomes a participant (and a contact of the account): the "
                "group's later messages go to it too, and the account gets a "
                f"`group.member_added` event naming it and the phone. {_SCOPE}")
PHONE_REMOVES_MEMBER = Endpoint(
    "DELETE", f"{BASE}/members/{{member}}", "A sandbox phone removes a member of a group it "
    "is in", TAG, params=SandboxPhoneGroupMember, response=PhoneChangedMembers,
    errors=(400, 401, 404),
    description="The member is no longer a participant: the group's later messages do not go "
                "to it, and the account gets a `group.member_removed` event naming it and the "
                "phone. As in iMessage, only from a group of 3 or more participants; a phone "
                f"removes itself by leaving. {_SCOPE}")


def register_sandbox_group_routes(router: Router, phones: SandboxPhones, database: Database,
                                  together: Together) -> None:
    """The phone's group actions; `together` is the network sink's (what a phone does is
    committed with what it reports)."""
    groups = SandboxGroups(phones, database, together)

    async def rename(request: Request) -> dict[str, Any]:
        args = request.args
        return await groups.rename(request.account, args.number, args.group_id, request.data)

    async def leave(request: Request) -> dict[str, Any]:
        args = request.args
        return await groups.leave(request.account, args.number, args.group_id)

    async def set_photo(request: Request) -> dict[str, Any]:
        args = request.args
        return await groups.set_photo(request.account, args.number, args.group_id,
                                      request.data)

    async def add_member(request: Request) -> dict[str, Any]:
        args = request.args
        return await groups.add_member(request.account, args.number, args.group_id,
                                       request.data)

    async def remove_member(request: Request) -> dict[str, Any]:
        args = request.args
        return await groups.remove_member(request.account, args.number, args.group_id,
                                          args.member)

    router.endpoint(PHONE_RENAMES_GROUP, rename)
    router.endpoint(PHONE_LEAVES_GROUP, leave)
    router.endpoint(PHONE_SETS_GROUP_PHOTO, set_photo)
    router.endpoint(PHONE_ADDS_MEMBER, add_member)
    router.endpoint(PHONE_REMOVES_MEMBER, remove_member)
