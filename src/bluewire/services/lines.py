"""Which lines exist, which accounts may use them, and their send rate limits."""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import Connection

from ..connectors.protocol import Capabilities, Connector
from ..domain.errors import ApiError, ErrorCode
from ..domain.rate_limit import TokenBucket
from ..store import accounts as store
from ..store.accounts import Line
from ..store.database import Database

log = logging.getLogger(__name__)

_REFRESH_SECONDS = 5.0


def _load(conn: Connection) -> tuple[dict[str, Line], dict[int, list[str]]]:
    return {line.number: line for line in store.all_lines(conn)}, store.all_grants(conn)


class LineDirectory:
    """A cached view of lines and grants, refreshed every few seconds and on a miss, so a
    line added by another process is usable at once and the hot path reads no table.

    In a server, `run` keeps it fresh in the background (on PostgreSQL in a reader thread), so a
    request never waits on the periodic read, nor stalls on it while the database is away."""

    def __init__(self, database: Database, default_rate_limit: float) -> None:
        self._database = database
        self._default_rate_limit = default_rate_limit
        self._lines: dict[str, Line] = {}
        self._grants: dict[int, frozenset[str]] = {}
        self._loaded_at = float("-inf")
        self._buckets: dict[str, TokenBucket] = {}
        self._kept_fresh = False  # by `run`

    def refresh(self) -> None:
        self._apply(*self._database.read(_load))

    async def reload(self) -> None:
        """`refresh`, off the event loop where reads can be (PostgreSQL)."""
        self._apply(*await self._database.read_async(_load))

    async def run(self) -> None:
        self._kept_fresh = True
        try:
            while True:
                await asyncio.sleep(_REFRESH_SECONDS)
                try:
                    await self.reload()
                except Exception as exc:  # the database is away: keep serving what we know
                    log.warning("lines could not be refreshed (%s); the last view is kept", exc)
        finally:
            self._kept_fresh = False

    def _apply(self, lines: dict[str, Line], grants: dict[int, list[str]]) -> None:
        self._lines = lines
        self._grants = {account: frozenset(numbers) for account, numbers in grants.items()}
        self._loaded_at = time.monotonic()

    def _fresh(self) -> None:
        if self._kept_fresh:
            return
        if time.monotonic() - self._loaded_at > _REFRESH_SECONDS:
            self.refresh()

    def line(self, number: str) -> Line | None:
        self._fresh()
        line = self._lines.get(number)
        if line is None:
            self.refresh()
            line = self._lines.get(number)
        return line

    def usable_by(self, account_id: int, number: str) -> Line | None:
        """The line `number` if the account may send from it."""
        self._fresh()
        if number not in self._grants.get(account_id, ()):
            self.refresh()
            if number not in self._grants.get(account_id, ()):
                return None
        return self._lines.get(number)

    def accounts_of(self, number: str) -> list[int]:
        """The accounts that may use line `number` (several, for a shared line)."""
        self.refresh()
        return sorted(account for account, numbers in self._grants.items() if number in numbers)

    def numbers_of(self, account_id: int) -> list[str]:
        self.refresh()
        return sorted(self._grants.get(account_id, ()))

    def rate_limit_of(self, line: Line) -> float | None:
        if line.rate_limit is not None:
            return line.rate_limit
        return None if line.connector == "sandbox" else self._default_rate_limit

    def require_send_slot(self, line: Line) -> None:
        """Take a send slot on `line`, or answer 429 (error_code 4001) saying when to retry."""
        wait = self.take_send_slot(line)
        if wait > 0:
            raise ApiError(429, f"Line {line.number} is sending too fast: at most "
                           f"{self.rate_limit_of(line):g} messages a second",
                           error_code=ErrorCode.RATE_LIMIT, error_key="LINE_RATE_LIMITED",
                           headers={"retry-after": str(max(1, round(wait + 0.5)))})

    def take_send_slot(self, line: Line) -> float:
        """0.0 if the line may send now, else the seconds until it may."""
        rate = self.rate_limit_of(line)
        if rate is None:
            return 0.0
        bucket = self._buckets.get(line.number)
        if bucket is None or bucket.rate != rate:
            bucket = self._buckets[line.number] = TokenBucket(rate)
        return bucket.take()


class ConnectorRegistry:
    """The connector serving each line, by the line's connector name."""

    def __init__(self, lines: LineDirectory, connectors: dict[str, Connector]) -> None:
        self._lines = lines
        self.connectors = connectors

    def for_line(self, number: str) -> Connector | None:
        line = self._lines.line(number)
        return self.connectors.get(line.connector) if line else None

    def held_lines(self) -> list[str]:
        """The lines whose connection is in this process (a Mac's agent connected here)."""
        return sorted(line for connector in self.connectors.values()
                      for line in getattr(connector, "held_lines", list)())

    def capabilities_for(self, number: str) -> Capabilities | None:
        """What the line can do: a connector whose lines differ says so per line."""
        connector = self.for_line(number)
        if connector is None:
            return None
        per_line = getattr(connector, "capabilities_for", None)
        return per_line(number) if per_line is not None else connector.capabilities

    def capability_note(self, number: str) -> str:
        """Why the line lacks a capability its connector may have elsewhere ("" if nothing
        more to say)."""
        note = getattr(self.for_line(number), "capability_note", None)
        return f" ({note(number)})" if note is not None else ""
