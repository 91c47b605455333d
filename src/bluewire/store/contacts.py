"""Queries on contacts: who an account knows, and who opted out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Connection, delete, func, select, update

from ..domain.contacts import Contact
from .schema import contacts
from .writer import Tx


def contact_from_row(row: Any) -> Contact:
    return Contact(
        id=row.id, contact_id=row.contact_id, account_id=row.account_id, number=row.number,
        first_name=row.first_name, last_name=row.last_name, company_name=row.company_name,
        assigned_to_email=row.assigned_to_email, sendblue_number=row.sendblue_number,
        custom_variables=msgspec.json.decode(row.custom_variables) if row.custom_variables
        else {},
        tags=msgspec.json.decode(row.tags) if row.tags else [],
        opted_out=bool(row.opted_out), verified=bool(row.verified),
        created_at=row.created_at, updated_at=row.updated_at,
    )


def contact_values(contact: Contact) -> dict[str, Any]:
    """The column values of a contact row (without its id)."""
    return {
        "contact_id": contact.contact_id, "account_id": contact.account_id,
        "number": contact.number, "first_name": contact.first_name,
        "last_name": contact.last_name, "company_name": contact.company_name,
        "assigned_to_email": contact.assigned_to_email,
        "sendblue_number": contact.sendblue_number,
        "custom_variables": msgspec.json.encode(contact.custom_variables).decode()
        if contact.custom_variables else None,
        "tags": msgspec.json.encode(contact.tags).decode() if contact.tags else None,
        "opted_out": contact.opted_out, "verified": contact.verified,
        "created_at": contact.created_at, "updated_at": contact.updated_at,
    }


_INSERT_IF_NEW = (
    "INSERT INTO contacts (contact_id, account_id, number, sendblue_number, opted_out, verified, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (account_id, number) DO NOTHING RETURNING id"
)


def insert_if_new(tx: Tx, contact: Contact) -> bool:
    """Add `contact` unless the account knows the number already; whether it was added."""
    rows = tx.query(_INSERT_IF_NEW, (contact.contact_id, contact.account_id, contact.number,
                                     contact.sendblue_number, False, False, contact.created_at,
                                     contact.updated_at))
    if rows:
        contact.id = rows[0][0]
    return bool(rows)


def contact_of(conn: Connection | Tx, account_id: int, number: str) -> Contact | None:
    row = conn.execute(select(contacts).where(contacts.c.account_id == account_id,
                                              contacts.c.number == number)).first()
    return contact_from_row(row) if row else None


def accounts_knowing(tx: Tx, number: str, account_ids: Iterable[int]) -> list[int]:
    """Which of `account_ids` have `number` as a contact."""
    wanted = list(account_ids)
    if not wanted:
        return []
    marks = ", ".join("?" * len(wanted))
    rows = tx.query(f"SELECT account_id FROM contacts WHERE number = ? AND account_id IN "
                    f"({marks})", (number, *wanted))
    return [row[0] for row in rows]


def opted_out_numbers(conn: Connection | Tx, account_id: int) -> set[str]:
    rows = conn.execute(select(contacts.c.number).where(contacts.c.account_id == account_id,
                                                        contacts.c.opted_out.is_(True)))
    return {row.number for row in rows}


def set_opted_out(tx: Tx, account_id: int, number: str, opted_out: bool, now: int) -> bool:
    """Set a contact's opt-out flag; whether the contact exists."""
    result = tx.execute(update(contacts)
                        .where(contacts.c.account_id == account_id, contacts.c.number == number)
                        .values(opted_out=opted_out, updated_at=now))
    return bool(result.rowcount)


# -- the Contacts API (/api/v2/contacts) --------------------------------------------------------

_CONTACT_COLUMNS = tuple(contact_values(Contact(id=0, contact_id="", account_id=0, number="")))
_INSERT_CONTACT = (
    f"INSERT INTO contacts ({', '.join(_CONTACT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_CONTACT_COLUMNS))}) "
    "ON CONFLICT (account_id, number) DO NOTHING RETURNING id"
)

