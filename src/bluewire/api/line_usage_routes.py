"""GET /api/v2/lines/usage and /api/v2/lines/contact-status: each line's new-contact limits and
their use, and whether a send to a contact would count as a first contact."""

from __future__ import annotations

from typing import Any

from ..domain.wire.lines import ContactStatus, ContactStatusQuery, LineUsages
from ..services.new_contacts import NewContacts
from .endpoint import Endpoint
from .http import Request, Router

LINE_USAGE = Endpoint(
    "GET", "/api/v2/lines/usage", "New contacts each line may still message", "Lines",
    response=LineUsages, errors=(401,),
    description="For each of the account's lines: first contacts (sends to contacts it has "
                "not exchanged a message with in the lookback) counted in the rolling hour "
                "and since the daily reset, their limits, and when a full window frees a slot. "
                "A send over a limit is refused with 429 and `error_code` 4001.")
CONTACT_STATUS = Endpoint(
    "GET", "/api/v2/lines/contact-status", "Would a send to this contact be a first contact?",
    "Lines", params=ContactStatusQuery, response=ContactStatus, errors=(400, 401, 404))


def register_line_usage_routes(router: Router, new_contacts: NewContacts) -> None:
    async def usage(request: Request) -> dict[str, Any]:
        return await new_contacts.usage(request.account)

    async def contact_status(request: Request) -> dict[str, Any]:
        return await new_contacts.contact_status(request.account, request.args.number,
                                                 request.args.sendblue_number)

    router.endpoint(LINE_USAGE, usage)
    router.endpoint(CONTACT_STATUS, contact_status)
