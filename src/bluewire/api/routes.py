"""The Sendblue-compatible endpoints of the gateway core."""

from __future__ import annotations

from typing import Any

from ..domain.errors import validation_error
from ..domain.phones import require_number
from ..services.lookup import LookupService
from ..services.messaging import MessagingService
from ..services.webhooks import WebhookConfig
from .http import Request, Response, Router, json_response
from .openapi import openapi_document


def build_router(messaging: MessagingService, lookup: LookupService,
                 webhooks: WebhookConfig) -> Router:
    router = Router()

    async def send_message(request: Request) -> dict[str, Any]:
        return await messaging.send(request.account, request.json())

    async def get_status(request: Request) -> dict[str, Any]:
        return await messaging.status(request.account, request.query.get("handle"))

    async def list_messages(request: Request) -> dict[str, Any]:
        return await messaging.list(request.account, request.query)

    async def retrieve_message(request: Request) -> dict[str, Any]:
        return await messaging.retrieve(request.account, request.params["message_id"])

    async def evaluate_service(request: Request) -> dict[str, Any]:
        raw = request.query.get("number")
        if not raw:
            raise validation_error("`number` is required: the E.164 number to look up")
        if "@" in raw:
            return await lookup.evaluate_email(request.account, raw)
        return await lookup.evaluate(request.account, require_number(raw, "number"))

    document = openapi_document()

    async def openapi(_request: Request) -> Response:
        return json_response(document)

    router.add("POST", "/api/send-message", send_message)
    router.add("GET", "/api/status", get_status)
    router.add("GET", "/api/v2/messages", list_messages)
    router.add("GET", "/api/v2/messages/{message_id}", retrieve_message)
    router.add("GET", "/api/evaluate-service", evaluate_service)
    router.add("GET", "/openapi.json", openapi, authenticated=False)

    async def get_webhooks(request: Request) -> dict[str, Any]:
        return await webhooks.get(request.account)

    async def add_webhooks(request: Request) -> dict[str, Any]:
        return await webhooks.append(request.account, request.json())

    async def replace_webhooks(request: Request) -> dict[str, Any]:
        return await webhooks.replace(request.account, request.json(allow_empty=True))

    async def remove_webhooks(request: Request) -> dict[str, Any]:
        return await webhooks.remove(request.account, request.json())

    router.add("GET", "/api/account/webhooks", get_webhooks)
    router.add("POST", "/api/account/webhooks", add_webhooks)
    router.add("PUT", "/api/account/webhooks", replace_webhooks)
    router.add("DELETE", "/api/account/webhooks", remove_webhooks)
    return router
