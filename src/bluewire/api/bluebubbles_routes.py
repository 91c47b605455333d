"""The route BlueBubbles servers post their webhooks to: one per line, not authenticated by
API key but by the line's webhook secret in the URL (BlueBubbles does not sign webhooks)."""

from __future__ import annotations

from ..connectors.bluebubbles import NAME, BlueBubblesConnector
from ..domain.errors import ApiError
from .http import Request, Router


def register_bluebubbles_routes(router: Router, connector: BlueBubblesConnector) -> None:
    async def webhook(request: Request) -> dict[str, str]:
        line = request.params["line"]
        if not connector.authentic(line, request.query.get("secret")):
            raise ApiError(403, f"This is not a webhook URL of a {NAME} line: the line or its "
                                "secret is wrong")
        connector.webhook(line, request.json())
        return {"status": "OK"}

    router.add("POST", f"/connectors/{NAME}/{{line}}/webhook", webhook, authenticated=False)
