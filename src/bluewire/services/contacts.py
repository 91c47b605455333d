"""The Contacts API (`/api/v2/contacts`, as Sendblue's docs describe it) and the CLI's
shared-line contacts: one account's contacts, created, read, changed, opted out, verified
and deleted.

Every new contact is announced (a `contact.created` event and `contact_created` webhooks) in the
transaction that adds it; a deleted one is forgotten by the ContactBook after commit, so the
next message to the number makes it a contact again. Every query is scoped to the account.
"""

from __future__ import annotations

from typing import Any

from ..domain import contact_input as wire
from ..domain.contact_input import ContactChanges
from ..domain.contacts import Contact, contact_payload
from ..domain.errors import ApiError, ErrorCode, not_found, validation_error
from ..domain.payloads import iso
from ..domain.phones import require_number
from ..domain.wire.contacts import (
    BulkCreate,
    BulkDelete,
    ContactChange,
    ContactFields,
    ListContactsQuery,
    NewContact,
    OptOut,
    SharedContact,
    VerifyContact,
)
from ..store import contacts as store
from ..store.accounts import Account
from ..store.contacts import ContactFilter
from ..store.database import Database, now_ms
from ..store.writer import Tx, Writer
from .contact_book import ContactBook, new_contact_id
from .lines import LineDirectory

OK = "OK"
MAX_SHARED_CONTACTS = 1000


