"""Contacts: who an account knows, the wire shape of a contact, and opt-out keywords."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .payloads import iso

# An inbound message that is one of these words (case and surrounding space aside) opts its
# sender out of the account's messages, or back in (the carriers' usual set).
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})


def opt_out_change(content: str | None) -> bool | None:
    """True if `content` opts out, False if it opts back in, None if it is neither."""
    word = (content or "").strip().strip(".!").upper()
    if word in OPT_OUT_WORDS:
        return True
    if word in OPT_IN_WORDS:
        return False
    return None


@dataclass(slots=True)
class Contact:
    id: int
    contact_id: str
    account_id: int
    number: str
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    assigned_to_email: str | None = None
    sendblue_number: str | None = None
    custom_variables: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    opted_out: bool = False
    verified: bool = False
    created_at: int = 0
    updated_at: int = 0


def contact_payload(contact: Contact) -> dict[str, Any]:
    """The reference's `Contact` object."""
    return {
        "contact_id": contact.contact_id,
        "phone": contact.number,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "company_name": contact.company_name,
        "assigned_to_email": contact.assigned_to_email,
        "sendblue_number": contact.sendblue_number,
        "custom_variables": contact.custom_variables,
        "tags": contact.tags,
        "opt_out": contact.opted_out,
        "verified": contact.verified,
        "created_at": iso(contact.created_at),
    }


def contact_event_data(contact: Contact) -> dict[str, Any]:
    """`data` of a contact.created event, and the `contact_created` webhook's payload."""
    shaped = contact_payload(contact)
    return {"contact_id": contact.contact_id, "phone": contact.number,
            "first_name": contact.first_name, "last_name": contact.last_name,
            "created_at": shaped["created_at"], "contact": shaped}
