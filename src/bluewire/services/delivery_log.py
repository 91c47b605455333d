"""The webhook delivery log (every delivery and each of its attempts), resend and replay.

Resend makes a new pending delivery of the same event to the same URL; replay makes one for
every event of a time range that an endpoint hears, whether or not it was ever sent there (so
events from before the endpoint existed are delivered too). Both keep the event's id as the
`webhook-id`, so receivers dedupe what they had already seen.
"""

from __future__ import annotations

from typing import Any, get_args

import msgspec
from msgspec import UNSET

from ..domain.errors import not_found, validation_error
from ..domain.payloads import iso
from ..domain.query import parse_moment
from ..domain.webhooks import TYPE_FOR_EVENT
from ..domain.wire.webhooks import (
    MAX_REPLAY_EVENTS,
    DeliveryQuery,
    DeliveryState,
    ReplayRequest,
)
from ..store import deliveries as store
from ..store import webhooks as webhook_store
from ..store.accounts import Account
from ..store.database import Database, now_ms
from ..store.deliveries import STATES, DeliveryFilter, EndpointOutcomes, ReplayEvent
from ..store.notifications import DELIVERIES
from ..store.webhooks import Endpoint
from ..store.writer import Tx, Writer

assert get_args(DeliveryState) == STATES

_decode = msgspec.json.Decoder().decode
MAX_MESSAGE_EVENTS = 500  # a message's events: its creation and each change of its status


class DeliveryLog:
    def __init__(self, database: Database, writer: Writer) -> None:
        self._database = database
        self._writer = writer

    async def list(self, account: Account, query: DeliveryQuery) -> dict[str, Any]:
        flt = DeliveryFilter(
            account_id=account.id,
            message_handle=query.message or None,
            endpoint_id=None if query.endpoint_id is UNSET else query.endpoint_id,
            url=query.url or None,
            state=query.state,
            since=parse_moment(query.since, "since"),
            until=parse_moment(query.until, "until"),
        )
        limit, offset = query.limit, query.offset
        rows, attempts = await self._database.read_async(
            lambda conn: store.list_deliveries(conn, flt, limit + 1, offset))
        return {
            "status": "OK",
            "data": [delivery_view(row, attempts[row.id]) for row in rows[:limit]],
            "pagination": {"limit": limit, "offset": offset, "hasMore": len(rows) > limit},
        }

    async def get(self, account: Account, delivery_id: int) -> dict[str, Any]:
        def read(conn: Any) -> tuple[Any, list[Any]] | None:
            row = store.delivery_of(conn, account.id, delivery_id)
            return None if row is None else (row, store.attempts_of(conn, delivery_id))

        found = await self._database.read_async(read)
        if found is None:
            raise not_found(f"No webhook delivery {delivery_id}")
        row, attempts = found
        return {"status": "OK",
                "data": {**delivery_view(row, attempts), "payload": _decode(row.payload)}}

    async def message_events(self, account: Account, handle: str,
                             created_at: int) -> list[dict[str, Any]]:
        """The account's events about one message (created at `created_at`), oldest first,
        as its webhooks carry them: what the deliveries of `list(message=handle)` sent."""
        found = await self._database.read_async(lambda conn: store.events_of_message(
            conn, account.id, handle, created_at, MAX_MESSAGE_EVENTS))
        return [{"id": event.public_id, "type": event.type,
                 "occurred_at": iso(event.occurred_at), "data": _decode(event.data)}
                for event in found]

    async def endpoint_outcomes(self, account: Account,
                                since: int) -> dict[int, EndpointOutcomes]:
        """By endpoint id, how many of its deliveries since `since` are failing and how many
        were delivered: what marks an endpoint that is failing now."""
        return await self._database.read_async(
            lambda conn: store.recent_outcomes(conn, account.id, since))

    async def resend(self, account: Account, delivery_id: int) -> dict[str, Any]:
        def op(tx: Tx) -> Any | None:
            source = store.delivery_of(tx, account.id, delivery_id)
            if source is None:
                return None
            new_id = store.copy_delivery(tx, source, now_ms())
            tx.notify(DELIVERIES)
            return store.delivery_of(tx, account.id, new_id)

        row = await self._writer.submit(op)
        if row is None:
            raise not_found(f"No webhook delivery {delivery_id}")
        return {"status": "OK", "message": f"Delivery {delivery_id} queued again as {row.id}",
                "resent_from": delivery_id, "data": delivery_view(row, [])}

    async def replay(self, account: Account, body: ReplayRequest) -> dict[str, Any]:
        since = parse_moment(body.since, "since")
        if since is None:
            raise validation_error("`since` is required: the ISO 8601 start of the time range")
        until = parse_moment(body.until, "until")
        until = now_ms() if until is None else until
        if until < since:
            raise validation_error("`until` must not be before `since`")
        endpoints, global_secret = await self._database.read_async(
            lambda conn: (webhook_store.endpoints_of(conn, account.id),
                          webhook_store.global_secret_of(conn, account.id)))
        targets = _targets(endpoints, body)
        url = targets[0].url
        types = sorted({event for event, endpoint_type in TYPE_FOR_EVENT.items()
                        if any(endpoint.type == endpoint_type for endpoint in targets)})
        found = await self._database.read_async(lambda conn: store.events_in_range(
            conn, account.id, types, since, until, MAX_REPLAY_EVENTS + 1))
        if len(found) > MAX_REPLAY_EVENTS:
            raise validation_error(
                f"The range holds more than {MAX_REPLAY_EVENTS} events for {url}: replay a "
                "shorter range (`since`/`until`) at a time")
        rows = [row for row in (_replay_row(account.id, event, targets, global_secret)
                                for event in found) if row is not None]

        def op(tx: Tx) -> None:
            now = now_ms()
            for row in rows:
                store.add_delivery(tx, **row, now=now)
            if rows:
                tx.notify(DELIVERIES)

        await self._writer.submit(op)
        return {"status": "OK", "message": f"Queued {len(rows)} deliveries to {url}",
                "queued": len(rows), "url": url,
                "endpoint_ids": [endpoint.id for endpoint in targets],
                "since": iso(since), "until": iso(until)}


