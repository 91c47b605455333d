"""What the official command-line client reads of an account: GET /account (`status`,
`whoami`) and GET /api/lines (`lines`)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class AccountOverview(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    email: Annotated[str, Meta(description="The account's email")]
    plan: Annotated[str, Meta(description="The account's plan")]
    numbers: Annotated[list[str], Meta(description="The lines the account may send from")]


class LineNumbers(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    numbers: Annotated[list[str], Meta(description="The lines the account may send from, in "
                                                   "E.164 form")]
