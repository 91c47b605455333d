"""Settings: GET <root>/settings, the account's auto mark-read toggle, its API keys and its
webhooks' global secret; each change a POST carrying the CSRF token, through the services the
API and the operator's CLI use.

- Auto mark-read: `ReadReceipts.set_auto` with the API's `AutoMarkRead`; read at each inbound,
  so it applies from the very next one.
- API keys: ids, created and revoked times, never secrets. A new pair's secret is shown on the
  answer to the POST that made it, once; revoking the key this session signed in with ends the
  session (the guard reads the key's revocation with the session).
- Global webhook secret: "set" or "not set"; rotating sets a new random one, shown once.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ...domain.errors import ApiError
from ...domain.wire.conversations import AutoMarkRead
from ...domain.wire.webhooks import AddWebhooks
from ..forms import read_form
from ..rendering import error_page, page, root_of
from ..services import ConsoleServices


def routes(services: ConsoleServices) -> list[BaseRoute]:
    async def render(request: Request, *, new_key: object = None, new_secret: str | None = None,
                     error: str | None = None, status: int = 200) -> Response:
        account = await services.account_of(request.state.session)
        keys = await services.accounts.keys_of(account)
        return page(request, "console/settings.html", {
            "auto_mark_read": await services.read_receipts.auto_of(account),
            "keys": [{"key_id": k.key_id, "created": _when(k.created_at),
                      "revoked": _when(k.revoked_at)} for k in keys],
            "current_key": request.state.session.key_id,
            "has_secret": await services.webhooks.has_global_secret(account),
            "new_key": new_key,
            "new_secret": new_secret,
            "error": error,
        }, active="settings", status=status)

    def back(request: Request) -> Response:
        return RedirectResponse(f"{root_of(request)}/settings", status_code=303)

    async def settings_page(request: Request) -> Response:
        return await render(request)

    async def set_auto(request: Request) -> Response:
        form = await read_form(request)
        value = form.get("auto_mark_read")
        if value not in ("on", "off"):
            return await render(request, error="auto_mark_read must be on or off", status=400)
        account = await services.account_of(request.state.session)
        await services.read_receipts.set_auto(account, AutoMarkRead(auto_mark_read=value == "on"))
        return back(request)

    async def create_key(request: Request) -> Response:
        account = await services.account_of(request.state.session)
        pair = await services.accounts.new_key(account)
        # The one answer that holds the secret: never stored by a cache, never shown again.
        response = await render(request, new_key=pair)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def revoke_key(request: Request) -> Response:
        session = request.state.session
        account = await services.account_of(session)
        key_id = request.path_params["key_id"]
        revoked = await services.accounts.revoke_key_of(account, key_id)
        if revoked is None:
            return error_page(request, 404, "Not found", "This account has no such API key.")
        if key_id == session.key_id:  # this session ends with its key
            return RedirectResponse(f"{root_of(request)}/login", status_code=303)
        return back(request)

    async def webhook_secret(request: Request) -> Response:
        form = await read_form(request)
        action = form.get("action")
        account = await services.account_of(request.state.session)
        if action == "rotate":
            secret = secrets.token_urlsafe(32)
        elif action == "remove":
            secret = None
        else:
            return await render(request, error="Choose to rotate or remove the secret.",
                                status=400)
        try:
            await services.webhooks.append(account, AddWebhooks(webhooks=[],
                                                                globalSecret=secret))
        except ApiError as error:
            return await render(request, error=error.message, status=400)
        if secret is None:
            return back(request)
        response = await render(request, new_secret=secret)
        response.headers["Cache-Control"] = "no-store"
        return response

    return [
        Route("/settings", settings_page, methods=["GET"]),
        Route("/settings/auto-mark-read", set_auto, methods=["POST"]),
        Route("/settings/keys", create_key, methods=["POST"]),
        Route("/settings/keys/{key_id:path}/revoke", revoke_key, methods=["POST"]),
        Route("/settings/webhook-secret", webhook_secret, methods=["POST"]),
    ]


def _when(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
