"""`/api/v2/contacts` (reference §3.12) and the CLI's shared-line contacts (§3.16).

The fixed paths (`/count`, `/opt-out`, `/verify`, `/bulk`) are exact routes, which the Router
tries before the `/{phone_number}` pattern. A method they do not serve would otherwise fall to
the pattern and be read as a phone number, so the pattern's handlers answer 405 for them.
"""

from __future__ import annotations

from typing import Any

from ..domain.errors import ApiError
from ..services.contacts import ContactService
from .http import Request, Router

BASE = "/api/v2/contacts"
_FIXED = ("count", "opt-out", "verify", "bulk")


def register_contact_routes(router: Router, service: ContactService) -> None:
    async def create(request: Request) -> dict[str, Any]:
        return await service.create(request.account, request.json())

    async def list_contacts(request: Request) -> list[dict[str, Any]]:
        return await service.list(request.account, request.query)

    async def bulk_delete(request: Request) -> dict[str, Any]:
        return await service.bulk_delete(request.account, request.json())

    async def count(request: Request) -> dict[str, Any]:
        return await service.count(request.account)

    async def opt_out(request: Request) -> dict[str, Any]:
        return await service.opt_out(request.account, request.json())

    async def verify(request: Request) -> dict[str, Any]:
        return await service.verify(request.account, request.json())

    async def bulk_create(request: Request) -> dict[str, Any]:
        return await service.bulk_create(request.account, request.json())

    async def retrieve(request: Request) -> dict[str, Any]:
        return await service.retrieve(request.account, _phone(request))

    async def update(request: Request) -> dict[str, Any]:
        phone = _phone(request)
        return await service.update(request.account, phone, request.json(allow_empty=True))

    async def delete(request: Request) -> dict[str, Any]:
        # The SDK sends `Content-Type: application/json` with an empty body: it is not read.
        return await service.delete(request.account, _phone(request))

    async def shared_contacts(request: Request) -> dict[str, Any]:
        return await service.shared_contacts(request.account)

    async def add_shared_contact(request: Request) -> dict[str, Any]:
        return await service.add_shared_contact(request.account, request.json())

    router.add("POST", BASE, create)
    router.add("GET", BASE, list_contacts)
    router.add("DELETE", BASE, bulk_delete)
    router.add("GET", f"{BASE}/count", count)
    router.add("POST", f"{BASE}/opt-out", opt_out)
    router.add("POST", f"{BASE}/verify", verify)
    router.add("POST", f"{BASE}/bulk", bulk_create)
    router.add("GET", f"{BASE}/{{phone_number}}", retrieve)
    router.add("PUT", f"{BASE}/{{phone_number}}", update)
    router.add("DELETE", f"{BASE}/{{phone_number}}", delete)
    router.add("GET", "/accounts/shared-contacts", shared_contacts)
    router.add("POST", "/accounts/verify-contact-on-shared-account", add_shared_contact)


def _phone(request: Request) -> str:
    phone = request.params["phone_number"]
    if phone in _FIXED:
        raise ApiError(405, f"{request.method} is not allowed on {request.path}")
    return phone
