"""Sandbox lines an account adds and removes itself: `/v3/sandboxes`, which the official
command-line client's `sandbox create|list|delete` call. Each is a line of its own on the
simulated phone network, numbered from a block of fictional numbers (+1 415 555-1000 to
555-1999); the server's shared sandbox line is listed with them but cannot be removed. A line
removed keeps its messages, as `bluewire lines remove` does."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from ..connectors.sandbox import PHONE_BEHAVIOURS
from ..domain.errors import v3_error
from ..store import accounts as account_store
from ..store import sandbox_lines as store
from ..store.accounts import Account
from ..store.database import Database, now_ms
from ..store.sandbox_lines import SandboxLineRow
from ..store.writer import Tx, Writer
from .lines import LineDirectory

BLOCK = "+1415555"
FIRST, LAST = 1000, 1999
ID_PREFIX = "sbx_"
_ID = re.compile(r"sbx_(\d{8,15})")
_TRIES = 3  # another process may take the same free number at the same moment


def sandbox_id(number: str) -> str:
    return ID_PREFIX + number.lstrip("+")


class SandboxLines:
    def __init__(self, database: Database, writer: Writer, lines: LineDirectory, *,
                 per_account: int) -> None:
        self._database = database
        self._writer = writer
        self._lines = lines
        self.per_account = per_account

    async def of(self, account: Account) -> list[SandboxLineRow]:
        return await self._database.read_async(lambda conn: store.of_account(conn, account.id))

    async def add(self, account: Account) -> SandboxLineRow:
        """A new sandbox line for the account alone; 409 over its allowance."""
        def op(tx: Tx) -> SandboxLineRow:
            if store.own_count(tx, account.id) >= self.per_account:
                raise v3_error(409, "sandbox_limit",
                               f"this account has {self.per_account} sandbox lines of its own, "
                               f"as many as this server allows "
                               f"(BLUEWIRE_SANDBOX_LINES_PER_ACCOUNT); delete one first")
            taken = store.taken_numbers(tx, f"{BLOCK}{FIRST}", f"{BLOCK}{LAST}")
            number = next((n for n in (f"{BLOCK}{i}" for i in range(FIRST, LAST + 1))
                           if n not in taken), None)
            if number is None:
                raise v3_error(503, "no_numbers", "every number of the sandbox block "
                               f"({BLOCK}{FIRST} to {BLOCK}{LAST}) is a line already")
            now = now_ms()
            line = account_store.insert_line(tx, number, "sandbox", False, None, now)
            account_store.grant_line(tx, line.id, account.id)
            return SandboxLineRow(line.id, number, False, now)

        for attempt in range(_TRIES):
            try:
                row = await self._writer.submit(op)
                break
            except IntegrityError:
                if attempt == _TRIES - 1:
                    raise
        await self._lines.reload()
        return row

    async def remove(self, account: Account, given_id: str) -> str:
        """Delete the account's own sandbox line `given_id`; its number."""
        match = _ID.fullmatch(given_id)
        if match is None:
            raise v3_error(404, "not_found", f"no sandbox {given_id!r}: a sandbox id is sbx_ "
                           "and its line's digits, as `GET /v3/sandboxes` lists them")
        number = "+" + match.group(1)

        def op(tx: Tx) -> None:
            row = next((r for r in store.of_account(tx, account.id) if r.number == number),
                       None)
            if row is None:
                raise v3_error(404, "not_found", f"no sandbox {given_id}: {number} is not a "
                               "sandbox line of this account")
            if row.shared or not store.owned_only_by(tx, row.id, account.id):
                raise v3_error(409, "shared", f"{number} is shared with other accounts; only "
                               "the server's operator can remove it (bluewire lines remove)")
            account_store.delete_line(tx, row.id)

        await self._writer.submit(op)
        await self._lines.reload()
        return number


def connect_prompt(base_url: str, numbers: list[str]) -> str:
    """What to tell an AI agent so it can text through this server's sandbox."""
    phones = "; ".join(f"…{suffix} {behaviour.value}"
                       for suffix, behaviour in sorted(PHONE_BEHAVIOURS.items()))
    lines = ", ".join(numbers) or "none yet (create one: POST /v3/sandboxes)"
    return (
        f"You can send iMessages through a bluewire server at {base_url}, whose API is "
        f"Sendblue's. Authenticate each request with the headers sb-api-key-id and "
        f"sb-api-secret-key. Send with POST {base_url}/api/send-message and the JSON body "
        f'{{"number": "+14155550100", "from_number": "<one of your lines>", "content": "..."}}; '
        f"follow a message with GET {base_url}/api/status?handle=<its message_handle>. "
        f"Your sandbox lines: {lines}. They reach simulated phones only, each behaving as its "
        f"number's last two digits say: {phones}; any other number reads what it gets. "
        f"The whole API: {base_url}/docs.")
