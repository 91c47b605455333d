"""`build_console`: the console's Starlette application, which the Gateway mounts at /console
beside the API (`App.mount`).

Layers, outermost first: SecurityHeaders (headers.py) on every answer; Failures
(failures.py) turning an unexpected exception into an error page; a bare-root step that serves
`/console` as `/console/`; Guard (guard.py: body limit, session, sign-in, CSRF); Starlette's
exception handling (failures.error_handlers); then the routes: `/` (to the home section), the
static files, the event stream, and the pages (pages/).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route, get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from ..domain.limits import MAX_MEDIA_BYTES
from . import events, pages, static_files
from .csrf import origin_of
from .failures import Explain, Failures, error_handlers
from .guard import Guard
from .headers import SecurityHeaders
from .nav import HOME
from .rendering import error_page, root_of
from .services import ConsoleServices

UPLOAD_ENVELOPE_BYTES = 64 * 1024  # a form's other fields and its multipart framing


def build_console(services: ConsoleServices, *, explain: Explain | None = None) -> Starlette:
    """The console, acting through `services`; `explain` names the exceptions that are not
    bugs (the store is unavailable) with the error to answer, as the API's App is told."""
    settings = services.settings
    public = origin_of(settings.public_url) if settings.public_url else None
    return Starlette(
        routes=[
            Route("/", _home, methods=["GET"]),
            *static_files.ROUTES,
            *events.routes(services.feed, services.sessions,
                           heartbeat_ms=settings.sse_heartbeat_ms,
                           max_seconds=settings.sse_max_seconds),
            *pages.routes(services),
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(Failures, explain=explain),
            Middleware(_BareRoot),
            Middleware(Guard, sessions=services.sessions, error_page=error_page,
                       trusted_origins=[public] if public else [],
                       max_body_bytes=settings.max_body_bytes,
                       max_upload_bytes=MAX_MEDIA_BYTES + UPLOAD_ENVELOPE_BYTES),
        ],
        exception_handlers=error_handlers(),
    )


async def _home(request: Request) -> Response:
    return RedirectResponse(root_of(request) + HOME, status_code=303)


class _BareRoot:
    """The console's root without its slash (`/console`) is its root (`/console/`), rather
    than a redirect to it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and get_route_path(scope) == "":
            scope = {**scope, "path": scope["path"] + "/"}
        await self.app(scope, receive, send)
