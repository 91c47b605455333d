"""The route BlueBubbles servers post their webhooks to: one per line, not authenticated by
API key but by the line's webhook secret in the URL (BlueBubbles does not sign webhooks)."""

from __future__ import annotations

from ..connectors.bluebubbles import NAME, BlueBubblesConnector
from ..domain.errors import ApiError
from ..domain.wire.common import Ok
from ..domain.wire.lines import BlueBubblesEvent, BlueBubblesWebhookPath
from .endpoint import Endpoint
from .http import Request, Router

# The secret is checked before the body is read, so the handler reads it: `raw_body`.
WEBHOOK = Endpoint(
    "POST", f"/connectors/{NAME}/{{line}}/webhook", "A BlueBubbles server's webhook for a line",
    "Connectors", params=BlueBubblesWebhookPath, raw_body=BlueBubblesEvent, response=Ok,
    errors=(400, 403), authenticated=False,
    description="Registered on the line's BlueBubbles server when the line is added; no API "
                "key: the URL's `secret` is the line's webhook secret (403 when it or the line "
                "is wrong).")


def register_bluebubbles_routes(router: Router, connector: BlueBubblesConnector) -> None:
    async def webhook(request: Request) -> dict[str, str]:
        line = request.args.line
        if not connector.authentic(line, request.args.secret):
            raise ApiError(403, f"This is not a webhook URL of a {NAME} line: the line or its "
                                "secret is wrong")
        await connector.webhook(line, request.json())
        return {"status": "OK"}

    router.endpoint(WEBHOOK, webhook)
