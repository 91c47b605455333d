"""GET /account and GET /api/lines: the account and its lines as the official command-line
client reads them (`status`, `whoami`, `lines`)."""

from __future__ import annotations

from typing import Any

from ..domain.wire.account import AccountOverview, LineNumbers
from ..services.lines import LineDirectory
from .endpoint import Endpoint
from .http import Request, Router

ACCOUNT = Endpoint("GET", "/account", "The account: email, plan and lines", "Account",
                   response=AccountOverview, errors=(401,),
                   description="What the official command-line client's `status` and "
                               "`whoami` read; also a cheap way to check a key pair.")
LINES = Endpoint("GET", "/api/lines", "The account's lines", "Lines", response=LineNumbers,
                 errors=(401,),
                 description="The numbers the account may send from (its own lines and the "
                             "shared sandbox line), as the official command-line client's "
                             "`lines` reads them; GET /api/v2/lines/state has more of each.")


def register_account_overview_routes(router: Router, lines: LineDirectory) -> None:
    async def account(request: Request) -> dict[str, Any]:
        return {"status": "OK", "email": request.account.email, "plan": request.account.plan,
                "numbers": lines.numbers_of(request.account.id)}

    async def line_numbers(request: Request) -> dict[str, Any]:
        return {"status": "OK", "numbers": lines.numbers_of(request.account.id)}

    router.endpoint(ACCOUNT, account)
    router.endpoint(LINES, line_numbers)
