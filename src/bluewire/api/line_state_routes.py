"""GET /api/v2/lines/state: each of the account's lines, its connector, online, offline or
degraded."""

from __future__ import annotations

from typing import Any

from ..domain.payloads import iso
from ..domain.wire.lines import LineStates
from ..services.line_state import line_snapshot
from ..services.lines import ConnectorRegistry, LineDirectory
from .endpoint import Endpoint
from .http import Request, Router

LINE_STATES = Endpoint(
    "GET", "/api/v2/lines/state", "The account's lines: online, offline or degraded", "Lines",
    response=LineStates, errors=(401,),
    description="Each line the account may use, the connector serving it, and whether that "
                "connector reaches it now (a Mac's agent can be away; other connectors always "
                "serve): DEGRADED when its agent connected 3 or more times in the last 10 "
                "minutes, with `degraded_since`. `status_changed_at` is when the line took its "
                "status, as the gateway process answering saw it (null when it did not: the "
                "line's agent is connected to another process, or none has connected since "
                "this one started).")


def register_line_state_routes(router: Router, lines: LineDirectory,
                               registry: ConnectorRegistry) -> None:
    async def state(request: Request) -> dict[str, Any]:
        snapshot = await line_snapshot(lines, registry, request.account.id)
        return {"status": "OK", "snapshot_at": iso(snapshot.taken_at), "data": [
            {"sendblue_number": line.number,
             "assignment": "shared" if line.shared else "assigned",
             "status": line.status,
             "worker_id": line.connector,
             "status_changed_at": iso(line.status_changed_at),
             "degraded_since": iso(line.degraded_since),
             "number": line.number, "connector": line.connector,
             "state": line.status.lower()}
            for line in snapshot.lines]}

    router.endpoint(LINE_STATES, state)