# The sort keys of the contact list, by the column they sort on.
CONTACT_ORDER_COLUMNS = {
    "created_at": contacts.c.created_at,
    "updated_at": contacts.c.updated_at,
    "phone": contacts.c.number,
    "first_name": contacts.c.first_name,
    "last_name": contacts.c.last_name,
}


@dataclass(frozen=True, slots=True)
class ContactFilter:
    account_id: int
    contact_id: str | None = None
    number: str | None = None
    created_gte: int | None = None


def insert_contact(tx: Tx, contact: Contact) -> bool:
    """Add `contact` with all its fields unless the account has the number already; whether it
    was added (then `contact.id` is set)."""
    values = contact_values(contact)
    rows = tx.query(_INSERT_CONTACT, tuple(values[name] for name in _CONTACT_COLUMNS))
    if rows:
        contact.id = rows[0][0]
    return bool(rows)


def save_contact(tx: Tx, contact: Contact) -> None:
    """Write every field of an existing contact (found by its row id and account)."""
    values = contact_values(contact)
    for fixed in ("contact_id", "account_id", "number", "created_at"):
        del values[fixed]
    tx.execute(update(contacts)
               .where(contacts.c.id == contact.id, contacts.c.account_id == contact.account_id)
               .values(**values))


def contacts_by_numbers(tx: Tx, account_id: int, numbers: Iterable[str]) -> dict[str, Contact]:
    wanted = sorted(set(numbers))
    found: dict[str, Contact] = {}
    for start in range(0, len(wanted), 500):
        rows = tx.execute(select(contacts).where(contacts.c.account_id == account_id,
                                                 contacts.c.number.in_(wanted[start:start + 500])))
        found.update((row.number, contact_from_row(row)) for row in rows)
    return found


def delete_contacts(tx: Tx, account_id: int, numbers: Iterable[str] = (),
                    contact_ids: Iterable[str] = ()) -> list[str]:
    """Delete the account's contacts with these numbers or contact ids; the numbers deleted."""
    numbers, contact_ids = list(numbers), list(contact_ids)
    deleted: list[str] = []
    for column, keys in ((contacts.c.number, numbers), (contacts.c.contact_id, contact_ids)):
        for start in range(0, len(keys), 500):
            rows = tx.execute(delete(contacts)
                              .where(contacts.c.account_id == account_id,
                                     column.in_(keys[start:start + 500]))
                              .returning(contacts.c.number))
            deleted.extend(row.number for row in rows)
    return deleted


def set_verified(tx: Tx, account_id: int, number: str, now: int) -> bool:
    """Mark a contact verified; whether the contact exists."""
    result = tx.execute(update(contacts)
                        .where(contacts.c.account_id == account_id, contacts.c.number == number)
                        .values(verified=True, updated_at=now))
    return bool(result.rowcount)


def count_contacts(conn: Connection, account_id: int) -> int:
    return conn.execute(select(func.count()).select_from(contacts)
                        .where(contacts.c.account_id == account_id)).scalar_one()


def list_contacts(conn: Connection, flt: ContactFilter, *, order_by: str, descending: bool,
                  limit: int, offset: int) -> list[Contact]:
    query = select(contacts).where(contacts.c.account_id == flt.account_id)
    if flt.contact_id is not None:
        query = query.where(contacts.c.contact_id == flt.contact_id)
    if flt.number is not None:
        query = query.where(contacts.c.number == flt.number)
    if flt.created_gte is not None:
        query = query.where(contacts.c.created_at >= flt.created_gte)
    column = CONTACT_ORDER_COLUMNS[order_by]
    keys = (column, contacts.c.id)
    query = query.order_by(*(key.desc() if descending else key.asc() for key in keys))
    return [contact_from_row(row) for row in conn.execute(query.limit(limit).offset(offset))]


def mark_verified(tx: Tx, account_id: int, number: str, now: int) -> None:
    """The contact has written to us: verified (a no-op once it is)."""
    tx.execute_many("UPDATE contacts SET verified = ?, updated_at = ? WHERE account_id = ? "
                    "AND number = ? AND verified = ?", [(True, now, account_id, number, False)])
