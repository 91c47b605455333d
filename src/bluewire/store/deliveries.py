"""Queries on webhook deliveries and their attempts: the outbox and its log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select, update

from .schema import deliveries, delivery_attempts, events
from .writer import Tx

PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"
STATES = (PENDING, DELIVERED, FAILED, CANCELLED)
# Whose secret signs a delivery's attempts (`signer`; NULL: unsigned): the endpoint's own or
# else the account's global one; or the global one (a status_callback).
BY_ENDPOINT, BY_ACCOUNT = "endpoint", "account"


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    """A claimed delivery: what one attempt needs."""

    id: int
    account_id: int
    event_id: str
    event_type: str
    endpoint_id: int | None
    url: str
    signer: str | None
    message_handle: str | None
    payload: str
    attempts: int


@dataclass(frozen=True, slots=True)
class AttemptResult:
    delivery_id: int
    attempted_at: int
    latency_ms: float
    status_code: int | None
    error: str | None
    response: str | None
    state: str  # the delivery's state after this attempt
    next_attempt_at: int | None


def add_delivery(tx: Tx, *, account_id: int, event_id: str, event_type: str,
                 endpoint_id: int | None, url: str, signer: str | None,
                 message_handle: str | None, payload: str, now: int) -> None:
    tx.insert(deliveries, {
        "account_id": account_id, "event_id": event_id, "event_type": event_type,
        "endpoint_id": endpoint_id, "url": url, "signer": signer,
        "message_handle": message_handle, "payload": payload, "state": PENDING,
        "attempts": 0, "next_attempt_at": now, "created_at": now,
    })


_JOB_COLUMNS = ("id, account_id, event_id, event_type, endpoint_id, url, signer, "
                "message_handle, payload, attempts")
# Deliveries of one message to one URL are first attempted in event order. Within a process the
# worker sees to that (claims come in id order). With several processes (PostgreSQL), a
# delivery is also held back while an earlier one to the same URL about the same message is
# in flight elsewhere without a recorded attempt.
_CLAIM = (
    "UPDATE deliveries SET claimed_until = ? WHERE id IN ("
    "SELECT d.id FROM deliveries d WHERE d.state = 'pending' AND d.next_attempt_at <= ? "
    "AND (d.claimed_until IS NULL OR d.claimed_until <= ?) {guard}"
    "ORDER BY d.next_attempt_at, d.id LIMIT ?{lock}) "
    f"RETURNING {_JOB_COLUMNS}"
)
_IN_FLIGHT_ELSEWHERE = (
    "AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.message_handle = d.message_handle "
    "AND e.url = d.url AND e.id < d.id AND e.state = 'pending' AND e.attempts = 0 "
    "AND e.claimed_until > %(now)s) "
)


def claim_due(tx: Tx, now: int, lease_until: int, limit: int,
              skip_urls: Sequence[str] = ()) -> list[DeliveryJob]:
    """Up to `limit` due deliveries, leased until `lease_until`, none to a URL in `skip_urls`
    (URLs the worker already has as many attempts in flight to as it allows)."""
    skip = f"AND d.url NOT IN ({', '.join('?' * len(skip_urls))}) " if skip_urls else ""
    if tx.is_postgresql:
        guard = _IN_FLIGHT_ELSEWHERE % {"now": "?"}
        sql = _CLAIM.format(guard=guard + skip, lock=" FOR UPDATE SKIP LOCKED")
        rows = tx.query(sql, (lease_until, now, now, now, *skip_urls, limit))
    else:
        rows = tx.query(_CLAIM.format(guard=skip, lock=""),
                        (lease_until, now, now, *skip_urls, limit))
    jobs = [DeliveryJob(*row) for row in rows]
    jobs.sort(key=lambda job: job.id)
    return jobs


def release_claims(tx: Tx, ids: Sequence[int]) -> None:
    """Hand claimed deliveries back, due as they were, for a later claim."""
    tx.execute(update(deliveries).where(deliveries.c.id.in_(ids), deliveries.c.state == PENDING)
               .values(claimed_until=None))


_RECORD = (
    "UPDATE deliveries SET attempts = attempts + 1, state = ?, next_attempt_at = ?, "
    "claimed_until = NULL, last_attempt_at = ?, last_status = ?, last_error = ?, "
    "delivered_at = CASE WHEN ? THEN ? ELSE delivered_at END WHERE id = ?"
)


def record_attempts(tx: Tx, results: list[AttemptResult]) -> None:
    for result in results:
        tx.insert(delivery_attempts, {
            "delivery_id": result.delivery_id, "attempted_at": result.attempted_at,
            "status_code": result.status_code, "error": result.error,
            "latency_ms": result.latency_ms, "response": result.response,
        })
    tx.execute_many(_RECORD, [
        (r.state, r.next_attempt_at, r.attempted_at, r.status_code, r.error,
         r.state == DELIVERED, r.attempted_at, r.delivery_id)
        for r in results
    ])


def expire_claims(tx: Tx) -> int:
    """Make every delivery lease due now (a single-process store at start: its holder is gone)."""
    result = tx.execute(
        update(deliveries)
        .where(deliveries.c.state == PENDING, deliveries.c.claimed_until.is_not(None))
        .values(claimed_until=None)
    )
    return result.rowcount or 0


def cancel_pending(tx: Tx, endpoint_ids: list[int], reason: str) -> None:
    tx.execute(
        update(deliveries)
        .where(deliveries.c.endpoint_id.in_(endpoint_ids), deliveries.c.state == PENDING)
        .values(state=CANCELLED, next_attempt_at=None, claimed_until=None, last_error=reason)
    )


def detach_endpoints(tx: Tx, endpoint_ids: list[int]) -> None:
    """Before endpoints are deleted: stop what is pending for them, keep the history (whose
    resend goes unsigned: the endpoint's secret is gone with it)."""
    cancel_pending(tx, endpoint_ids, "endpoint removed")
    tx.execute(update(deliveries).where(deliveries.c.endpoint_id.in_(endpoint_ids))
               .values(endpoint_id=None, signer=None))


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    account_id: int
    message_handle: str | None = None
    endpoint_id: int | None = None
    url: str | None = None
    state: str | None = None
    since: int | None = None
    until: int | None = None


def list_deliveries(conn: Connection, flt: DeliveryFilter, limit: int,
                    offset: int) -> tuple[list[Any], dict[int, list[Any]]]:
    """A page of deliveries (newest first) and the attempts of each, oldest first."""
    c = deliveries.c
    conditions = [c.account_id == flt.account_id]
    if flt.message_handle is not None:
        conditions.append(c.message_handle == flt.message_handle)
    if flt.endpoint_id is not None:
        conditions.append(c.endpoint_id == flt.endpoint_id)
    if flt.url is not None:
        conditions.append(c.url == flt.url)
    if flt.state is not None:
        conditions.append(c.state == flt.state)
    if flt.since is not None:
        conditions.append(c.created_at >= flt.since)
    if flt.until is not None:
        conditions.append(c.created_at <= flt.until)
    rows = conn.execute(
        select(deliveries).where(and_(*conditions)).order_by(c.id.desc())
        .limit(limit).offset(offset)
    ).all()
    attempts: dict[int, list[Any]] = {row.id: [] for row in rows}
    if rows:
        for attempt in conn.execute(
            select(delivery_attempts)
            .where(delivery_attempts.c.delivery_id.in_(list(attempts)))
            .order_by(delivery_attempts.c.id)
        ):
            attempts[attempt.delivery_id].append(attempt)
    return rows, attempts


def delivery_of(conn: Connection | Tx, account_id: int, delivery_id: int) -> Any | None:
    return conn.execute(
        select(deliveries).where(deliveries.c.id == delivery_id,
                                 deliveries.c.account_id == account_id)
    ).first()


def attempts_of(conn: Connection | Tx, delivery_id: int) -> list[Any]:
    """Every attempt of one delivery, oldest first."""
    return list(conn.execute(
        select(delivery_attempts).where(delivery_attempts.c.delivery_id == delivery_id)
        .order_by(delivery_attempts.c.id)
    ))


def copy_delivery(tx: Tx, source: Any, now: int) -> int:
    """A new pending delivery of the same event to the same URL, due now (a resend). The
    event id is kept, so the receiver sees the same `webhook-id` and can dedupe."""
    return int(tx.execute(
        deliveries.insert().values(
            account_id=source.account_id, event_id=source.event_id,
            event_type=source.event_type, endpoint_id=source.endpoint_id, url=source.url,
            signer=source.signer, message_handle=source.message_handle,
            payload=source.payload, state=PENDING, attempts=0, next_attempt_at=now,
            created_at=now,
        ).returning(deliveries.c.id)
    ).scalar_one())


@dataclass(frozen=True, slots=True)
class ReplayEvent:
    public_id: str
    type: str
    message_handle: str | None
    data: str  # JSON text: the payload every webhook of this event carries


def events_in_range(conn: Connection, account_id: int, types: list[str], since: int,
                    until: int, limit: int) -> list[ReplayEvent]:
    """Up to `limit` of an account's events of these types that occurred in [since, until],
    in id (event) order."""
    if not types:
        return []
    c = events.c
    rows = conn.execute(
        select(c.public_id, c.type, c.message_handle, c.data)
        .where(c.account_id == account_id, c.type.in_(types),
               c.occurred_at >= since, c.occurred_at <= until)
        .order_by(c.id).limit(limit)
    )
    return [ReplayEvent(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class MessageEvent:
    public_id: str
    type: str
    occurred_at: int
    data: str  # JSON text


def events_of_message(conn: Connection, account_id: int, message_handle: str,
                      since: int, limit: int) -> list[MessageEvent]:
    """Up to `limit` of an account's events about one message, oldest first. `since` (the
    message's creation) bounds the read to the account's events from then on (the index)."""
    c = events.c
    rows = conn.execute(
        select(c.public_id, c.type, c.occurred_at, c.data)
        .where(c.account_id == account_id, c.occurred_at >= since,
               c.message_handle == message_handle)
        .order_by(c.id).limit(limit)
    )
    return [MessageEvent(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class EndpointOutcomes:
    failing: int  # failed for good, or waiting to retry after a failed attempt
    delivered: int


def recent_outcomes(conn: Connection, account_id: int,
                    since: int) -> dict[int, EndpointOutcomes]:
    """How the account's deliveries created at or after `since` went, by endpoint, in one
    read of the log."""
    c = deliveries.c
    failing = or_(c.state == FAILED, and_(c.state == PENDING, c.attempts > 0))
    rows = conn.execute(
        select(c.endpoint_id,
               func.sum(case((failing, 1), else_=0)),
               func.sum(case((c.state == DELIVERED, 1), else_=0)))
        .where(c.account_id == account_id, c.endpoint_id.is_not(None), c.created_at >= since)
        .group_by(c.endpoint_id)
    )
    return {int(row[0]): EndpointOutcomes(int(row[1] or 0), int(row[2] or 0)) for row in rows}
