"""The ids networks gave our messages (the network_ids table)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from .schema import network_ids
from .writer import Tx

_REMEMBER = ("INSERT INTO network_ids (line, network_id, handle, created_at) VALUES (?, ?, ?, ?) "
             "ON CONFLICT (line, network_id) DO NOTHING")


def remember(tx: Tx, line: str, network_id: str, handle: str, now: int) -> None:
    """Keep `network_id` as the network's name of `handle` on `line` (once: a network id
    names one message for good, whichever process heard it first)."""
    tx.execute_many(_REMEMBER, [(line, network_id, handle, now)])


def handle_of(conn: Connection, line: str, network_id: str) -> str | None:
    return conn.execute(select(network_ids.c.handle).where(
        network_ids.c.line == line, network_ids.c.network_id == network_id)).scalar()


def network_id_of(conn: Connection, line: str, handle: str) -> str | None:
    return conn.execute(select(network_ids.c.network_id).where(
        network_ids.c.line == line, network_ids.c.handle == handle)
        .order_by(network_ids.c.created_at.desc()).limit(1)).scalar()
