"""The operator's view of lines: listing them, taking one from an account or removing it, and
changing its settings. Servers pick changes up within a few seconds (LineDirectory's refresh)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection

from ..domain.phones import InvalidNumber, parse_e164
from ..store import accounts as store
from ..store.accounts import Account, Line
from ..store.database import Database
from ..store.writer import Tx, Writer
from .accounts import AdminError, connector_settings

# Settings never shown: a BlueBubbles server's password, the secret in its webhook URL.
_SECRET_SETTINGS = ("password", "webhook_secret")


@dataclass(frozen=True, slots=True)
class LineRow:
    number: str
    connector: str
    shared: bool
    rate_limit: float | None  # as set; None: the connector's default
    sends_per_second: float | None  # what applies; None: unlimited
    accounts: tuple[str, ...]  # emails
    settings: dict[str, Any]  # without secrets


@dataclass(frozen=True, slots=True)
class Removal:
    number: str
    accounts: tuple[str, ...]  # the accounts that lost the line
    deleted: bool  # the line itself is gone (else only taken from an account)


class LineAdmin:
    def __init__(self, database: Database, writer: Writer, default_rate_limit: float) -> None:
        self._database = database
        self._writer = writer
        self._default_rate_limit = default_rate_limit

    def lines(self, email: str | None = None) -> list[LineRow]:
        """Every line, or those granted to the account."""
        def query(conn: Connection) -> list[LineRow]:
            emails = {row.id: row.email for row in store.all_accounts(conn)}
            grants = store.all_grants(conn)
            holders: dict[str, list[str]] = {}
            for account_id, numbers in grants.items():
                for number in numbers:
                    holders.setdefault(number, []).append(emails[account_id])
            only = None
            if email is not None:
                only = set(grants.get(_account(conn, email).id, ()))
            return [self._row(line, sorted(holders.get(line.number, ())))
                    for line in store.all_lines(conn) if only is None or line.number in only]

        return self._database.read(query)

    def remove(self, number: str, email: str | None = None) -> Removal:
        """Take the line from the account, or (no account given) remove it from every account
        and delete it. Its messages stay."""
        number = _number(number)

        def op(tx: Tx) -> Removal:
            line = _line(tx, number)
            owners = store.line_owner_ids(tx, line.id)
            emails = {account_id: _email(tx, account_id) for account_id in owners}
            if email is None:
                store.delete_line(tx, line.id)
                return Removal(number, tuple(sorted(emails.values())), deleted=True)
            account = _account(tx, email)
            if account.id not in owners:
                raise AdminError(f"line {number} is not granted to {email}")
            store.ungrant_line(tx, line.id, account.id)
            return Removal(number, (email,), deleted=False)

        return self._writer.run(op)

    def change(self, number: str, *, rate_limit: float | Literal["default"] | None = None,
               shared: bool | None = None, url: str | None = None,
               password: str | None = None) -> LineRow:
        """Change what is given (None: keep); `rate_limit="default"` goes back to the
        connector's default."""
        number = _number(number)
        if isinstance(rate_limit, float | int) and rate_limit <= 0:
            raise AdminError("a rate limit must be a positive number of sends a second "
                             "(or `default`)")
        if rate_limit is None and shared is None and url is None and password is None:
            raise AdminError("nothing to change: give --rate-limit, --shared/--not-shared, "
                             "--bluebubbles-url or --bluebubbles-password")

        def op(tx: Tx) -> LineRow:
            line = _line(tx, number)
            settings = dict(line.settings)
            if url is not None or password is not None:
                given = {"url": url, "password": password}
                settings = connector_settings(line.connector, settings | {
                    k: v for k, v in given.items() if v is not None})
            new_shared = line.shared if shared is None else shared
            if not new_shared and line.shared and len(store.line_owner_ids(tx, line.id)) > 1:
                raise AdminError(f"line {number} is granted to several accounts: remove it "
                                 "from all but one before it stops being shared")
            new_rate = line.rate_limit if rate_limit is None else \
                None if rate_limit == "default" else float(rate_limit)
            store.update_line(tx, line.id, shared=new_shared, rate_limit=new_rate,
                              settings=settings)
            changed = Line(line.id, line.number, line.connector, new_shared, new_rate, settings)
            owners = sorted(_email(tx, account_id)
                            for account_id in store.line_owner_ids(tx, line.id))
            return self._row(changed, owners)

        return self._writer.run(op)

    def _row(self, line: Line, emails: list[str]) -> LineRow:
        if line.rate_limit is not None:
            applies: float | None = line.rate_limit
        else:
            applies = None if line.connector == "sandbox" else self._default_rate_limit
        shown = {k: v for k, v in line.settings.items() if k not in _SECRET_SETTINGS}
        return LineRow(line.number, line.connector, line.shared, line.rate_limit, applies,
                       tuple(emails), shown)


def _number(number: str) -> str:
    try:
        return parse_e164(number)
    except InvalidNumber as exc:
        raise AdminError(f"{number} {exc}") from None


def _line(conn: Connection | Tx, number: str) -> Line:
    line = store.line_by_number(conn, number)
    if line is None:
        raise AdminError(f"no line {number} (`bluewire lines list` shows them)")
    return line


def _account(conn: Connection | Tx, email: str) -> Account:
    account = store.account_by_email(conn, email)
    if account is None:
        raise AdminError(f"no account {email}")
    return account


def _email(conn: Connection | Tx, account_id: int) -> str:
    account = store.account_by_id(conn, account_id)
    return account.email if account else f"account {account_id}"
