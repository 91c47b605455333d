"""Leases on things that must be run by exactly one process (connector_leases)."""

from __future__ import annotations

import time

from sqlalchemy import Connection, bindparam, text

from .writer import Tx

# Taken when free, expired, or already ours: then, and only then, it returns a row.
_TAKE = (
    "INSERT INTO connector_leases (name, owner, expires_at, acquired_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, "
    "acquired_at = CASE WHEN connector_leases.owner = excluded.owner "
    "THEN connector_leases.acquired_at ELSE excluded.acquired_at END "
    "WHERE connector_leases.owner = excluded.owner OR connector_leases.expires_at <= ? "
    "RETURNING owner"
)
_RELEASE = "UPDATE connector_leases SET expires_at = 0 WHERE name = ? AND owner = ?"
# The database's clock, not the process's: processes on machines whose clocks disagree still
# agree on when a lease ends.
_NOW = {False: "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        True: "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"}


def database_now_ms(tx: Tx) -> int:
    return int(tx.query(_NOW[tx.is_postgresql])[0][0])


def take_or_renew(tx: Tx, name: str, owner: str, term_ms: int) -> bool:
    """Hold `name` for `term_ms` more if it is free, expired or ours; whether `owner` holds it."""
    now = database_now_ms(tx)
    return bool(tx.query(_TAKE, (name, owner, now + term_ms, now, now)))  # a row: ours now


def release(tx: Tx, name: str, owner: str) -> None:
    """Give `name` up now, if `owner` holds it (a clean stop: the next owner need not wait)."""
    tx.execute_many(_RELEASE, [(name, owner)])


def expire_all(tx: Tx) -> int:
    """End every lease (a single-process store at start: their holder is gone)."""
    return len(tx.query("UPDATE connector_leases SET expires_at = 0 WHERE expires_at > 0 "
                        "RETURNING name"))


def live(conn: Connection, names: list[str]) -> set[str]:
    """Which of `names` some process holds now."""
    if not names:
        return set()
    now = _NOW[conn.dialect.name == "postgresql"]
    query = text(f"SELECT name FROM connector_leases WHERE name IN :names "
                 f"AND expires_at > ({now})").bindparams(bindparam("names", expanding=True))
    return {row[0] for row in conn.execute(query, {"names": names})}


def lease_clock_ms(tx: Tx) -> int:
    """Now, as leases and due times are written and judged in `tx`: by the database's clock on
    PostgreSQL, where processes whose clocks disagree (one of them stepped) share the work; by
    the process's on SQLite, which one process serves."""
    if tx.is_postgresql:
        return database_now_ms(tx)
    if tx.clock_offset_ms is not None:  # the clock the transaction began with (clock_steps.py)
        return time.monotonic_ns() // 1_000_000 + tx.clock_offset_ms
    return time.time_ns() // 1_000_000
