"""Readiness (GET /readyz): can this process do its work now?

Three kinds of check: the store answers a `SELECT 1` on the read path and (SQLite) its disk is not
refusing writes for want of space, which reads do not show; its schema is at the newest migration
(the head is read from the migration scripts once, the store's revision on every check); and each
claim loop (dispatcher, delivery worker) has completed a round, or claimed a batch, within the
stall threshold.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from ..store.database import MIGRATIONS, Database

log = logging.getLogger(__name__)

STORE_TIMEOUT_S = 5.0  # a store that has not answered by then is not ready


class Pulse(Protocol):
    """What a worker shows of its liveness (monotonic seconds; see sweeping.py)."""

    @property
    def running_since(self) -> float | None: ...

    @property
    def last_round_at(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str  # what was seen, or why it failed

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def worker_check(name: str, worker: Pulse, now: float, stall_s: float) -> Check:
    """Whether `worker` has made progress within `stall_s` of `now`. A worker that has just
    started is measured from its start, so it has one full threshold for its first round."""
    if worker.running_since is None:
        return Check(name, False, "not running")
    last = worker.last_round_at if worker.last_round_at is not None else worker.running_since
    idle = now - last
    if idle > stall_s:
        return Check(name, False, f"no round completed for {idle:.1f} s (limit {stall_s:g} s)")
    return Check(name, True, f"last round {max(idle, 0.0):.1f} s ago")


def migration_heads() -> frozenset[str]:
    """The newest revision(s) of the migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def migrations_check(current: frozenset[str], heads: frozenset[str]) -> Check:
    if current == heads:
        return Check("migrations", True, f"at head {', '.join(sorted(heads))}")
    shown = ", ".join(sorted(current)) or "none"
    return Check("migrations", False,
                 f"the store is at {shown}, the code's head is {', '.join(sorted(heads))}")


def _revisions(connection: Connection) -> frozenset[str]:
    connection.execute(text("SELECT 1")).scalar()
    try:
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        return frozenset(str(row[0]) for row in rows)
    except Exception:
        # A reachable store without the table has never been migrated.
        log.warning("reading alembic_version failed", exc_info=True)
        return frozenset()


def _reason(exc: BaseException) -> str:
    """The first line of an error, short: it is shown unauthenticated."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first[:200]}"


class Storage(Protocol):
    """What the writer shows of the store's disk (see writer.py)."""

    @property
    def disk_full(self) -> bool: ...


class Readiness:
    def __init__(self, database: Database, workers: Mapping[str, Pulse], *, stall_ms: int,
                 clock: Callable[[], float] = time.monotonic,
                 heads: frozenset[str] | None = None, storage: Storage | None = None) -> None:
        self._database = database
        self._storage = storage
        self._workers = dict(workers)
        self._stall_s = stall_ms / 1000
        self._clock = clock
        self._heads = migration_heads() if heads is None else heads

    async def check(self) -> list[Check]:
        """Every check, in a fixed order. The store is asked from a thread, so a store that
        hangs holds up neither the event loop nor this answer beyond STORE_TIMEOUT_S."""
        try:
            store = await asyncio.wait_for(asyncio.to_thread(self._store_checks),
                                           STORE_TIMEOUT_S)
        except TimeoutError:
            store = [Check("database", False, f"no answer within {STORE_TIMEOUT_S:g} s"),
                     Check("migrations", False, "not checked: the database did not answer")]
        return [*store, *self.worker_checks()]

    def worker_checks(self) -> list[Check]:
        now = self._clock()
        return [worker_check(name, worker, now, self._stall_s)
                for name, worker in self._workers.items()]

    def _store_checks(self) -> list[Check]:
        try:
            current = self._database.read(_revisions)
        except Exception as exc:
            log.warning("readiness: the database did not answer", exc_info=True)
            return [Check("database", False, _reason(exc)),
                    Check("migrations", False, "not checked: the database is unreachable")]
        if self._storage is not None and self._storage.disk_full:
            database = Check("database", False,
                             "SELECT 1 answered, but the disk is full: writes are refused")
        else:
            database = Check("database", True, "SELECT 1 answered")
        return [database, migrations_check(current, self._heads)]


def report(checks: list[Check]) -> tuple[int, dict[str, Any]]:
    """The /readyz answer: 200 when every check passed, else 503; the checks either way."""
    ready = all(check.ok for check in checks)
    return (200 if ready else 503,
            {"status": "ready" if ready else "not ready",
             "checks": [check.as_dict() for check in checks]})
