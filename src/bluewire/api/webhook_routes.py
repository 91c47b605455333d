"""`/api/account/webhooks`: the account's webhook endpoints, as Sendblue's docs shape them."""

from __future__ import annotations

from typing import Any

from ..domain.wire.webhooks import (
    AddWebhooks,
    RemoveWebhooks,
    ReplaceWebhooks,
    WebhookList,
    WebhooksChanged,
    WebhooksRemoved,
)
from ..services.webhooks import WebhookConfig
from .endpoint import Endpoint
from .http import Request, Router

PATH = "/api/account/webhooks"
TAG = "Webhooks"
GET_WEBHOOKS = Endpoint("GET", PATH, "The account's webhooks, by type", TAG,
                        response=WebhookList, errors=(401,))
ADD_WEBHOOKS = Endpoint(
    "POST", PATH, "Add webhooks of one type", TAG, body=AddWebhooks, response=WebhooksChanged,
    description="Every URL is checked (an absolute http(s) URL; a private address is refused "
                "unless the server allows them) before any is added.")
REPLACE_WEBHOOKS = Endpoint(
    "PUT", PATH, "Replace every webhook", TAG, body=ReplaceWebhooks, response=WebhooksChanged,
    description="`{\"webhooks\": {}}` removes every webhook and the global secret.")
REMOVE_WEBHOOKS = Endpoint(
    "DELETE", PATH, "Remove webhooks by URL", TAG, body=RemoveWebhooks, response=WebhooksRemoved,
    description="A URL that is not configured is not an error: it removes nothing.")


def register_webhook_routes(router: Router, webhooks: WebhookConfig) -> None:
    async def get_webhooks(request: Request) -> dict[str, Any]:
        return await webhooks.get(request.account)

    async def add_webhooks(request: Request) -> dict[str, Any]:
        return await webhooks.append(request.account, request.data)

    async def replace_webhooks(request: Request) -> dict[str, Any]:
        return await webhooks.replace(request.account, request.data)

    async def remove_webhooks(request: Request) -> dict[str, Any]:
        return await webhooks.remove(request.account, request.data)

    router.endpoint(GET_WEBHOOKS, get_webhooks)
    router.endpoint(ADD_WEBHOOKS, add_webhooks)
    router.endpoint(REPLACE_WEBHOOKS, replace_webhooks)
    router.endpoint(REMOVE_WEBHOOKS, remove_webhooks)
