"""What the operations metrics read from the store when scraped. Portable SQL (SQLite and
PostgreSQL): the claim-lag queries use the partial indexes the claims use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, func, or_, select

from .deliveries import FAILED, PENDING
from .schema import deliveries, messages


@dataclass(frozen=True, slots=True)
class StoreGauges:
    messages_by_status: dict[str, int]
    deliveries_pending: int  # not delivered yet, not given up: due now or waiting to retry
    deliveries_failed: int  # given up: retries exhausted, or the endpoint answered 410
    # Since when (epoch ms) the longest-waiting due work has waited unclaimed; None: none.
    oldest_due_message: int | None
    oldest_due_delivery: int | None


def read_gauges(conn: Connection, now: int) -> StoreGauges:
    m, d = messages.c, deliveries.c
    by_status = {status: int(count) for status, count in conn.execute(
        select(m.status, func.count()).group_by(m.status))}
    by_state = {state: int(count) for state, count in conn.execute(
        select(d.state, func.count()).where(d.state.in_((PENDING, FAILED))).group_by(d.state))}
    # A new message is due from its creation (claimed_until 0); an expired lease from its end.
    message_due_since = case((m.claimed_until > 0, m.claimed_until), else_=m.created_at)
    oldest_message = conn.execute(
        select(func.min(message_due_since))
        .where(m.claimed_until.is_not(None), m.claimed_until <= now)
    ).scalar()
    delivery_due_since = case(
        (and_(d.claimed_until.is_not(None), d.claimed_until > d.next_attempt_at),
         d.claimed_until),
        else_=d.next_attempt_at)
    oldest_delivery = conn.execute(
        select(func.min(delivery_due_since))
        .where(d.state == PENDING, d.next_attempt_at <= now,
               or_(d.claimed_until.is_(None), d.claimed_until <= now))
    ).scalar()
    return StoreGauges(
        messages_by_status=by_status,
        deliveries_pending=by_state.get(PENDING, 0),
        deliveries_failed=by_state.get(FAILED, 0),
        oldest_due_message=None if oldest_message is None else int(oldest_message),
        oldest_due_delivery=None if oldest_delivery is None else int(oldest_delivery),
    )
