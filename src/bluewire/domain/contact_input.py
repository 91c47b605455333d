"""What the Contacts API accepts: contact fields with their deprecated camelCase aliases,
custom variables, tags and the list query, each checked with an error that names the field.

Pure: no I/O. Whether a `sendblue_number` is a line of the account is the service's check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .contacts import Contact
from .errors import validation_error
from .phones import require_number
from .query import parse_moment, parse_whole_number

# Text fields: the preferred snake_case name, then its deprecated camelCase alias (reference
# §3.12; the SDK sends either).
TEXT_FIELDS: dict[str, str] = {
    "first_name": "firstName",
    "last_name": "lastName",
    "company_name": "companyName",
    "assigned_to_email": "assignedToEmail",
    "sendblue_number": "sendblueNumber",
}
NUMBER_ALIASES = ("phone_number", "phoneNumber")

DEFAULT_PAGE = 100
MAX_PAGE = 1000
MAX_OFFSET = 10_000
MAX_BULK = 1000

ORDER_BY = {
    "created_at": "created_at", "createdAt": "created_at",
    "updated_at": "updated_at", "updatedAt": "updated_at",
    "phone": "phone", "number": "phone", "phone_number": "phone", "phoneNumber": "phone",
    "first_name": "first_name", "firstName": "first_name",
    "last_name": "last_name", "lastName": "last_name",
}

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


def parse_changes(body: Mapping[str, Any], *, where: str = "",
                  allow_opt_out: bool = False) -> ContactChanges:
    """The contact fields of a request body (`where` prefixes field names in errors, e.g.
    `contacts[2].`)."""
    changes = ContactChanges()
    for name, alias in TEXT_FIELDS.items():
        key = _aliased(body, name, alias)
        if key is not None:
            changes.text[name] = _field(name, body[key], where + key)
    if "custom_variables" in body:
        changes.custom_variables = _custom_variables(body["custom_variables"],
                                                     where + "custom_variables")
    if "tags" in body:
        changes.tags = _tags(body["tags"], where + "tags")
    if allow_opt_out:
        key = _aliased(body, "opt_out", "optOut")
        if key is not None:
            changes.opt_out = require_bool(body[key], where + key)
    return changes


def parse_number(body: Mapping[str, Any], name: str = "number",
                 aliases: tuple[str, ...] = (), *, where: str = "") -> str:
    """The contact's number: `name`, else the first alias present (deprecated names)."""
    for key in (name, *aliases):
        if body.get(key) is not None:
            return require_number(body[key], where + key)
    return require_number(None, where + name)


def path_number(raw: str) -> str:
    """The number of a `/api/v2/contacts/{phone_number}` path. The SDK sends `+` literally;
    a client that form-decoded the path turned it into a space, which is taken as the `+`."""
    if raw.startswith(" ") and raw.strip()[:1].isdigit():
        raw = "+" + raw.strip()
    return require_number(raw, "phone_number", recipient=False)


def require_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise validation_error(f"`{name}` must be true or false")
    return value


def require_list(value: object, name: str, *, limit: int = MAX_BULK) -> list[Any]:
    if not isinstance(value, list):
        raise validation_error(f"`{name}` is required and must be an array")
    if len(value) > limit:
        raise validation_error(f"`{name}` holds {len(value)} items; at most {limit} a request")
    return value


@dataclass(frozen=True, slots=True)
class ListQuery:
    contact_id: str | None
    number: str | None
    created_gte: int | None
    order_by: str
    descending: bool
    limit: int
    offset: int


def parse_list_query(query: Mapping[str, str]) -> ListQuery:
    order = query.get("order_by") or "created_at"
    if order not in ORDER_BY:
        raise validation_error("`order_by` must be one of: " + ", ".join(ORDER_BY))
    direction = query.get("order_direction") or "desc"
    if direction not in ("asc", "desc"):
        raise validation_error("`order_direction` must be asc or desc")
    phone = query.get("phone_number")
    return ListQuery(
        contact_id=query.get("cid") or None,
        number=require_number(phone, "phone_number", recipient=False) if phone else None,
        created_gte=parse_moment(query.get("created_at_gte"), "created_at_gte"),
        order_by=ORDER_BY[order],
        descending=direction == "desc",
        # "Defaults to 100, capped at 1000" (SDK): a larger limit is served as 1000.
        limit=min(parse_whole_number(query, "limit", 1) or DEFAULT_PAGE, MAX_PAGE),
        offset=parse_whole_number(query, "offset", 0, MAX_OFFSET) or 0,
    )


def _aliased(body: Mapping[str, Any], name: str, alias: str) -> str | None:
    """The key the body gives a field under: its name, else its alias (None: neither)."""
    if name in body:
        return name
    return alias if alias in body else None


def _field(field_name: str, value: object, name: str) -> str | None:
    """A text field's value (None: cleared); `name` is how errors call it."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation_error(f"`{name}` must be a string")
    text = value.strip()
    if not text:
        return None
    if field_name == "assigned_to_email" and not _EMAIL.match(text):
        raise validation_error(f"`{name}` must be an email address")
    if field_name == "sendblue_number":
        return require_number(text, name, recipient=False)
    return text


def _custom_variables(value: object, name: str) -> dict[str, str | None]:
    if not isinstance(value, dict):
        raise validation_error(f"`{name}` must be an object of string values")
    variables: dict[str, str | None] = {}
    for key, item in value.items():
        if not key.strip():
            raise validation_error(f"`{name}` keys must not be empty")
        if item is not None and not isinstance(item, str):
            raise validation_error(f"`{name}.{key}` must be a string (or null to remove it)")
        variables[key] = item
    return variables


def _tags(value: object, name: str) -> list[str]:
    if not isinstance(value, list):
        raise validation_error(f"`{name}` must be an array of strings")
    tags: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise validation_error(f"`{name}[{index}]` must be a string")
        tag = item.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags
