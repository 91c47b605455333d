"""GET /api/v2/lines/state: each of the account's lines, its connector, online or offline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..domain.wire.lines import LineStates
from ..services.lines import ConnectorRegistry, LineDirectory
from .endpoint import Endpoint
from .http import Request, Router

LINE_STATES = Endpoint(
    "GET", "/api/v2/lines/state", "The account's lines: online or offline", "Lines",
    response=LineStates, errors=(401,),
    description="Each line the account may use, the connector serving it, and whether that "
                "connector reaches it now (a Mac's agent can be away; other connectors always "
                "serve).")


def register_line_state_routes(router: Router, lines: LineDirectory,
                               registry: ConnectorRegistry) -> None:
    async def state(request: Request) -> dict[str, Any]:
        known = [(number, line) for number in lines.numbers_of(request.account.id)
                 if (line := lines.line(number)) is not None]
        online: set[str] = set()
        for name, connector in registry.connectors.items():
            numbers = [number for number, line in known if line.connector == name]
            # A connector that can be away (the agent's) says which lines are served; others
            # always serve.
            online_of: Callable[[list[str]], Awaitable[set[str]]] | None = getattr(
                connector, "online", None)
            online |= set(numbers) if online_of is None else await online_of(numbers)
        return {"status": "OK", "data": [
            {"number": number, "connector": line.connector,
             "state": "online" if number in online else "offline"} for number, line in known]}

    router.endpoint(LINE_STATES, state)
