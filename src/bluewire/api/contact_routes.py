"""`/api/v2/contacts` (as Sendblue's docs describe it) and the CLI's shared-line contacts.

The fixed paths (`/count`, `/opt-out`, `/verify`, `/bulk`) are exact routes, which the Router
tries before the `/{phone_number}` pattern. A method they do not serve would otherwise fall to
the pattern and be read as a phone number, so the pattern's handlers answer 405 for them.
"""

from __future__ import annotations

from typing import Any

from ..domain.errors import ApiError
from ..domain.wire.common import Ok
from ..domain.wire.contacts import (
    BulkCreate,
    BulkCreated,
    BulkDelete,
    BulkDeleted,
    Contact,
    ContactAnswer,
    ContactChange,
    ContactCount,
    ContactCreated,
    ContactNumber,
    ListContactsQuery,
    NewContact,
    OptOut,
    OptOutState,
    SharedContact,
    SharedContactAdded,
    SharedContacts,
    VerifyContact,
)
from ..services.contacts import ContactService
from .endpoint import Endpoint
from .http import Request, Router

BASE = "/api/v2/contacts"
ONE = f"{BASE}/{{phone_number}}"
_FIXED = ("count", "opt-out", "verify", "bulk")
TAG = "Contacts"
SHARED = "Shared line"

CREATE = Endpoint(
    "POST", BASE, "Add a contact (or update it, with update_if_exists)", TAG,
    body=NewContact, response=ContactCreated, errors=(400, 401, 409),
    description="A new contact emits a `contact.created` event and `contact_created` "
                "webhooks. A contact that exists is a 409 (`error_key` CONTACT_EXISTS) unless "
                "`update_if_exists` is true.")
LIST = Endpoint("GET", BASE, "The account's contacts (a bare array)", TAG,
                params=ListContactsQuery, response=list[Contact])
BULK_DELETE = Endpoint("DELETE", BASE, "Delete contacts", TAG, body=BulkDelete,
                       response=BulkDeleted)
COUNT = Endpoint("GET", f"{BASE}/count", "How many contacts the account has", TAG,
                 response=ContactCount, errors=(401,))
OPT_OUT = Endpoint(
    "POST", f"{BASE}/opt-out", "Opt a number out, or back in", TAG, body=OptOut,
    response=OptOutState,
    description="Sends to an opted-out number are refused (`error_code` 4002, `error_key` "
                "OPTED_OUT). A number that is not a contact yet becomes one, opted out; "
                "`opted_out: false` opts it back in.")
VERIFY = Endpoint("POST", f"{BASE}/verify", "Mark a contact verified (adding it if needed)",
                  TAG, body=VerifyContact, response=ContactAnswer)
BULK_CREATE = Endpoint(
    "POST", f"{BASE}/bulk", "Add contacts; existing ones are updated with the fields given",
    TAG, body=BulkCreate, response=BulkCreated,
    description="All or nothing: an invalid item refuses the whole request, naming the item.")
RETRIEVE = Endpoint("GET", ONE, "One contact", TAG, params=ContactNumber,
                    response=ContactAnswer, errors=(400, 401, 404))
UPDATE = Endpoint(
    "PUT", ONE, "Change a contact", TAG, params=ContactNumber, body=ContactChange,
    body_required=False, response=ContactAnswer, errors=(400, 401, 404),
    description="Only the fields given change: custom variables are merged (a null value "
                "removes one), tags replaced; null or an empty string clears a text field.")
DELETE = Endpoint("DELETE", ONE, "Delete a contact (any body is ignored)", TAG,
                  params=ContactNumber, response=Ok, errors=(400, 401, 404))
SHARED_CONTACTS = Endpoint(
    "GET", "/accounts/shared-contacts", "The shared line and its contacts", SHARED,
    response=SharedContacts, errors=(401,),
    description="What the CLI's `contacts` command lists: the newest 1000 contacts, oldest "
                "first.")
ADD_SHARED_CONTACT = Endpoint(
    "POST", "/accounts/verify-contact-on-shared-account", "Add a contact to the shared line",
    SHARED, body=SharedContact, response=SharedContactAdded,
    description="The CLI's `add-contact`; a contact that exists is kept as it is.")


def register_contact_routes(router: Router, service: ContactService) -> None:
    async def create(request: Request) -> dict[str, Any]:
        return await service.create(request.account, request.data)

    async def list_contacts(request: Request) -> list[dict[str, Any]]:
        return await service.list(request.account, request.args)

    async def bulk_delete(request: Request) -> dict[str, Any]:
        return await service.bulk_delete(request.account, request.data)

    async def count(request: Request) -> dict[str, Any]:
        return await service.count(request.account)

    async def opt_out(request: Request) -> dict[str, Any]:
        return await service.opt_out(request.account, request.data)

    async def verify(request: Request) -> dict[str, Any]:
        return await service.verify(request.account, request.data)

    async def bulk_create(request: Request) -> dict[str, Any]:
        return await service.bulk_create(request.account, request.data)

    async def retrieve(request: Request) -> dict[str, Any]:
        return await service.retrieve(request.account, _phone(request))

    async def update(request: Request) -> dict[str, Any]:
        return await service.update(request.account, _phone(request), request.data)

    async def delete(request: Request) -> dict[str, Any]:
        # The SDK sends `Content-Type: application/json` with an empty body: it is not read.
        return await service.delete(request.account, _phone(request))

    async def shared_contacts(request: Request) -> dict[str, Any]:
        return await service.shared_contacts(request.account)

    async def add_shared_contact(request: Request) -> dict[str, Any]:
        return await service.add_shared_contact(request.account, request.data)

    router.endpoint(CREATE, create)
    router.endpoint(LIST, list_contacts)
    router.endpoint(BULK_DELETE, bulk_delete)
    router.endpoint(COUNT, count)
    router.endpoint(OPT_OUT, opt_out)
    router.endpoint(VERIFY, verify)
    router.endpoint(BULK_CREATE, bulk_create)
    router.endpoint(RETRIEVE, retrieve)
    router.endpoint(UPDATE, update)
    router.endpoint(DELETE, delete)
    router.endpoint(SHARED_CONTACTS, shared_contacts)
    router.endpoint(ADD_SHARED_CONTACT, add_shared_contact)


def _phone(request: Request) -> str:
    phone: str = request.args.phone_number
    if phone in _FIXED:
        raise ApiError(405, f"{request.method} is not allowed on {request.path}")
    return phone
