"""The ids networks gave our messages (the network_ids table)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from .schema import network_ids
from .writer import Tx


def remember(tx: Tx, line: str, network_id: str, handle: str, now: int) -> None:
    """Keep `network_id` as the network's name of `handle` on `line` (once: a network id
    names one message for good)."""
    if tx.execute(select(network_ids.c.handle).where(
            network_ids.c.line == line, network_ids.c.network_id == network_id)).first():
        return
    tx.execute(network_ids.insert().values(line=line, network_id=network_id, handle=handle,
                                           created_at=now))


def handle_of(conn: Connection, line: str, network_id: str) -> str | None:
    return conn.execute(select(network_ids.c.handle).where(
        network_ids.c.line == line, network_ids.c.network_id == network_id)).scalar()


def network_id_of(conn: Connection, line: str, handle: str) -> str | None:
    return conn.execute(select(network_ids.c.network_id).where(
        network_ids.c.line == line, network_ids.c.handle == handle)
        .order_by(network_ids.c.created_at.desc()).limit(1)).scalar()
