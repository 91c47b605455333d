"""What the Contacts API accepts, beyond what its wire types (`wire/contacts.py`) say: the
deprecated camelCase aliases resolved, text trimmed (empty clears), emails, numbers, custom
variables and tags checked with an error that names the field, and the list query's order.

Pure: no I/O. Whether a `sendblue_number` is a line of the account is the service's check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from msgspec import UNSET

from .contacts import Contact
from .errors import validation_error
from .phones import require_number
from .query import parse_moment
from .wire.contacts import MAX_PAGE, ContactChange, ContactFields, ListContactsQuery, OrderBy

# Text fields: the preferred snake_case name, then its deprecated camelCase alias (Sendblue's
# docs list both; the SDK sends either).
TEXT_FIELDS: dict[str, str] = {
    "first_name": "firstName",
    "last_name": "lastName",
    "company_name": "companyName",
    "assigned_to_email": "assignedToEmail",
    "sendblue_number": "sendblueNumber",
}

ORDER_BY = {
    "created_at": "created_at", "createdAt": "created_at",
    "updated_at": "updated_at", "updatedAt": "updated_at",
    "phone": "phone", "number": "phone", "phone_number": "phone", "phoneNumber": "phone",
    "first_name": "first_name", "firstName": "first_name",
    "last_name": "last_name", "lastName": "last_name",
}
assert set(ORDER_BY) == set(OrderBy.__args__)  # type: ignore[attr-defined]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(slots=True)
class ContactChanges:
    """The fields a request sets. A text field set to None is cleared; a custom variable set to
    None is removed (custom variables are merged, tags replaced)."""

    text: dict[str, str | None] = field(default_factory=dict)
    custom_variables: dict[str, str | None] | None = None
    tags: list[str] | None = None
    opt_out: bool | None = None

    @property
    def sendblue_number(self) -> str | None:
        return self.text.get("sendblue_number")

    def apply(self, contact: Contact) -> None:
        """Set the fields on `contact` (not `opt_out`: that goes through the ContactBook)."""
        for name, value in self.text.items():
            setattr(contact, name, value)
        if self.custom_variables is not None:
            merged = dict(contact.custom_variables)
            for key, value in self.custom_variables.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            contact.custom_variables = merged
        if self.tags is not None:
            contact.tags = list(self.tags)


def parse_changes(fields: ContactFields, *, where: str = "") -> ContactChanges:
    """The contact fields a request sets (`where` prefixes field names in errors, e.g.
    `contacts[2].`). `opt_out` is read only from a change of a contact (PUT)."""
    changes = ContactChanges()
    for name, alias in TEXT_FIELDS.items():
        key, value = _aliased(fields, name, alias)
        if key is not None:
            changes.text[name] = _field(name, value, where + key)
    if fields.custom_variables is not UNSET:
        changes.custom_variables = _custom_variables(fields.custom_variables,
                                                     where + "custom_variables")
    if fields.tags is not UNSET:
        changes.tags = _tags(fields.tags)
    if isinstance(fields, ContactChange):
        opt_out = fields.optOut if fields.opt_out is UNSET else fields.opt_out
        changes.opt_out = None if opt_out is UNSET else opt_out
    return changes


def parse_number(given: Mapping[str, str | None], *, where: str = "") -> str:
    """The contact's number: the first of `given` (its name, then its deprecated names) that is
    present; an error names the key it was read from, or the first if none is."""
    for key, value in given.items():
        if value is not None:
            return require_number(value, where + key)
    return require_number(None, where + next(iter(given)))


def path_number(raw: str) -> str:
    """The number of a `/api/v2/contacts/{phone_number}` path. The SDK sends `+` literally;
    a client that form-decoded the path turned it into a space, which is taken as the `+`."""
    if raw.startswith(" ") and raw.strip()[:1].isdigit():
        raw = "+" + raw.strip()
    return require_number(raw, "phone_number", recipient=False)


@dataclass(frozen=True, slots=True)
class ListQuery:
    contact_id: str | None
    number: str | None
    created_gte: int | None
    order_by: str
    descending: bool
    limit: int
    offset: int


def parse_list_query(query: ListContactsQuery) -> ListQuery:
    phone = query.phone_number
    return ListQuery(
        contact_id=query.cid or None,
        number=require_number(phone, "phone_number", recipient=False) if phone else None,
        created_gte=parse_moment(query.created_at_gte, "created_at_gte"),
        order_by=ORDER_BY[query.order_by or "created_at"],
        descending=query.order_direction != "asc",
        # "Defaults to 100, capped at 1000" (SDK): a larger limit is served as 1000.
        limit=min(query.limit, MAX_PAGE),
        offset=query.offset,
    )


def _aliased(fields: ContactFields, name: str, alias: str) -> tuple[str | None, Any]:
    """The key a field was given under and its value: its name, else its alias (None:
    neither)."""
    value = getattr(fields, name)
    if value is not UNSET:
        return name, value
    value = getattr(fields, alias)
    return (alias, value) if value is not UNSET else (None, None)


def _field(field_name: str, value: str | None, name: str) -> str | None:
    """A text field's value (None: cleared); `name` is how errors call it."""
    text = (value or "").strip()
    if not text:
        return None
    if field_name == "assigned_to_email" and not _EMAIL.match(text):
        raise validation_error(f"`{name}` must be an email address")
    if field_name == "sendblue_number":
        return require_number(text, name, recipient=False)
    return text


def _custom_variables(value: dict[str, Any], name: str) -> dict[str, str | None]:
    variables: dict[str, str | None] = {}
    for key, item in value.items():
        if not key.strip():
            raise validation_error(f"`{name}` keys must not be empty")
        if item is not None and not isinstance(item, str):
            raise validation_error(f"`{name}.{key}` must be a string (or null to remove it)")
        variables[key] = item
    return variables


def _tags(value: list[str]) -> list[str]:
    """Trimmed, without empty or repeated ones, in the order given."""
    return list(dict.fromkeys(tag for tag in (item.strip() for item in value) if tag))
