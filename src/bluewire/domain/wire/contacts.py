"""Contacts: `/api/v2/contacts` and the CLI's shared-line contacts.

A contact field the client leaves out is UNSET (not changed); `null` or an empty string clears
it. The deprecated camelCase names Sendblue's docs still list are read too; the snake_case name
wins when a body gives both.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from .common import E164_PATTERN, Moment, Timestamp, e164

MAX_BULK = 1000
DEFAULT_PAGE = 100
MAX_PAGE = 1000
MAX_OFFSET = 10_000

# The names `order_by` takes (snake_case and camelCase; the domain maps them to columns).
OrderBy = Literal["created_at", "createdAt", "updated_at", "updatedAt", "phone", "number",
                  "phone_number", "phoneNumber", "first_name", "firstName", "last_name",
                  "lastName"]

_EMAIL = {"format": "email"}
_LINE = {"pattern": E164_PATTERN}


def _deprecated(name: str) -> Meta:
    return Meta(description=f"Deprecated: use `{name}`", extra_json_schema={"deprecated": True})


_Text = str | None | UnsetType
FirstName = Annotated[_Text, Meta(description="First name")]
LastName = Annotated[_Text, Meta(description="Last name")]
CompanyName = Annotated[_Text, Meta(description="Company name")]
AssignedToEmail = Annotated[_Text, Meta(description="Email of the user the contact is "
                                                    "assigned to", extra_json_schema=_EMAIL)]
SendblueNumber = Annotated[_Text, Meta(description="The line to reach the contact from: one "
                                                   "of your lines, E.164",
                                       extra_json_schema=_LINE)]
# Values are checked by the domain, whose errors name the variable (`custom_variables.age`).
CustomVariables = Annotated[dict[str, Any] | UnsetType, Meta(
    description="Merged into the contact's variables; a null value removes that variable",
    extra_json_schema={"additionalProperties": {"type": ["string", "null"]}})]
Tags = Annotated[list[str] | UnsetType, Meta(
    description="Replaces the contact's tags (trimmed; empty and repeated ones dropped)")]


class ContactFields(msgspec.Struct, kw_only=True):
    """The writable fields of a contact."""

    first_name: FirstName = UNSET
    last_name: LastName = UNSET
    company_name: CompanyName = UNSET
    assigned_to_email: AssignedToEmail = UNSET
    sendblue_number: SendblueNumber = UNSET
    custom_variables: CustomVariables = UNSET
    tags: Tags = UNSET
    firstName: Annotated[FirstName, _deprecated("first_name")] = UNSET
    lastName: Annotated[LastName, _deprecated("last_name")] = UNSET
    companyName: Annotated[CompanyName, _deprecated("company_name")] = UNSET
    assignedToEmail: Annotated[AssignedToEmail, _deprecated("assigned_to_email")] = UNSET
    sendblueNumber: Annotated[SendblueNumber, _deprecated("sendblue_number")] = UNSET


class NewContact(ContactFields, kw_only=True):
    """POST /api/v2/contacts. `number` is required (or one of its deprecated names)."""

    number: Annotated[str | None, e164("The contact's number, E.164")] = None
    phone_number: Annotated[str | None, _deprecated("number")] = None
    phoneNumber: Annotated[str | None, _deprecated("number")] = None
    update_if_exists: Annotated[bool | None, Meta(
        description="Update the contact if it exists (default: a 409 CONTACT_EXISTS)")] = None


class ContactChange(ContactFields, kw_only=True):
    """PUT /api/v2/contacts/{phone_number}: the fields to change (none: nothing changes)."""

    opt_out: Annotated[bool | UnsetType, Meta(
        description="Opt the contact out of messages (the record an inbound STOP sets), or "
                    "back in")] = UNSET
    optOut: Annotated[bool | UnsetType, _deprecated("opt_out")] = UNSET


class BulkContact(ContactFields, kw_only=True):
    """One contact of POST /api/v2/contacts/bulk. `phone` is required."""

    phone: Annotated[str | None, e164("The contact's number, E.164")] = None
    number: Annotated[str | None, _deprecated("phone")] = None


class BulkCreate(msgspec.Struct, kw_only=True):
    contacts: Annotated[list[BulkContact], Meta(
        max_length=MAX_BULK, description="Added, or updated with the fields given if they "
                                         "exist; all or nothing")]


class BulkDelete(msgspec.Struct, kw_only=True):
    contact_ids: Annotated[list[str], Meta(
        max_length=MAX_BULK, description="E.164 numbers (or contact ids, `ct_…`); unknown "
                                         "ones are skipped")]


class OptOut(msgspec.Struct, kw_only=True):
    number: Annotated[str, e164("The number, E.164")]
    opted_out: Annotated[bool | None, Meta(
        description="false opts the number back in (default true)")] = None


class VerifyContact(msgspec.Struct, kw_only=True):
    number: Annotated[str, e164("The number, E.164")]


class SharedContact(msgspec.Struct, kw_only=True):
    """POST /accounts/verify-contact-on-shared-account. `recipient` is required."""

    recipient: Annotated[str | None, e164("The contact's number, E.164")] = None
    number: Annotated[str | None, _deprecated("recipient")] = None


class ContactNumber(msgspec.Struct, kw_only=True):
    phone_number: Annotated[str, e164(
        "The contact's number, E.164. A literal `+` (as the SDK sends it) and `%2B` both "
        "work.")]


class ListContactsQuery(msgspec.Struct, kw_only=True):
    """GET /api/v2/contacts: filters (all optional), order and page."""

    cid: Annotated[str | None, Meta(description="Only the contact with this contact_id")] = None
    phone_number: Annotated[str | None, e164("Only the contact with this number")] = None
    created_at_gte: Annotated[Moment | None, Meta(
        description="Created at or after (ISO 8601 with a time zone)")] = None
    order_by: Annotated[OrderBy | None, Meta(
        description="Sort field (default created_at)")] = None
    order_direction: Annotated[Literal["asc", "desc"] | None, Meta(
        description="Sort direction (default desc)")] = None
    limit: Annotated[int, Meta(ge=1, description=f"Page size (default {DEFAULT_PAGE}; more "
                                                 f"than {MAX_PAGE} is served as {MAX_PAGE})")
                     ] = DEFAULT_PAGE
    offset: Annotated[int, Meta(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0


# -- answers --------------------------------------------------------------------------------------


class Contact(msgspec.Struct, kw_only=True):
    """A contact as Sendblue's docs describe it."""

    contact_id: Annotated[str, Meta(description="Immutable (`ct_…`)")]
    phone: Annotated[str, Meta(description="E.164")]
    first_name: str | None
    last_name: str | None
    company_name: str | None
    assigned_to_email: str | None
    sendblue_number: str | None
    custom_variables: dict[str, str]
    tags: list[str]
    opt_out: bool
    verified: bool
    created_at: Timestamp


class ContactAnswer(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    contact: Contact


class ContactCreated(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    contact: Contact
    created: Annotated[bool, Meta(description="false when an existing contact was updated")]


class ContactCount(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    count: int


class OptOutState(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    number: str
    opted_out: bool


class BulkCreated(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    contacts: Annotated[list[Contact], Meta(description="In the order given (once each)")]
    created: int
    updated: int


class BulkDeleted(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    amount: Annotated[int, Meta(description="How many were deleted")]


class ContactRoute(msgspec.Struct, kw_only=True):
    """A contact as the CLI lists it."""

    id: int
    number: str
    verified: bool
    createdAt: Timestamp


class SharedContacts(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    sharedNumber: Annotated[str | None, Meta(description="The account's shared line, if any")]
    contacts: Annotated[list[ContactRoute], Meta(
        description="The newest 1000 contacts, oldest first")]


class SharedContactAdded(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    route: ContactRoute
