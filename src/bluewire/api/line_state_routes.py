"""GET /api/v2/lines/state: each of the account's lines, its connector, online or offline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..services.lines import ConnectorRegistry, LineDirectory
from .http import Request, Router


def register_line_state_routes(router: Router, lines: LineDirectory,
                               registry: ConnectorRegistry) -> None:
    async def state(request: Request) -> dict[str, Any]:
        data = []
        for number in lines.numbers_of(request.account.id):
            line = lines.line(number)
            if line is None:
                continue
            connector = registry.connectors.get(line.connector)
            # A connector that can be away (the agent's) says so per line; others always serve.
            online_of: Callable[[str], bool] | None = getattr(connector, "online", None)
            online = connector is not None and (online_of is None or online_of(number))
            data.append({"number": number, "connector": line.connector,
                         "state": "online" if online else "offline"})
        return {"status": "OK", "data": data}

    router.add("GET", "/api/v2/lines/state", state)
