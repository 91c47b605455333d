"""The databases tests run servers on: a SQLite file, or a fresh PostgreSQL database.

PostgreSQL is the server at BLUEWIRE_TEST_POSTGRES_URL (an admin connection) or, without it, a
private throwaway cluster started from Debian's binaries for the test session. Every PostgreSQL
database is a copy of a template migrated once per session, so a server starts on a full schema.

A test builds its servers on the *current* engine (`current()`, set with `using()`), unless it
names one.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row
from sqlalchemy.engine import URL, make_url

from bluewire.store.database import Database

ENGINES = ("sqlite", "postgresql")
POSTGRES_URL_ENV = "BLUEWIRE_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "BLUEWIRE_TEST_REQUIRE_POSTGRES"
POSTGRES_NOT_FOUND = ("PostgreSQL not found: install Debian's postgresql package or set "
                      f"{POSTGRES_URL_ENV}")
# Test data is throwaway: no durability, and room for every server's connection pool.
CLUSTER_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                    "max_connections": "300", "listen_addresses": "127.0.0.1"}


class Engine(Protocol):
    name: str

    def create(self, workdir: Path) -> str:
        """The URL of a fresh database for a server working in `workdir`."""
        ...


class Sqlite:
    name = "sqlite"

    def create(self, workdir: Path) -> str:
        return f"sqlite:///{workdir / 'bluewire.db'}"


class Postgres:
    """Databases on one PostgreSQL server, copied from a template migrated on entry; every
    database made is dropped on exit."""

    name = "postgresql"

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url).set(drivername="postgresql")
        self.template = f"bw_template_{uuid.uuid4().hex[:12]}"
        self.made: list[str] = []

    def __enter__(self) -> Postgres:
        self.admin(f"CREATE DATABASE {self.template}")
        self.made.append(self.template)
        database = Database(self.url_of(self.template))
        try:
            database.migrate()
        finally:
            database.dispose()
        return self

    def __exit__(self, *_: object) -> None:
        for name in reversed(self.made):
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.made.clear()

    def create(self, workdir: Path) -> str:
        name = f"bw_{uuid.uuid4().hex[:16]}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        self.made.append(name)
        return self.url_of(name)

    def url_of(self, database: str) -> str:
        return self.admin_url.set(database=database).render_as_string(hide_password=False)

    def admin(self, statement: str) -> None:
        """Run `statement` on the server's admin connection (outside any transaction)."""
        with psycopg.connect(libpq_url(self.admin_url), autocommit=True) as connection:
            connection.execute(statement)


SQLITE = Sqlite()
_current: Engine = SQLITE


def current() -> Engine:
    return _current


@contextmanager
def using(engine: Engine) -> Iterator[Engine]:
    """Make `engine` the current one for the duration."""
    global _current
    previous, _current = _current, engine
    try:
        yield engine
    finally:
        _current = previous


def engine_of(url: str) -> str:
    """The engine the database at `url` is on: "sqlite" or "postgresql"."""
    return make_url(url).get_backend_name()


def libpq_url(url: URL) -> str:
    """`url` as libpq (and so psycopg) takes it: without SQLAlchemy's driver name."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def query(url: str, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Run `sql` (with `?` placeholders) on the database at `url`; the rows, as dicts."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(parsed.database or "", timeout=30, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in connection.execute(sql, params)]
        finally:
            connection.close()
    with psycopg.connect(libpq_url(parsed), autocommit=True, row_factory=dict_row) as server:
        cursor = server.execute(sql.replace("%", "%%").replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description else []


def postgres_bindir() -> Path | None:
    """Where PostgreSQL's server programs are: Debian's newest, else pg_config's."""
    def version(initdb: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in initdb.parent.parent.name.split(".") if part.isdigit())

    if debian := sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=version):
        return debian[-1].parent
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        bindir = Path(found.stdout.strip())
        if found.returncode == 0 and (bindir / "initdb").exists():
            return bindir
    return None


@dataclass(frozen=True, slots=True)
class Cluster:
    url: str  # the admin URL
    data: Path  # the data directory (postmaster.pid says which process is the postmaster)


@contextmanager
def private_cluster(bindir: Path, settings: Mapping[str, str] = CLUSTER_SETTINGS,
                    cpu: int | None = None) -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster on a free loopback port, run with `settings` (the tests'
    throwaway ones by default), every process of it on `cpu` when one is given.

    initdb refuses to run as root, so as root the cluster runs as Debian's `postgres` user."""
    from .server import free_port

    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    home = Path(tempfile.mkdtemp(prefix="bluewire-pg-"))
    if as_root:
        postgres_user = pwd.getpwnam("postgres")
        os.chown(home, postgres_user.pw_uid, postgres_user.pw_gid)
    data, log = home / "data", home / "postgres.log"
    port = free_port()
    options = {**settings, "port": str(port), "unix_socket_directories": str(home)}

    def pin() -> None:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    def run(*command: str) -> None:
        done = subprocess.run([*run_as, *command], capture_output=True, text=True, timeout=120,
                              preexec_fn=pin)
        if done.returncode != 0:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}"
                               f"{server_log}")

    try:
        # --no-sync: only initdb's own files go unflushed; the server runs with `settings`.
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
        run(str(bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data), "-l", str(log),
            "-o", " ".join(f"-c {name}={value}" for name, value in options.items()))
        try:
            yield Cluster(f"postgresql://postgres@127.0.0.1:{port}/postgres", data)
        finally:
            run(str(bindir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(data))
    finally:
        shutil.rmtree(home, ignore_errors=True)