class ContactService:
    def __init__(self, database: Database, writer: Writer, book: ContactBook,
                 lines: LineDirectory) -> None:
        self._database = database
        self._writer = writer
        self._book = book
        self._lines = lines

    # -- one contact ----------------------------------------------------------------------------

    async def create(self, account: Account, body: NewContact) -> dict[str, Any]:
        number = wire.parse_number({"number": body.number, "phone_number": body.phone_number,
                                    "phoneNumber": body.phoneNumber})
        changes = self._changes(account, body)
        update_if_exists = bool(body.update_if_exists)

        def op(tx: Tx) -> tuple[Contact, str]:
            contact = store.contact_of(tx, account.id, number)
            if contact is None:
                contact = self._add(tx, account.id, number, changes)
                if contact is not None:
                    return contact, "created"
                contact = _existing(tx, account.id, number)  # added meanwhile
            if not update_if_exists:
                return contact, "exists"
            self._change(tx, contact, changes)
            return contact, "updated"

        contact, outcome = await self._writer.submit(op)
        if outcome == "exists":
            raise ApiError(409, f"Contact {number} already exists: pass `update_if_exists: "
                           f"true` to update it, or PUT /api/v2/contacts/{number}",
                           error_code=ErrorCode.VALIDATION, error_key="CONTACT_EXISTS",
                           headers={"x-should-retry": "false"})
        return {"status": OK, "contact": contact_payload(contact),
                "created": outcome == "created"}

    async def retrieve(self, account: Account, raw_number: str) -> dict[str, Any]:
        number = wire.path_number(raw_number)
        contact = await self._database.read_async(
            lambda conn: store.contact_of(conn, account.id, number))
        if contact is None:
            raise _no_contact(number)
        return {"status": OK, "contact": contact_payload(contact)}

    async def update(self, account: Account, raw_number: str,
                     body: ContactChange) -> dict[str, Any]:
        number = wire.path_number(raw_number)
        changes = self._changes(account, body)

        def op(tx: Tx) -> Contact | None:
            contact = store.contact_of(tx, account.id, number)
            if contact is not None:
                self._change(tx, contact, changes)
            return contact

        contact = await self._writer.submit(op)
        if contact is None:
            raise _no_contact(number)
        return {"status": OK, "contact": contact_payload(contact)}

    async def delete(self, account: Account, raw_number: str) -> dict[str, Any]:
        number = wire.path_number(raw_number)
        deleted = await self._writer.submit(lambda tx: self._delete(tx, account.id, [number]))
        if not deleted:
            raise _no_contact(number)
        return {"status": OK}

    async def opt_out(self, account: Account, body: OptOut) -> dict[str, Any]:
        """Opt a number out (a number that is not yet a contact becomes one, opted out), or
        back in with `opted_out: false`."""
        number = require_number(body.number, "number")
        opted_out = body.opted_out is not False

        def op(tx: Tx) -> None:
            if self._book.set_opted_out(tx, account.id, number, opted_out) or not opted_out:
                return
            self._add(tx, account.id, number, ContactChanges(), opted_out=True)
            self._book.set_opted_out(tx, account.id, number, True)  # the cache hears it

        await self._writer.submit(op)
        return {"status": OK, "number": number, "opted_out": opted_out}

    async def verify(self, account: Account, body: VerifyContact) -> dict[str, Any]:
        """Mark a contact verified (a number that is not yet a contact becomes one)."""
        number = require_number(body.number, "number")
        contact = await self._writer.submit(lambda tx: self._verify(tx, account.id, number))
        return {"status": OK, "contact": contact_payload(contact)}

    # -- many -----------------------------------------------------------------------------------

    async def list(self, account: Account, query: ListContactsQuery) -> list[dict[str, Any]]:
        q = wire.parse_list_query(query)
        flt = ContactFilter(account_id=account.id, contact_id=q.contact_id, number=q.number,
                            created_gte=q.created_gte)
        found = await self._database.read_async(lambda conn: store.list_contacts(
            conn, flt, order_by=q.order_by, descending=q.descending, limit=q.limit,
            offset=q.offset))
        return [contact_payload(contact) for contact in found]

    async def count(self, account: Account) -> dict[str, Any]:
        total = await self._database.read_async(lambda conn: store.count_contacts(conn, account.id))
        return {"status": OK, "count": total}

    async def bulk_create(self, account: Account, body: BulkCreate) -> dict[str, Any]:
        """Create every contact given; one that exists already is updated with the fields
        given (custom variables merged). All or nothing."""
        wanted: list[tuple[str, ContactChanges]] = []
        for index, item in enumerate(body.contacts):
            where = f"contacts[{index}]."
            number = wire.parse_number({"phone": item.phone, "number": item.number},
                                       where=where)
            wanted.append((number, self._changes(account, item, where=where)))

        def op(tx: Tx) -> tuple[list[Contact], int]:
            known = store.contacts_by_numbers(tx, account.id, (n for n, _ in wanted))
            created = 0
            for number, changes in wanted:
                contact = known.get(number)
                if contact is None:
                    contact = self._add(tx, account.id, number, changes)
                    if contact is not None:
                        known[number] = contact
                        created += 1
                        continue
                    contact = known[number] = _existing(tx, account.id, number)
                self._change(tx, contact, changes)
            order = dict.fromkeys(number for number, _ in wanted)
            return [known[number] for number in order], created

        contacts, created = await self._writer.submit(op)
        return {"status": OK, "contacts": [contact_payload(c) for c in contacts],
                "created": created, "updated": len(contacts) - created}

    async def bulk_delete(self, account: Account, body: BulkDelete) -> dict[str, Any]:
        """Delete contacts by number (E.164), or by contact id (`ct_…`); unknown ones are
        skipped, so `amount` says how many were deleted."""
        numbers: list[str] = []
        contact_ids: list[str] = []
        for index, item in enumerate(body.contact_ids):
            if item.startswith("ct_"):
                contact_ids.append(item)
            else:
                numbers.append(require_number(item, f"contact_ids[{index}]", recipient=False))
        deleted = await self._writer.submit(
            lambda tx: self._delete(tx, account.id, numbers, contact_ids))
        return {"status": OK, "amount": deleted}

    # -- the shared line (CLI: `sendblue contacts`, `sendblue add-contact`) ----------------------

    async def shared_contacts(self, account: Account) -> dict[str, Any]:
        newest = await self._database.read_async(lambda conn: store.list_contacts(
            conn, ContactFilter(account_id=account.id), order_by="created_at",
            descending=True, limit=MAX_SHARED_CONTACTS, offset=0))
        return {"status": OK, "sharedNumber": self._shared_line(account),
                "contacts": [_route(contact) for contact in reversed(newest)]}

    async def add_shared_contact(self, account: Account, body: SharedContact) -> dict[str, Any]:
        """Add a contact to talk to over the shared line (kept as it is if it exists)."""
        number = wire.parse_number({"recipient": body.recipient, "number": body.number})
        line = self._shared_line(account)

        def op(tx: Tx) -> Contact:
            added = self._add(tx, account.id, number,
                              ContactChanges(text={"sendblue_number": line}))
            return added or _existing(tx, account.id, number)

        contact = await self._writer.submit(op)
        return {"status": OK, "route": _route(contact)}

    # -- in the writer's transaction ------------------------------------------------------------

    def _add(self, tx: Tx, account_id: int, number: str, changes: ContactChanges, *,
             opted_out: bool = False, verified: bool = False) -> Contact | None:
        """A new contact, announced; None if the account has the number already."""
        now = now_ms()
        contact = Contact(id=0, contact_id=new_contact_id(), account_id=account_id,
                          number=number, opted_out=opted_out or bool(changes.opt_out),
                          verified=verified, created_at=now, updated_at=now)
        changes.apply(contact)
        if not store.insert_contact(tx, contact):
            return None
        self._book.announce(tx, contact)
        return contact

    def _change(self, tx: Tx, contact: Contact, changes: ContactChanges) -> None:
        changes.apply(contact)
        contact.updated_at = now_ms()
        store.save_contact(tx, contact)
        if changes.opt_out is not None:
            self._book.set_opted_out(tx, contact.account_id, contact.number, changes.opt_out)
            contact.opted_out = changes.opt_out

    def _verify(self, tx: Tx, account_id: int, number: str) -> Contact:
        if not store.set_verified(tx, account_id, number, now_ms()):
            self._add(tx, account_id, number, ContactChanges(), verified=True)
        return _existing(tx, account_id, number)

    def _delete(self, tx: Tx, account_id: int, numbers: list[str],
                contact_ids: list[str] | None = None) -> int:
        deleted = store.delete_contacts(tx, account_id, numbers, contact_ids or ())
        for number in deleted:
            tx.after_commit(lambda number=number: self._book.forget(account_id, number))
        return len(deleted)

    # -- helpers --------------------------------------------------------------------------------

    def _changes(self, account: Account, body: ContactFields, *,
                 where: str = "") -> ContactChanges:
        changes = wire.parse_changes(body, where=where)
        line = changes.sendblue_number
        if line is not None and self._lines.usable_by(account.id, line) is None:
            raise validation_error(f"`{where}sendblue_number` {line} is not a line this "
                                   "account may send from")
        return changes

    def _shared_line(self, account: Account) -> str | None:
        for number in self._lines.numbers_of(account.id):
            line = self._lines.line(number)
            if line is not None and line.shared:
                return number
        return None


def _route(contact: Contact) -> dict[str, Any]:
    """A contact as the CLI's ContactRoute: `{id, number, verified, createdAt}`."""
    return {"id": contact.id, "number": contact.number, "verified": contact.verified,
            "createdAt": iso(contact.created_at)}


def _existing(tx: Tx, account_id: int, number: str) -> Contact:
    """A contact the transaction knows is there."""
    contact = store.contact_of(tx, account_id, number)
    if contact is None:
        raise LookupError(f"contact {number} of account {account_id} vanished")
    return contact


def _no_contact(number: str) -> ApiError:
    return not_found(f"No contact {number} on this account")
