"""GET /api/v2/lines/state: each of the account's lines, its connector, online or offline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..services.lines import ConnectorRegistry, LineDirectory
from .http import Request, Router


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

    router.add("GET", "/api/v2/lines/state", state)
