"""Group messages: POST /api/send-group-message and POST /api/modify-group."""

from __future__ import annotations

from typing import Any

from ..services.groups import GroupService
from .http import Request, Router


def register_group_routes(router: Router, groups: GroupService) -> None:
    async def send_group_message(request: Request) -> dict[str, Any]:
        return await groups.send(request.account, request.json())

    async def modify_group(request: Request) -> dict[str, Any]:
        return await groups.modify(request.account, request.json())

    router.add("POST", "/api/send-group-message", send_group_message)
    router.add("POST", "/api/modify-group", modify_group)