def delivery_view(row: Any, attempts: list[Any]) -> dict[str, Any]:
    """A delivery as the API shows it (without its payload; it holds no secret)."""
    return {
        "id": row.id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "endpoint_id": row.endpoint_id,
        "url": row.url,
        "signed": row.signer is not None,
        "message_handle": row.message_handle,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": iso(row.next_attempt_at) if row.state == store.PENDING else None,
        "created_at": iso(row.created_at),
        "last_attempt_at": iso(row.last_attempt_at),
        "delivered_at": iso(row.delivered_at),
        "last_status": row.last_status,
        "last_error": row.last_error,
        "attempts_log": [
            {"attempted_at": iso(a.attempted_at), "status_code": a.status_code,
             "error": a.error, "latency_ms": a.latency_ms, "response": a.response}
            for a in attempts
        ],
    }


def _targets(endpoints: list[Endpoint], body: ReplayRequest) -> list[Endpoint]:
    """The account's endpoints a replay goes to: the one with `endpoint_id`, or every one with
    `url` (one per type; an event goes to the URL once, as the outbox sends it)."""
    endpoint_id, url = body.endpoint_id, body.url
    if (endpoint_id is None) == (url is None):
        raise validation_error("Give either `url` or `endpoint_id`: the webhook endpoint to "
                               "replay to")
    if endpoint_id is not None:
        targets = [endpoint for endpoint in endpoints if endpoint.id == endpoint_id]
        where = f"`endpoint_id` {endpoint_id}"
    else:
        if not url:
            raise validation_error("`url` must be the URL of a webhook endpoint")
        targets = [endpoint for endpoint in endpoints if endpoint.url == url]
        where = f"`url` {url}"
    if not targets:
        raise validation_error(f"{where} is not a webhook endpoint of this account "
                               "(see GET /api/account/webhooks)")
    live = [endpoint for endpoint in targets if endpoint.disabled_reason is None]
    if not live:
        raise validation_error(f"{where} is disabled ({targets[0].disabled_reason}); "
                               "configure it again before replaying to it")
    return live


def _replay_row(account_id: int, event: ReplayEvent, targets: list[Endpoint],
                global_secret: str | None) -> dict[str, Any] | None:
    endpoint_type = TYPE_FOR_EVENT.get(event.type)
    line: str | None = None
    line_read = False
    for endpoint in targets:
        if endpoint.type != endpoint_type:
            continue
        if endpoint.lines is not None:
            if not line_read:
                line, line_read = _line_of(event.data), True
            if not endpoint.hears_line(line):
                continue
        return {"account_id": account_id, "event_id": event.public_id,
                "event_type": event.type, "endpoint_id": endpoint.id, "url": endpoint.url,
                "signer": (store.BY_ENDPOINT if endpoint.secret is not None
                           or global_secret is not None else None),
                "message_handle": event.message_handle, "payload": event.data}
    return None


def _line_of(data: str) -> str | None:
    """The line (`sendblue_number`) an event is about, if its data names one."""
    decoded = _decode(data)
    line = decoded.get("sendblue_number") if isinstance(decoded, dict) else None
    return line if isinstance(line, str) and line else None
