"""`/v3/sandboxes`: the account's sandbox lines as the official command-line client's `sandbox
list|create|delete|connect` read them (services/sandbox_lines.py). Running commands in and
reading files of a sandbox stay unserved (api/unserved_routes.py): a bluewire sandbox is a line
of the simulated phone network, not a machine."""

from __future__ import annotations

from typing import Any

from ..domain.payloads import iso
from ..domain.wire.sandboxes import (
    SandboxAnswer,
    SandboxDeletedAnswer,
    SandboxListAnswer,
    SandboxPath,
)
from ..services.sandbox_lines import SandboxLines, connect_prompt, sandbox_id
from ..store.sandbox_lines import SandboxLineRow
from .endpoint import Endpoint
from .http import Request, Response, Router, json_response

TAG = "Sandbox lines"
LIST = Endpoint("GET", "/v3/sandboxes", "The account's sandbox lines", TAG,
                response=SandboxListAnswer, errors=(401,),
                description="Each line of the account on the simulated phone network, the "
                            "shared one included, with what an AI agent needs to be told to "
                            "text through this server (`connect.prompt`). Sandbox lines cost "
                            "nothing: `usage` is all zeros but for the allowance.")
CREATE = Endpoint("POST", "/v3/sandboxes", "Add a sandbox line of the account's own", TAG,
                  response=SandboxAnswer, status=201, errors=(401, 409, 503),
                  body_required=False,
                  description="A new line on the simulated phone network, for this account "
                              "alone, numbered from +1 415 555-1000 to 555-1999; usable at "
                              "once. 409 when the account has as many as the server allows "
                              "(BLUEWIRE_SANDBOX_LINES_PER_ACCOUNT).")
DELETE = Endpoint("DELETE", "/v3/sandboxes/{id}", "Remove a sandbox line of the account's own",
                  TAG, params=SandboxPath, response=SandboxDeletedAnswer, errors=(401, 404, 409),
                  body_required=False,
                  description="The line goes; its messages stay. The shared sandbox line, or "
                              "one granted to other accounts too, is the operator's to remove "
                              "(409).")


def _plain(row: SandboxLineRow) -> dict[str, Any]:
    return {"id": sandbox_id(row.number), "status": "active", "created_at": iso(row.created_at),
            "number": row.number, "shared": row.shared}


def register_sandbox_line_routes(router: Router, sandboxes: SandboxLines,
                                 base_url: str) -> None:
    async def list_lines(request: Request) -> dict[str, Any]:
        rows = await sandboxes.of(request.account)
        return {"data": {
            "sandboxes": [_plain(row) for row in rows],
            "usage": {"used_usd": 0.0, "cap_usd": 0.0, "remaining_usd": 0.0,
                      "rate_usd_per_hour": 0.0,
                      "max_active_sandboxes": sandboxes.per_account},
            "connect": {"prompt": connect_prompt(base_url, [row.number for row in rows])},
        }}

    async def create(request: Request) -> Response:
        return json_response({"data": _plain(await sandboxes.add(request.account))}, 201)

    async def delete(request: Request) -> dict[str, Any]:
        number = await sandboxes.remove(request.account, request.args.id)
        return {"data": {"id": sandbox_id(number), "deleted": True}}

    router.endpoint(LIST, list_lines)
    router.endpoint(CREATE, create)
    router.endpoint(DELETE, delete)
