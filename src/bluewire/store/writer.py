"""Group commit: one writer thread commits the writes in flight together.

Callers hand the writer an operation, a function of a `Tx`; the writer runs every operation
waiting in its queue inside one transaction, commits once, and only then answers each caller.
An accepted request is therefore committed before its answer, at the cost of one commit per
batch rather than one per request. Inserts are buffered and sent with executemany.

If any operation of a batch fails, the batch is rolled back and each of its operations is run
again alone, so one bad operation fails only its own caller.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Insert, Table, insert

from .database import Database

T = TypeVar("T")
Op = Callable[["Tx"], T]

log = logging.getLogger(__name__)

_STOP = object()


class Tx:
    """The transaction an operation runs in."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._pending: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
        self._after_commit: list[Callable[[], None]] = []

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """Queue a row; rows are sent together (executemany) before the next statement."""
        self._pending.setdefault((table, tuple(row)), []).append(row)

    def execute(self, statement: Any, parameters: Any = None) -> Any:
        self.flush()
        return self.connection.execute(statement, parameters)

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        for (table, _keys), rows in pending.items():
            self.connection.execute(_insert_statement(table), rows)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the event loop once this transaction has committed."""
        self._after_commit.append(callback)


@functools.cache
def _insert_statement(table: Table) -> Insert:
    return insert(table)


class _Job(Generic[T]):
    __slots__ = ("after_commit", "done", "op", "result")

    def __init__(self, op: Op[T], done: asyncio.Future[T] | Future[T]) -> None:
        self.op = op
        self.done = done
        self.result: tuple[bool, Any] = (False, None)
        self.after_commit: list[Callable[[], None]] = []


class Writer:
    """The single writer of a SQLite database (and one per connection on PostgreSQL)."""

    def __init__(self, database: Database, *, max_batch: int = 1024) -> None:
        self._database = database
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.operations = 0

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="bluewire-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    async def submit(self, op: Op[T]) -> T:
        """Run `op` in the next group commit; returns its result once committed."""
        assert self._loop is not None, "writer started without an event loop"
        done: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Job(op, done))
        return await done

    def run(self, op: Op[T]) -> T:
        """Blocking form of `submit`, for code that runs outside the event loop."""
        if self._thread is None:  # not started: run it here, in a transaction of its own
            return self._run_alone(op)
        done: Future[T] = Future()
        self._queue.put(_Job(op, done))
        return done.result()

    def _run_alone(self, op: Op[T]) -> T:
        with self._database.engine.connect() as connection:
            job = _Job(op, Future())
            self._commit([job], connection)
            ok, value = job.result
            for callback in job.after_commit:
                callback()
            if not ok:
                raise value
            return value

    def _run(self) -> None:
        with self._database.engine.connect() as connection:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch = [first]
                while len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        self._queue.put(_STOP)
                        break
                    batch.append(item)
                self._commit(batch, connection)
                self._answer(batch)

    def _commit(self, batch: list[_Job[Any]], connection: Connection) -> None:
        self.batches += 1
        self.operations += len(batch)
        try:
            self._run_in_one_transaction(batch, connection)
        except Exception:
            if len(batch) == 1:
                log.debug("write failed", exc_info=True)
                return
            for job in batch:  # find the culprit: each job alone
                self._run_in_one_transaction([job], connection)

    def _run_in_one_transaction(self, batch: list[_Job[Any]], connection: Connection) -> None:
        """Commit `batch`; a lone job records its own failure, a larger batch raises it."""
        is_sqlite = self._database.is_sqlite
        if is_sqlite:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        tx = Tx(connection)
        try:
            results = []
            for job in batch:
                tx._after_commit = []
                value = job.op(tx)
                results.append((value, tx._after_commit))
            tx.flush()
        except Exception as exc:
            if is_sqlite:
                connection.exec_driver_sql("ROLLBACK")
            else:
                connection.rollback()
            if len(batch) == 1:
                batch[0].result = (False, exc)
                return
            raise
        if is_sqlite:
            connection.exec_driver_sql("COMMIT")
        else:
            connection.commit()
        for job, (value, callbacks) in zip(batch, results, strict=True):
            job.result = (True, value)
            job.after_commit = callbacks

    def _answer(self, batch: list[_Job[Any]]) -> None:
        loop_jobs = [job for job in batch if isinstance(job.done, asyncio.Future)]
        for job in batch:
            if not isinstance(job.done, asyncio.Future):
                for callback in job.after_commit:
                    self._call_on_loop(callback)
                ok, value = job.result
                if ok:
                    job.done.set_result(value)
                else:
                    job.done.set_exception(value)
        if loop_jobs and self._loop is not None:
            self._loop.call_soon_threadsafe(_settle, loop_jobs)

    def _call_on_loop(self, callback: Callable[[], None]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(callback)
        else:
            callback()


def _settle(jobs: list[_Job[Any]]) -> None:
    for job in jobs:
        for callback in job.after_commit:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")
        if job.done.cancelled():  # type: ignore[union-attr]
            continue
        ok, value = job.result
        if ok:
            job.done.set_result(value)
        else:
            job.done.set_exception(value)
