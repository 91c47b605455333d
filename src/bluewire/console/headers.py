"""The security headers of every console answer (pages, redirects, errors, files, streams).

The policy allows the console's own scripts, styles and fetches and nothing else: no inline
script or style (templates and console.js are written for that, and htmx is configured not to
evaluate anything or inject styles), no framing, forms that post only to the console itself.
`blob:` and `data:` images and media are for previews of attachments a page makes in the browser.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'")
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
NO_STORE = "no-store"  # what may hold an account's data is never cached


class SecurityHeaders:
    """ASGI middleware: the headers above on every answer, and `Cache-Control: no-store` on
    those that do not set their own caching (the static files do)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if "cache-control" not in headers:
                    headers["cache-control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, with_headers)
