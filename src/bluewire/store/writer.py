"""Group commit: the writes in flight are committed together, and each is answered after.

Callers hand the writer an operation, a function of a `Tx`. The writer runs on the event loop:
the first operation submitted schedules a flush for the loop's next turn, every operation
submitted until then joins it, and the flush runs them all in one transaction, commits once,
and only then answers each caller. An accepted request is therefore committed before its answer,
at the cost of one commit per batch rather than one per request. Inserts are buffered and sent
with executemany.

If any operation of a batch fails, the batch is rolled back and each of its operations is run
again alone, so one bad operation fails only its own caller.

SQLite's WAL checkpoints (the only writes that wait for the disk under synchronous=NORMAL) run
in a background thread on a connection of their own, so they never hold up the loop.

On PostgreSQL every commit waits for the server (and its disk), so the batch runs in the
writer's own thread instead: while one batch commits, the next gathers on the loop. Operations
then run in that thread; what they must do on the loop, they register with `after_commit`.

An operation that makes work for the workers says so with `tx.notify(channel)`: once the batch
commits, this process's listeners of that channel are called, and on PostgreSQL a NOTIFY sent
in the same transaction wakes every other process (see notifications.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Table

from .clock_steps import StepWatch, move_back
from .database import Database, is_disk_full

T = TypeVar("T")
Op = Callable[["Tx"], T]

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_S = 1.0
# How long a write refused for want of space keeps the disk counted full when nothing is stored
# after it: an idle process whose disk was freed is not held out of service for good.
DISK_FULL_FOR_S = 10.0


@functools.cache
def _insert_sql(table: Table, columns: tuple[str, ...], paramstyle: str) -> str:
    marks = ", ".join(_mark(paramstyle) for _ in columns)
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"


def _mark(paramstyle: str) -> str:
    return "?" if paramstyle == "qmark" else "%s"


class Tx:
    """The transaction an operation runs in.

    Statements with `?` placeholders run on the driver's cursor directly (`query`, `execute_many`):
    the hot paths pay no statement construction or parameter processing. SQLAlchemy statements
    run through `execute`.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._dbapi = connection.connection.dbapi_connection
        self._paramstyle: str = connection.dialect.paramstyle
        self._pending: dict[tuple[Table, tuple[str, ...]], list[tuple[Any, ...]]] = {}
        self._after_commit: list[Callable[[], None]] = []
        self.channels: set[str] = set()
        # SQLite: the wall clock's offset from CLOCK_MONOTONIC as the step watch saw it at the
        # start (store/clock_steps.py); leases.lease_clock_ms reads the clock through it.
        self.clock_offset_ms: int | None = None

    @property
    def is_postgresql(self) -> bool:
        return self._paramstyle != "qmark"

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Queue a row; rows are sent together (executemany) before the next statement."""
        self._pending.setdefault((table, tuple(row)), []).append(tuple(row.values()))

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        self.flush()
        return self.connection.execute(statement, parameters)

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.flush()
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(self._sql(sql), parameters)
            return cursor.fetchall()
        finally:
            cursor.close()

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.flush()
        if rows:
            cursor = self._dbapi.cursor()
            try:
                cursor.executemany(self._sql(sql), rows)
            finally:
                cursor.close()

    def _sql(self, sql: str) -> str:
        return sql if self._paramstyle == "qmark" else sql.replace("?", "%s")

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        cursor = self._dbapi.cursor()
        try:
            for (table, columns), rows in pending.items():
                cursor.executemany(_insert_sql(table, columns, self._paramstyle), rows)
        finally:
            cursor.close()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the loop once this transaction has committed."""
        self._after_commit.append(callback)

    def notify(self, channel: str) -> None:
        """Wake the listeners of `channel`, in every process, once this commits."""
        self.channels.add(channel)


class _Job:
    __slots__ = ("after_commit", "done", "op", "result")

    def __init__(self, op: Op[Any], done: asyncio.Future[Any] | None) -> None:
        self.op = op
        self.done = done
        self.result: tuple[bool, Any] = (False, None)
        self.after_commit: list[Callable[[], None]] = []


