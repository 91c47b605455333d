"""`/api/v2/webhook-deliveries`: the webhook delivery log, resend and replay (bluewire's own)."""

from __future__ import annotations

from typing import Any

from ..domain.wire.webhooks import (
    MAX_REPLAY_EVENTS,
    DeliveryId,
    DeliveryList,
    DeliveryQuery,
    OneDelivery,
    Replayed,
    ReplayRequest,
    Resent,
)
from ..services.delivery_log import DeliveryLog
from .endpoint import Endpoint
from .http import Request, Response, Router, json_response

BASE = "/api/v2/webhook-deliveries"
TAG = "Webhook deliveries"
LIST_DELIVERIES = Endpoint(
    "GET", BASE, "The webhook delivery log, newest first, with every attempt", TAG,
    params=DeliveryQuery, response=DeliveryList)
GET_DELIVERY = Endpoint(
    "GET", f"{BASE}/{{delivery_id}}", "One delivery with its attempts and payload", TAG,
    params=DeliveryId, response=OneDelivery, errors=(400, 401, 404))
RESEND_DELIVERY = Endpoint(
    "POST", f"{BASE}/{{delivery_id}}/resend",
    "Send a delivery again now, as a new delivery with the same webhook-id", TAG,
    params=DeliveryId, response=Resent, status=201, errors=(400, 401, 404))
REPLAY_DELIVERIES = Endpoint(
    "POST", f"{BASE}/replay", "Deliver every event of a time range to an endpoint again", TAG,
    body=ReplayRequest, response=Replayed,
    description="Also events the endpoint never had (from before it was added), each with its "
                f"original webhook-id and payload. At most {MAX_REPLAY_EVENTS} events per "
                "request: a larger range is a 400 (replay it in parts).")


def register_delivery_routes(router: Router, service: DeliveryLog) -> None:
    async def list_deliveries(request: Request) -> dict[str, Any]:
        return await service.list(request.account, request.args)

    async def get_delivery(request: Request) -> dict[str, Any]:
        return await service.get(request.account, request.args.delivery_id)

    async def resend_delivery(request: Request) -> Response:
        answer = await service.resend(request.account, request.args.delivery_id)
        return json_response(answer, 201)

    async def replay(request: Request) -> dict[str, Any]:
        return await service.replay(request.account, request.data)

    router.endpoint(LIST_DELIVERIES, list_deliveries)
    router.endpoint(REPLAY_DELIVERIES, replay)
    router.endpoint(GET_DELIVERY, get_delivery)
    router.endpoint(RESEND_DELIVERY, resend_delivery)
