"""`/api/v2/follow-ups`: a durable, conditional action on an outbound message."""

from __future__ import annotations

from typing import Any

from ..domain.wire.follow_ups import (
    FollowUpAnswer,
    FollowUpId,
    FollowUpList,
    FollowUpQuery,
    NewFollowUp,
)
from ..services.follow_ups import FollowUpService
from .endpoint import Endpoint
from .http import Request, Router

BASE = "/api/v2/follow-ups"
ONE = f"{BASE}/{{id}}"
TAG = "Follow-ups"

CREATE = Endpoint(
    "POST", BASE, "Follow up a message if a condition holds after a while", TAG,
    body=NewFollowUp, response=FollowUpAnswer, errors=(400, 401, 404),
    description="When `after` has passed since the message was sent (since it was created, "
                "while it is not yet sent), the condition is judged from the message's state "
                "and the action runs once: `send` queues a new message in the same "
                "conversation, `notify` emits a `follow_up.due` event and `follow_up` "
                "webhooks. A condition that can no longer hold (a `not_read` message that is "
                "read, ...) ends it early, skipped; a STOP from the contact cancels it. Each "
                "change of state is an event (`follow_up.scheduled`, `.fired`, `.skipped`, "
                "`.cancelled`) and a `follow_up` webhook. 404: no outbound message of the "
                "account has that handle.")
LIST = Endpoint("GET", BASE, "The account's follow-ups, newest first", TAG,
                params=FollowUpQuery, response=FollowUpList)
RETRIEVE = Endpoint("GET", ONE, "One follow-up", TAG, params=FollowUpId,
                    response=FollowUpAnswer, errors=(401, 404))
CANCEL = Endpoint("DELETE", ONE, "Cancel a scheduled follow-up", TAG, params=FollowUpId,
                  response=FollowUpAnswer, errors=(401, 404, 409),
                  description="409 once it has ended (fired, skipped or cancelled).")


def register_follow_up_routes(router: Router, service: FollowUpService) -> None:
    async def create(request: Request) -> dict[str, Any]:
        return await service.create(request.account, request.data)

    async def list_follow_ups(request: Request) -> dict[str, Any]:
        return await service.list(request.account, request.args)

    async def retrieve(request: Request) -> dict[str, Any]:
        return await service.retrieve(request.account, request.args.id)

    async def cancel(request: Request) -> dict[str, Any]:
        return await service.cancel(request.account, request.args.id)

    router.endpoint(CREATE, create)
    router.endpoint(LIST, list_follow_ups)
    router.endpoint(RETRIEVE, retrieve)
    router.endpoint(CANCEL, cancel)