class Writer:
    """The single writer of this process: group commit on SQLite and on PostgreSQL."""

    def __init__(self, database: Database, *, max_batch: int = 1024) -> None:
        self._database = database
        self._max_batch = max_batch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: Connection | None = None
        self._pending: list[_Job] = []
        self._flush_scheduled = False
        self._checkpointer: _Checkpointer | None = None
        self._listeners: dict[str, list[Callable[[], None]]] = {}
        # PostgreSQL: batches commit in this thread, one at a time.
        self._thread: ThreadPoolExecutor | None = None
        self._committing: Future[list[str]] | None = None
        self.backend_pid: int | None = None  # of the writer's PostgreSQL session
        # SQLite (whose disk is this machine's): when a write was last refused for want of
        # space, and when one last stored something (monotonic seconds). A commit that changes
        # nothing succeeds on a full disk too, so it does not count.
        self._refused_for_space_at: float | None = None
        self._stored_at: float | None = None
        # SQLite, served by this process alone: a step back of its clock is undone on the times
        # stored by the old clock before anything is written by the new one.
        self._steps = StepWatch() if database.is_sqlite else None

    @property
    def is_postgresql(self) -> bool:
        return self._database.is_postgresql

    @property
    def disk_full(self) -> bool:
        """Whether the last write the disk was asked to take, within DISK_FULL_FOR_S, was
        refused for want of space."""
        refused = self._refused_for_space_at
        if refused is None or time.monotonic() - refused > DISK_FULL_FOR_S:
            return False
        return self._stored_at is None or refused > self._stored_at

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._connection = self._connect()
        if self._database.is_sqlite:
            self._connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = _Checkpointer(self._database)
            self._checkpointer.start()
        else:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="bluewire-writer")

    def _connect(self) -> Connection:
        connection = self._database.engine.connect()
        if self._database.is_postgresql:
            self.backend_pid = connection.connection.dbapi_connection.info.backend_pid
        return connection

    def stop(self) -> None:
        if self._committing is not None:
            self._committing.result()  # its answers are lost with the loop: it did commit
        if self._pending:
            batch, self._pending = self._pending, []
            self._commit(batch)
            self._answer(batch)
        if self._thread is not None:
            self._thread.shutdown()
            self._thread = None
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """Call `callback` on the loop after each commit that notified `channel`."""
        self._listeners.setdefault(channel, []).append(callback)

    def notified(self, channel: str) -> None:
        """`channel` was notified (by this process's commit, or another's): call its listeners."""
        for listener in self._listeners.get(channel, ()):
            try:
                listener()
            except Exception:
                log.exception("listener of %s failed", channel)

    async def submit(self, op: Op[T]) -> T:
        """Run `op` in the next group commit; returns its result once committed."""
        loop = self._loop
        assert loop is not None, "the writer is not started"
        done = loop.create_future()
        self._pending.append(_Job(op, done))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await done

    def run(self, op: Op[T]) -> T:
        """Run `op` in a transaction of its own, now (for code outside the server's loop)."""
        if self._connection is not None:
            raise RuntimeError("the writer is running: submit() the operation instead")
        with self._database.engine.connect() as connection:
            job = _Job(op, None)
            self._commit_on([job], connection)
        ok, value = job.result
        for callback in job.after_commit:
            callback()
        if not ok:
            raise value
        return value

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._thread is not None:
            self._flush_in_thread()
            return
        channels: set[str] = set()
        while self._pending:
            batch = self._take_batch()
            channels.update(self._commit(batch))
            self._answer(batch)
        self._wake(channels)

    def _take_batch(self) -> list[_Job]:
        batch = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        return batch

    def _flush_in_thread(self) -> None:
        if self._committing is not None or not self._pending or self._thread is None:
            return  # the batch committing now hands over to the next when it is done
        assert self._loop is not None
        batch = self._take_batch()
        loop = self._loop
        committing = self._committing = self._thread.submit(self._commit, batch)
        committing.add_done_callback(
            lambda _: loop.call_soon_threadsafe(self._committed, batch, committing))

    def _committed(self, batch: list[_Job], committing: Future[list[str]]) -> None:
        self._committing = None
        try:
            channels = committing.result()  # _commit records failures in the jobs
        except Exception as exc:  # a bug of ours: fail the batch rather than leave it waiting
            log.exception("the writer thread failed")
            channels = []
            for job in batch:
                job.result, job.after_commit = (False, exc), []
        self._answer(batch)
        self._wake(set(channels))
        self._flush_in_thread()

    def _wake(self, channels: set[str]) -> None:
        for channel in channels:
            self.notified(channel)

    def _commit(self, batch: list[_Job]) -> list[str]:
        """Commit `batch` on the writer's connection; the channels it notified."""
        if self._connection is None or self._connection.invalidated:
            try:
                if self._connection is not None:
                    self._connection.close()
                self._connection = self._connect()
            except Exception as exc:
                self._connection = None
                log.error("the database is unreachable: %s", exc)
                for job in batch:
                    job.result = (False, exc)
                return []
        return self._commit_on(batch, self._connection)

    def _commit_on(self, batch: list[_Job], connection: Connection) -> list[str]:
        try:
            return self._run_in_one_transaction(batch, connection)
        except Exception:
            channels: list[str] = []
            for job in batch:  # find the culprit: each job alone
                channels.extend(self._run_in_one_transaction([job], connection))
            return channels

    def _run_in_one_transaction(self, batch: list[_Job], connection: Connection) -> list[str]:
        """Commit `batch`; a lone job records its own failure, a larger batch raises it."""
        is_sqlite = self._database.is_sqlite
        tx = Tx(connection)
        changes = tx._dbapi.total_changes if is_sqlite else 0
        step = 0
        try:
            if is_sqlite:  # on the driver: SQLAlchemy's execution costs more than SQLite's
                tx._dbapi.execute("BEGIN IMMEDIATE")
            else:
                connection.begin()
            if self._steps is not None:
                step = self._steps.stepped_back_ms()
                tx.clock_offset_ms = self._steps.offset_ms
            if step:
                log.warning("the wall clock was stepped back %d ms: times stored as due later "
                            "are moved back as much", step)
                move_back(tx, step)
            results = []
            for job in batch:
                tx._after_commit = []
                value = job.op(tx)
                results.append((value, tx._after_commit))
            tx.flush()
            if tx.channels and not is_sqlite:
                tx.execute_many("SELECT pg_notify(?, '')", [(c,) for c in sorted(tx.channels)])
            if is_sqlite:
                tx._dbapi.execute("COMMIT")
            else:
                connection.commit()
        except Exception as exc:
            if is_sqlite and is_disk_full(exc):
                self._refused_for_space_at = time.monotonic()
            self._roll_back(connection)
            if len(batch) == 1:
                log.debug("write failed", exc_info=True)
                batch[0].result = (False, exc)
                return []
            raise
        if is_sqlite and tx._dbapi.total_changes != changes:
            self._stored_at = time.monotonic()
        if step and self._steps is not None:
            self._steps.moved()
        for job, (value, callbacks) in zip(batch, results, strict=True):
            job.result = (True, value)
            job.after_commit = callbacks
        return list(tx.channels)

    def _roll_back(self, connection: Connection) -> None:
        try:
            if self._database.is_sqlite:
                dbapi = connection.connection.dbapi_connection
                if dbapi.in_transaction:
                    dbapi.execute("ROLLBACK")
            else:
                connection.rollback()
        except Exception:
            log.warning("rollback failed; the connection will be replaced", exc_info=True)
            connection.invalidate()

    @staticmethod
    def _answer(batch: list[_Job]) -> None:
        for job in batch:
            for callback in job.after_commit:
                try:
                    callback()
                except Exception:
                    log.exception("after-commit callback failed")
            done = job.done
            if done is None or done.cancelled():
                continue
            ok, value = job.result
            if ok:
                done.set_result(value)
            else:
                done.set_exception(value)


class _Checkpointer(threading.Thread):
    """Copies the WAL back into the database file, off the event loop."""

    def __init__(self, database: Database) -> None:
        super().__init__(name="bluewire-checkpoint", daemon=True)
        self._database = database
        self._stopping = threading.Event()

    def run(self) -> None:
        with self._database.engine.connect() as connection:
            while not self._stopping.wait(CHECKPOINT_INTERVAL_S):
                self._checkpoint(connection, "PASSIVE")
            self._checkpoint(connection, "TRUNCATE")

    @staticmethod
    def _checkpoint(connection: Connection, mode: str) -> None:
        try:
            connection.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})")
        except Exception:
            log.warning("WAL checkpoint failed; retrying", exc_info=True)

    def stop(self) -> None:
        self._stopping.set()
        self.join()
