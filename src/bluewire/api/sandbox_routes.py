"""`/sandbox/phones/{number}`: act as a simulated phone of the sandbox network (the work is
`services/sandbox_phones.py`'s)."""

from __future__ import annotations

from typing import Any

from ..domain.wire.reactions import PhoneReacted, PhoneReacts
from ..domain.wire.sandbox import (
    PhoneAction,
    PhoneDelivered,
    PhoneRead,
    PhoneSends,
    PhoneSent,
    PhoneTyped,
    PhoneTypes,
    PhoneView,
    PhoneViewQuery,
    SandboxPhone,
)
from ..services.sandbox_phones import SandboxPhones
from .endpoint import Endpoint
from .http import Request, Router

BASE = "/sandbox/phones"
TAG = "Sandbox"
_SCOPE = ("Only towards the account's own sandbox lines (`line`, by default the one the phone "
          "last talked with), and "
          "answered once what it caused is recorded.")

PHONE_SENDS = Endpoint(
    "POST", f"{BASE}/{{number}}/messages", "A sandbox phone sends a message to a line", TAG,
    params=SandboxPhone, body=PhoneSends, response=PhoneSent,
    description="The message becomes an inbound message (one per part) of the account the "
                f"phone writes to. {_SCOPE}")
PHONE_READS = Endpoint(
    "POST", f"{BASE}/{{number}}/read", "A sandbox phone reads its conversation with a line",
    TAG, params=SandboxPhone, body=PhoneAction, body_required=False, response=PhoneRead,
    description="What the line sent it and it has not read is read now, and reported READ "
                f"unless the phone has read receipts off or is on SMS. {_SCOPE}")
PHONE_TYPES = Endpoint(
    "POST", f"{BASE}/{{number}}/typing", "A sandbox phone starts or stops typing to a line",
    TAG, params=SandboxPhone, body=PhoneTypes, body_required=False, response=PhoneTyped,
    description=f"The line sees it, unless the phone is on SMS. {_SCOPE}")
PHONE_DELIVERS = Endpoint(
    "POST", f"{BASE}/{{number}}/deliver", "A manual sandbox phone reports delivery", TAG,
    params=SandboxPhone, body=PhoneAction, body_required=False, response=PhoneDelivered,
    description="A manual phone (+1 NPA 555-0108) reports DELIVERED for what it has from the "
                f"line that is still SENT; any other phone answers 400. {_SCOPE}")
PHONE_REACTS = Endpoint(
    "POST", f"{BASE}/{{number}}/reactions", "A sandbox phone reacts to a message it received",
    TAG, params=SandboxPhone, body=PhoneReacts, response=PhoneReacted, errors=(400, 401, 404),
    description="A tapback (love, like, dislike, laugh, emphasize, question; `-love` etc. "
                "takes it off) on one of the account's messages the phone received: a "
                "`reaction.received` event and `receive` webhook naming the message, never a "
                "message. 404 for any message the phone did not get from the account; 400 for "
                f"a phone on SMS. {_SCOPE}")
PHONE_VIEW = Endpoint(
    "GET", f"{BASE}/{{number}}", "A sandbox phone's conversations, as it sees them", TAG,
    params=PhoneViewQuery, response=PhoneView,
    description="Its behaviour, and per line of the account: what it received of the "
                "account's messages, what it sent that became the account's, the read "
                "receipts and typing it saw. The network keeps it in the database, so every "
                "process answers the same; the newest `limit` messages come first, older ones "
                "with `before`.")


def register_sandbox_routes(router: Router, phones: SandboxPhones) -> None:
    async def send(request: Request) -> dict[str, Any]:
        return await phones.send(request.account, request.args.number, request.data)

    async def read(request: Request) -> dict[str, Any]:
        return await phones.read(request.account, request.args.number, request.data)

    async def typing(request: Request) -> dict[str, Any]:
        return await phones.typing(request.account, request.args.number, request.data)

    async def deliver(request: Request) -> dict[str, Any]:
        return await phones.deliver(request.account, request.args.number, request.data)

    async def react(request: Request) -> dict[str, Any]:
        return await phones.react(request.account, request.args.number, request.data)

    async def view(request: Request) -> dict[str, Any]:
        query = request.args
        return await phones.view(request.account, query.number, before=query.before,
                                 limit=query.limit)

    router.endpoint(PHONE_SENDS, send)
    router.endpoint(PHONE_READS, read)
    router.endpoint(PHONE_TYPES, typing)
    router.endpoint(PHONE_DELIVERS, deliver)
    router.endpoint(PHONE_REACTS, react)
    router.endpoint(PHONE_VIEW, view)
