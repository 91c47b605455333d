"""`/api/v2/webhook-deliveries`: the webhook delivery log, resend and replay (bluewire's own)."""

from __future__ import annotations

from typing import Any

from ..services.delivery_log import DeliveryLog
from .http import Request, Response, Router, json_response

BASE = "/api/v2/webhook-deliveries"


def register_delivery_routes(router: Router, service: DeliveryLog) -> None:
    async def list_deliveries(request: Request) -> dict[str, Any]:
        return await service.list(request.account, request.query)

    async def get_delivery(request: Request) -> dict[str, Any]:
        return await service.get(request.account, request.params["delivery_id"])

    async def resend_delivery(request: Request) -> Response:
        answer = await service.resend(request.account, request.params["delivery_id"])
        return json_response(answer, 201)

    async def replay(request: Request) -> dict[str, Any]:
        return await service.replay(request.account, request.json())

    router.add("GET", BASE, list_deliveries)
    router.add("POST", f"{BASE}/replay", replay)
    router.add("GET", f"{BASE}/{{delivery_id}}", get_delivery)
    router.add("POST", f"{BASE}/{{delivery_id}}/resend", resend_delivery)
