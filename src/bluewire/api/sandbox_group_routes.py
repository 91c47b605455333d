"""`/sandbox/phones/{number}/groups/{group_id}/…`: a sandbox phone renames or leaves a group
it is in (the work is `services/sandbox_groups.py`'s)."""

from __future__ import annotations

from typing import Any

from ..domain.wire.sandbox_groups import (
    PhoneLeftGroup,
    PhoneRenamedGroup,
    PhoneRenamesGroup,
    SandboxPhoneGroup,
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

    router.endpoint(PHONE_RENAMES_GROUP, rename)
    router.endpoint(PHONE_LEAVES_GROUP, leave)
