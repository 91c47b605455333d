"""The stores the benchmarks run bluewire on, and the PostgreSQL server behind pg1 and pg2.

PostgreSQL is the server at BLUEWIRE_BENCH_POSTGRES_URL (an admin connection; not pinned, and
its CPU not counted) or else a private cluster started for the run from the binaries
tests/databases.py finds and starts, with PostgreSQL's default, production durability (fsync and
synchronous_commit on) and its processes pinned to the server CPU, so that the server's core
carries the whole server side, database included. Each measured server gets a fresh database,
dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from harness import REPO, process_tree

for _path in (REPO / "src", REPO):  # tests/databases.py, and the bluewire it imports
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from tests.databases import libpq_url, postgres_bindir, private_cluster, query  # noqa: E402

URL_ENV = "BLUEWIRE_BENCH_POSTGRES_URL"
# PostgreSQL's defaults, spelled out: every commit is flushed to disk before it returns.
DURABLE_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on",
                    "listen_addresses": "127.0.0.1"}

__all__ = ["STORES", "Postgres", "Store", "Stores", "add_stores_argument", "database_pid",
           "insert_rows", "open_stores", "query", "store_database"]


@dataclass(frozen=True, slots=True)
class Store:
    name: str  # as --stores spells it
    description: str
    workers: int  # bluewire server processes (`serve --workers N` when more than one)
    postgres: bool


STORES = {
    "sqlite": Store("sqlite", "one bluewire process on a SQLite file", 1, postgres=False),
    "pg1": Store("pg1", "one bluewire process on PostgreSQL", 1, postgres=True),
    "pg2": Store("pg2", "`bluewire serve --workers 2` on PostgreSQL", 2, postgres=True),
}


@dataclass(frozen=True, slots=True)
class Postgres:
    admin_url: str
    postmaster_pid: int | None  # set when the cluster is ours, pinned to the server CPU
    version: str
    settings: dict[str, str]

    @property
    def pinned(self) -> bool:
        return self.postmaster_pid is not None

    def describe(self, server_cpu: int) -> list[str]:
        durability = ", ".join(f"{name}={value}" for name, value in self.settings.items())
        if self.pinned:
            return [f"PostgreSQL {self.version}, a private cluster ({durability}), pinned to CPU "
                    f"{server_cpu}:", "  the database shares the server's core; its CPU is "
                    "counted with the server's (db), not as noise"]
        return [f"PostgreSQL {self.version} at {URL_ENV} ({durability}), NOT pinned:",
                "  the database's CPU is not counted; what of it runs on CPU "
                f"{server_cpu} shows as noise"]


class PostgresUnavailable(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Stores:
    """What a run measures: the stores, the PostgreSQL they need, and why some were skipped."""

    stores: list[Store]
    postgres: Postgres | None
    skipped: str | None = None

    def describe(self, server_cpu: int) -> list[str]:
        lines = [f"{store.name:<7}{store.description}, on CPU {server_cpu}"
                 for store in self.stores]
        if self.postgres is not None:
            lines.extend(self.postgres.describe(server_cpu))
        if self.skipped is not None:
            lines.append(f"PostgreSQL rows (pg1, pg2) skipped: {self.skipped}")
        return lines


def add_stores_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stores", type=_parse_stores, default=None, metavar="sqlite,pg1,pg2",
        help="what bluewire runs on, measured in this order: sqlite; pg1 = one process on "
             "PostgreSQL; pg2 = `serve --workers 2` on PostgreSQL (default: all three if "
             f"PostgreSQL is available: {URL_ENV}, or a private cluster from Debian's "
             "binaries; else sqlite)")


def _parse_stores(text: str) -> list[Store]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in STORES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown store(s) {unknown}: choose from {', '.join(STORES)}")
    return [STORES[name] for name in dict.fromkeys(names)]


def open_stores(requested: list[Store] | None, server_cpu: int, stack: ExitStack) -> Stores:
    """The stores to measure, and the PostgreSQL they need (kept open by `stack`).

    Without --stores, a PostgreSQL that cannot be had drops pg1 and pg2 with a note saying why;
    named in --stores, it is an error."""
    stores = requested or list(STORES.values())
    if not any(store.postgres for store in stores):
        return Stores(stores, None)
    try:
        return Stores(stores, stack.enter_context(postgres_server(server_cpu)))
    except PostgresUnavailable as exc:
        if requested is not None:
            sys.exit(f"--stores asks for PostgreSQL, which is not available: {exc}")
        print(f"note: PostgreSQL rows (pg1, pg2) skipped: {exc}", flush=True)
        return Stores([store for store in stores if not store.postgres], None, str(exc))


@contextmanager
def postgres_server(server_cpu: int) -> Iterator[Postgres]:
    if admin_url := os.environ.get(URL_ENV):
        yield _describe(admin_url, None)
        return
    bindir = postgres_bindir()
    if bindir is None:
        raise PostgresUnavailable(f"{URL_ENV} is not set and no PostgreSQL server binaries were "
                                  "found (apt-get install postgresql)")
    with durable_cluster(bindir, server_cpu) as (admin_url, postmaster):
        yield _describe(admin_url, postmaster)


def _describe(admin_url: str, postmaster: int | None) -> Postgres:
    names = ("server_version", "fsync", "synchronous_commit", "full_page_writes")
    try:
        with psycopg.connect(libpq_url(make_url(admin_url)), autocommit=True,
                             connect_timeout=10) as connection:
            shown = {name: str(connection.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
                     for name in names}
    except psycopg.Error as exc:
        raise PostgresUnavailable(f"cannot connect to {_safe(admin_url)}: {exc}") from exc
    version = shown.pop("server_version").split()[0]
    return Postgres(admin_url, postmaster, version, shown)


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# -- a private cluster -------------------------------------------------------------------------


@contextmanager
def durable_cluster(bindir: Path, cpu: int) -> Iterator[tuple[str, int]]:
    """A throwaway cluster with production durability on a free loopback port, every process
    of it pinned to `cpu`: (its admin URL, the postmaster's pid)."""
    try:
        with private_cluster(bindir, DURABLE_SETTINGS, cpu) as cluster:
            yield cluster.url, _pin_postmaster(cluster.data, cpu)
    except RuntimeError as exc:  # the cluster would not start
        raise PostgresUnavailable(str(exc)) from exc


def _pin_postmaster(data: Path, cpu: int) -> int:
    """Pin the postmaster and the processes it already started to `cpu` (they were started
    pinned; this makes sure); the backends it forks later inherit it."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    for pid in process_tree(postmaster):
        os.sched_setaffinity(pid, {cpu})
    return postmaster


def database_pid(store: Store, postgres: Postgres | None) -> int | None:
    """The postmaster whose processes count as `store`'s server side, if it is ours."""
    return postgres.postmaster_pid if store.postgres and postgres is not None else None


# -- a fresh database per measured server ------------------------------------------------------


@contextmanager
def store_database(store: Store, postgres: Postgres | None, workdir: Path) -> Iterator[str]:
    """The URL of a fresh database of `store` for a server working in `workdir`; a PostgreSQL
    database is dropped afterwards (the server migrates it when it starts)."""
    if not store.postgres:
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    assert postgres is not None
    admin = make_url(postgres.admin_url)
    name = f"bw_bench_{uuid.uuid4().hex[:12]}"
    _admin(postgres, f"CREATE DATABASE {name}")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _admin(postgres: Postgres, statement: str) -> None:
    with psycopg.connect(libpq_url(make_url(postgres.admin_url)), autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def insert_rows(url: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                ) -> None:
    """Write `rows` into `table` of the database at `url` in one transaction."""
    parsed = make_url(url)
    names = ", ".join(columns)
    if parsed.get_backend_name() == "sqlite":
        with sqlite3.connect(parsed.database or "") as connection:
            marks = ", ".join("?" for _ in columns)
            connection.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        return
    copy_rows = f"COPY {table} ({names}) FROM STDIN"
    with (psycopg.connect(libpq_url(parsed)) as connection, connection.cursor() as cursor,
          cursor.copy(copy_rows) as copy):  # type: ignore[arg-type]
        for row in rows:
            copy.write_row(row)
