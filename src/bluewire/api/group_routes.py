"""Group messages: POST /api/send-group-message and POST /api/modify-group; a group itself:
GET /api/v2/groups/{group_id}, POST /api/v2/groups/{group_id}/name and …/photo."""

from __future__ import annotations

from typing import Any

from ..domain.wire.conversations import (
    GroupPath,
    ModifyGroup,
    ModifyGroupAnswer,
    OneGroup,
    RenameGroup,
    RenameGroupAnswer,
    SendGroupMessage,
    SetGroupPhoto,
    SetGroupPhotoAnswer,
)
from ..domain.wire.messages import MessageResponse
from ..services.groups import GroupService
from ..services.idempotency import IdempotencyKeys
from .endpoint import Endpoint
from .http import Request, Response, Router
from .idempotency import IDEMPOTENCY_ERRORS, IDEMPOTENCY_KEY, idempotent

TAG = "Groups"
SEND_GROUP_MESSAGE = Endpoint(
    "POST", "/api/send-group-message", "Send a message to a group", TAG,
    body=SendGroupMessage, response=MessageResponse,
    errors=(400, 401, 404, *IDEMPOTENCY_ERRORS, 429, 503), forms=True,
    headers=(IDEMPOTENCY_KEY,),
    description="To `numbers` (a new group; the answer's `group_id` names it) or to an "
                "existing `group_id`. Each participant's delivery and read is tracked: the "
                "message is DELIVERED when every participant has it, and every participant's "
                "read is its own READ webhook naming them in `number`.")
MODIFY_GROUP = Endpoint(
    "POST", "/api/modify-group", "Add or remove a group participant", TAG, body=ModifyGroup,
    response=ModifyGroupAnswer, errors=(400, 401, 404))

RETRIEVE_GROUP = Endpoint(
    "GET", "/api/v2/groups/{group_id}", "A group: its name, members and latest message", TAG,
    params=GroupPath, response=OneGroup, errors=(400, 401, 404))
RENAME_GROUP = Endpoint(
    "POST", "/api/v2/groups/{group_id}/name", "Name a group (or clear its name)", TAG,
    params=GroupPath, body=RenameGroup, response=RenameGroupAnswer, errors=(400, 401, 404),
    description="On a line whose connector can name group chats (the sandbox); others answer "
                "400 saying so. Each change is a `group.renamed` event.")
SET_GROUP_PHOTO = Endpoint(
    "POST", "/api/v2/groups/{group_id}/photo", "Set a group's photo (or clear it)", TAG,
    params=GroupPath, body=SetGroupPhoto, response=SetGroupPhotoAnswer,
    errors=(400, 401, 404),
    description="`photo_url` is fetched and kept as send-message's `media_url` is (at most "
                "5 MB, a JPEG, PNG or GIF; private addresses refused), or names a media object "
                "of the account; null clears the photo. On a line whose connector can set group "
                "photos (the sandbox); others answer 400 saying so. Each change is a "
                "`group.photo_changed` event.")


def register_group_routes(router: Router, groups: GroupService,
                          idempotency: IdempotencyKeys) -> None:
    async def send_group_message(request: Request) -> Response | dict[str, Any]:
        return await idempotent(request, SEND_GROUP_MESSAGE, idempotency,
                                lambda key: groups.send(request.account, request.data, key))

    async def modify_group(request: Request) -> dict[str, Any]:
        return await groups.modify(request.account, request.data)

    async def retrieve_group(request: Request) -> dict[str, Any]:
        return await groups.retrieve(request.account, request.args.group_id)

    async def rename_group(request: Request) -> dict[str, Any]:
        return await groups.rename(request.account, request.args.group_id, request.data)

    async def set_group_photo(request: Request) -> dict[str, Any]:
        return await groups.set_photo(request.account, request.args.group_id, request.data)

    router.endpoint(SEND_GROUP_MESSAGE, send_group_message)
    router.endpoint(MODIFY_GROUP, modify_group)
    router.endpoint(RETRIEVE_GROUP, retrieve_group)
    router.endpoint(RENAME_GROUP, rename_group)
    router.endpoint(SET_GROUP_PHOTO, set_group_photo)
