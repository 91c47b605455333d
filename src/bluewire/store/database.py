"""The database: engine, connection set-up, migrations, and the read path."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url

from ..config import SQLITE_CACHE_MIB, SQLITE_MMAP_MIB

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x626C7577  # any constant of our own: an advisory lock's key


# SQLite says SQLITE_FULL when the disk is out of space (ENOSPC), but SQLITE_IOERR_WRITE when a
# write is refused by a quota or a file-size limit (EDQUOT, EFBIG), or by a failing disk (EIO),
# which it does not tell apart.
_SQLITE_FULL, _SQLITE_IOERR_WRITE = 13, 778
_POSTGRES_DISK_FULL = "53100"


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` means the database's disk refuses to grow: out of space, or of quota."""
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        return getattr(orig, "sqlite_errorcode", None) in (_SQLITE_FULL, _SQLITE_IOERR_WRITE)
    return isinstance(orig, psycopg.Error) and orig.sqlstate == _POSTGRES_DISK_FULL


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be reached now (rather than a bug or bad data)."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if is_disk_full(exc):  # also when raised by the driver directly, on the writer's cursor
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError)
    return isinstance(exc, psycopg.OperationalError)  # raised by the driver directly


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """A PostgreSQL connection pool's size and timeouts (SQLite needs none of them)."""

    size: int = 8
    overflow: int = 8
    timeout_s: float = 10.0  # waiting for a free connection
    connect_timeout_s: int = 10
    statement_timeout_ms: int = 30_000  # 0: none


def database_url(raw: str) -> URL:
    """`raw` as SQLAlchemy's URL; plain `postgresql://` means the psycopg (3) driver."""
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"BLUEWIRE_DATABASE_URL: {backend} is not supported; use "
                         "sqlite:///path.db or postgresql://user:password@host/dbname")
    return url


def data_dir(database_url: str) -> Path:
    """The folder bluewire keeps its files in: the SQLite database's, else the working
    folder (a PostgreSQL URL names no folder)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).expanduser().resolve().parent
    return Path.cwd()


class Database:
    """One engine; reads run inline on a pooled connection, writes go through a Writer."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL",
                 sqlite_cache_mib: int = SQLITE_CACHE_MIB, sqlite_mmap_mib: int = SQLITE_MMAP_MIB,
                 pool: PoolSettings | None = None) -> None:
        self.url = database_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_postgresql = not self.is_sqlite
        self.pool = pool or PoolSettings()
        self._readers: ThreadPoolExecutor | None = None
        self.engine: Engine = self._create_engine(sqlite_synchronous, sqlite_cache_mib,
                                                  sqlite_mmap_mib)

    def _create_engine(self, sqlite_synchronous: str, cache_mib: int, mmap_mib: int) -> Engine:
        if self.is_postgresql:
            return self._create_postgresql_engine()
        if self.url.database in (None, "", ":memory:"):
            raise ValueError("bluewire needs a SQLite file (sqlite:///path.db), not :memory:")
        if sqlite_synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError("BLUEWIRE_SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA")
        for name, mib in (("CACHE", cache_mib), ("MMAP", mmap_mib)):
            if mib < 0:
                raise ValueError(f"BLUEWIRE_SQLITE_{name}_MIB must be 0 or more, not {mib}")
        Path(self.url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            self.url,
            connect_args={"check_same_thread": False, "timeout": 30},
            isolation_level="AUTOCOMMIT",  # transactions are begun explicitly (BEGIN IMMEDIATE)
            pool_size=8,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute(f"PRAGMA cache_size={-1024 * cache_mib}")  # KiB, a connection
            cursor.execute(f"PRAGMA mmap_size={mmap_mib * 1024 * 1024}")
            cursor.close()

        return engine

    def _create_postgresql_engine(self) -> Engine:
        pool = self.pool
        options = ["-c timezone=UTC"]
        if pool.statement_timeout_ms:
            options.append(f"-c statement_timeout={pool.statement_timeout_ms}")
        return create_engine(
            self.url,
            # No ping before each checkout (a round trip per read): a connection found dead is
            # reported as a disconnect, and the pool then replaces every older connection.
            pool_size=pool.size,
            max_overflow=pool.overflow,
            pool_timeout=pool.timeout_s,
            pool_recycle=1800,
            connect_args={"connect_timeout": pool.connect_timeout_s,
                          "options": " ".join(options),
                          "application_name": "bluewire"},
        )

    def libpq_dsn(self) -> str:
        """The URL as libpq takes it (for connections made outside the engine: LISTEN)."""
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def migrate(self, secret_box: object | None = None) -> None:
        """Bring the schema to the newest migration (idempotent). `secret_box` (a
        store.secret_box.SecretBox) lets a migration seal secrets stored in clear."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["secret_box"] = secret_box
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:  # processes starting together migrate one at a time
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            if self.is_sqlite:
                connection.exec_driver_sql("COMMIT")
            else:
                connection.commit()

    def read(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as connection:
            return fn(connection)

    async def read_async(self, fn: Callable[[Connection], T]) -> T:
        """`read`, for code on the event loop. A SQLite read is a local file's page cache, done
        inline; a PostgreSQL read waits on the network, so it runs in a reader thread and the
        loop serves others meanwhile (and a database that stops answering stalls only the
        requests that read it)."""
        if self.is_sqlite:
            return self.read(fn)
        if self._readers is None:
            self._readers = ThreadPoolExecutor(self.pool.size, thread_name_prefix="bluewire-read")
        return await asyncio.get_running_loop().run_in_executor(self._readers, self.read, fn)

    async def read_long(self, fn: Callable[[Connection], T]) -> T:
        """`read`, for a long read (seconds of scanning) on either engine: in a reader thread,
        so the loop serves others meanwhile even on SQLite, whose driver lets go of the
        interpreter while it steps through rows."""
        if self._readers is None:
            self._readers = ThreadPoolExecutor(self.pool.size, thread_name_prefix="bluewire-read")
        return await asyncio.get_running_loop().run_in_executor(self._readers, self.read, fn)

    def dispose(self) -> None:
        if self._readers is not None:
            self._readers.shutdown(wait=False, cancel_futures=True)
            self._readers = None
        self.engine.dispose()
