"""Lines: GET <root>/lines, each of the account's lines, the connector serving it, whether that
connector reaches it now (online, offline, or degraded when a Mac's agent keeps reconnecting,
as GET /api/v2/lines/state answers) and its send rate limit.

The pattern of a page: a `routes(services)` that returns its routes; handlers that read
`request.state.session` (the guard has made sure there is one), ask a service, and `page()` a
template under `console/` naming their nav section.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ...domain.payloads import iso
from ...services.line_state import line_states
from ..rendering import page
from ..services import ConsoleServices


def routes(services: ConsoleServices) -> list[BaseRoute]:
    async def lines_page(request: Request) -> Response:
        states = await line_states(services.lines, services.registry,
                                   request.state.session.account_id)
        since = {line.number: iso(line.degraded_since) for line in states}
        return page(request, "console/lines.html", {"lines": states, "since": since},
                    active="lines")

    return [Route("/lines", lines_page, methods=["GET"])]
