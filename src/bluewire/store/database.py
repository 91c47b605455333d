"""The database: engine, connection set-up, migrations, and the read path."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Database:
    """One engine; reads run inline on a pooled connection, writes go through a Writer."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL") -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine: Engine = self._create_engine(sqlite_synchronous)

    def _create_engine(self, sqlite_synchronous: str) -> Engine:
        if not self.is_sqlite:
            return create_engine(self.url, pool_pre_ping=True)
        if self.url.database in (None, "", ":memory:"):
            raise ValueError("bluewire needs a SQLite file (sqlite:///path.db), not :memory:")
        if sqlite_synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError("BLUEWIRE_SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA")
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
            cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache a connection
            cursor.execute("PRAGMA mmap_size=268435456")  # read through the page cache, not pread
            cursor.close()

        return engine

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            if self.is_sqlite:
                connection.exec_driver_sql("COMMIT")
            else:
                connection.commit()

    def read(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as connection:
            return fn(connection)

    def dispose(self) -> None:
        self.engine.dispose()
