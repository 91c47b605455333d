"""Who each account knows: contacts made by sending, opt-outs, and routing inbound messages.

The send path asks two things of every message: is the recipient already a contact (if not,
it becomes one, with a `contact.created` event), and did they opt out. Both answers are kept in
memory so the hot path reads no table; a change made by this process updates them at commit,
and a change made by another process is seen within a couple of seconds.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable

from ..domain.contacts import Contact, contact_event_data
from ..domain.handles import new_handle
from ..store import contacts as store
from ..store.database import Database, now_ms
from ..store.writer import Tx
from .outbox import Outbox

_KNOWN_LIMIT = 200_000
_OPT_OUT_REFRESH_S = 2.0


def new_contact_id() -> str:
    return "ct_" + new_handle().replace("-", "")


class ContactBook:
    def __init__(self, database: Database, outbox: Outbox) -> None:
        self._database = database
        self._outbox = outbox
        self._known: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._opted_out: dict[int, tuple[set[str], float]] = {}

    def ensure(self, tx: Tx, account_id: int, number: str, line: str | None) -> Contact | None:
        """Make `number` a contact of the account if it is not one; the new contact, if any."""
        key = (account_id, number)
        if key in self._known:
            return None
        now = now_ms()
        contact = Contact(id=0, contact_id=new_contact_id(), account_id=account_id,
                          number=number, sendblue_number=line, created_at=now, updated_at=now)
        created = store.insert_if_new(tx, contact)
        if created:
            self.announce(tx, contact)
        tx.after_commit(lambda: self._remember(key))
        return contact if created else None

    def announce(self, tx: Tx, contact: Contact) -> None:
        """The `contact.created` event and `contact_created` webhooks of a new contact."""
        self._outbox.emit(tx, contact.account_id, "contact.created", contact.created_at,
                          contact_event_data(contact), line=contact.sendblue_number)

    def _remember(self, key: tuple[int, str]) -> None:
        self._known[key] = None
        if len(self._known) > _KNOWN_LIMIT:
            self._known.popitem(last=False)

    def forget(self, account_id: int, number: str) -> None:
        """A contact was deleted: the next send to the number makes it a contact again."""
        self._known.pop((account_id, number), None)
        cached = self._opted_out.get(account_id)
        if cached is not None:
            cached[0].discard(number)

    def is_opted_out(self, account_id: int, number: str) -> bool:
        if self._stale_opt_outs(account_id):
            self._keep_opt_outs(account_id, self._database.read(
                lambda conn: store.opted_out_numbers(conn, account_id)))
        return number in self._opted_out[account_id][0]

    async def is_opted_out_now(self, account_id: int, number: str) -> bool:
        """`is_opted_out`, for the event loop: a stale cache is refreshed without blocking it."""
        return bool(await self.opted_out_among(account_id, (number,)))

    async def opted_out_among(self, account_id: int, numbers: Iterable[str]) -> set[str]:
        """Which of `numbers` are opted out, for the event loop (as `is_opted_out_now`)."""
        if self._stale_opt_outs(account_id):
            self._keep_opt_outs(account_id, await self._database.read_async(
                lambda conn: store.opted_out_numbers(conn, account_id)))
        opted_out = self._opted_out[account_id][0]
        return {number for number in numbers if number in opted_out}

    def _stale_opt_outs(self, account_id: int) -> bool:
        cached = self._opted_out.get(account_id)
        return cached is None or time.monotonic() - cached[1] > _OPT_OUT_REFRESH_S

    def _keep_opt_outs(self, account_id: int, numbers: set[str]) -> None:
        self._opted_out[account_id] = (numbers, time.monotonic())

    def set_opted_out(self, tx: Tx, account_id: int, number: str, opted_out: bool) -> bool:
        """Opt a contact out (or back in); whether the account has that contact."""
        found = store.set_opted_out(tx, account_id, number, opted_out, now_ms())
        if found:
            tx.after_commit(lambda: self._note_opt_out(account_id, number, opted_out))
        return found

    def _note_opt_out(self, account_id: int, number: str, opted_out: bool) -> None:
        cached = self._opted_out.get(account_id)
        if cached is None:
            return
        if opted_out:
            cached[0].add(number)
        else:
            cached[0].discard(number)

    @staticmethod
    def mark_verified(tx: Tx, account_id: int, number: str) -> None:
        store.mark_verified(tx, account_id, number, now_ms())

    def route(self, tx: Tx, line: str, number: str, candidates: list[int]) -> int | None:
        """The account an inbound from `number` on `line` belongs to (Sendblue's rule): one of the
        accounts that may use the line and have the sender as a contact; if several, the one
        that wrote to them last. None: a stranger to every account."""
        knowing = store.accounts_knowing(tx, number, candidates)
        if len(knowing) <= 1:
            return knowing[0] if knowing else None
        marks = ", ".join("?" * len(knowing))
        rows = tx.query(
            "SELECT account_id FROM messages WHERE number = ? AND line = ? AND is_outbound = ? "
            f"AND account_id IN ({marks}) ORDER BY id DESC LIMIT 1",
            (number, line, True, *knowing))
        if rows:
            return rows[0][0]
        rows = tx.query(
            f"SELECT account_id FROM contacts WHERE number = ? AND account_id IN ({marks}) "
            "ORDER BY updated_at DESC, id DESC LIMIT 1", (number, *knowing))
        return rows[0][0]
