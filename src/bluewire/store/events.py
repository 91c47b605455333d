"""Reading the event log in id order, for the live event feed."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, bindparam, func, select

from .schema import events


class EventRow(NamedTuple):
    id: int
    public_id: str  # the id the world sees (the stream's and the webhooks')
    account_id: int | None
    type: str
    occurred_at: int
    data: str  # JSON text


_AFTER = (
    select(events.c.id, events.c.public_id, events.c.account_id, events.c.type,
           events.c.occurred_at, events.c.data)
    .where(events.c.id > bindparam("cursor"))
    .order_by(events.c.id)
    .limit(bindparam("limit"))
)
_LATE = (
    select(events.c.id, events.c.public_id, events.c.account_id, events.c.type,
           events.c.occurred_at, events.c.data)
    .where(events.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(events.c.id)
)
_IDS_ABOVE = select(events.c.id).where(events.c.id > bindparam("floor")).order_by(events.c.id)
_LAST_ID = select(func.coalesce(func.max(events.c.id), 0))


def events_after(conn: Connection, cursor: int, limit: int) -> list[EventRow]:
    """Up to `limit` events with an id above `cursor`, oldest first."""
    return [EventRow(*row) for row in conn.execute(_AFTER, {"cursor": cursor, "limit": limit})]


def events_with_ids(conn: Connection, ids: list[int]) -> list[EventRow]:
    """Those of the events `ids` that exist now, oldest first."""
    return [EventRow(*row) for row in conn.execute(_LATE, {"ids": ids})]


def event_ids_above(conn: Connection, floor: int) -> list[int]:
    """The ids of the events above `floor`, in order."""
    return list(conn.execute(_IDS_ABOVE, {"floor": floor}).scalars())


def last_event_id(conn: Connection) -> int:
    """The highest event id written so far (0 for an empty log)."""
    return int(conn.execute(_LAST_ID).scalar_one())
