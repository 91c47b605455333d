"""GET /api/v2/events: the account's live events as Server-Sent Events, as in Sendblue's docs."""

from __future__ import annotations

import asyncio
import logging
import time

from ..domain.account_events import HEARTBEAT, READY, parse_types
from ..domain.wire.events import AccountEvent, EventsQuery
from ..services.event_feed import EventFeed, Subscription
from .endpoint import Endpoint
from .http import Handler, Request, StreamingResponse

log = logging.getLogger(__name__)

STREAM_EVENTS = Endpoint(
    "GET", "/api/v2/events", "The account's live events (SSE)", "Events", params=EventsQuery,
    response=AccountEvent, response_media="text/event-stream",
    description="Server-Sent Events, live only (no replay): `: ready` first, then "
                "`event: <type>` and `data: <AccountEvent JSON>` frames, a `: heartbeat` "
                "comment after 15 s without events, and a clean end after 15 minutes (both by "
                "default; reconnect, and repair gaps over REST). Never `id:` or `retry:` lines. An "
                "unknown type in `types` is a 400 before the stream starts.")

_HEADERS = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]


class EventStream:
    """The body of one event stream: `: ready`, then event frames and heartbeat comments, until
    it rotates (after `max_seconds`), the subscription is closed, or the client goes."""

    def __init__(self, subscription: Subscription, *, heartbeat_s: float,
                 max_seconds: float) -> None:
        self._subscription = subscription
        self._heartbeat_s = heartbeat_s
        self._started = time.monotonic()
        self._deadline = self._started + max_seconds
        self._opened = False
        self._ended: str | None = None

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> bytes:
        if not self._opened:
            self._opened = True
            return READY
        while self._ended is None:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                self._ended = "rotated"
                break
            try:
                async with asyncio.timeout(min(self._heartbeat_s, remaining)):
                    frames = await self._subscription.next()
            except TimeoutError:
                if time.monotonic() < self._deadline:
                    return HEARTBEAT
                continue
            if not frames:
                self._ended = self._subscription.closed_reason or "closed"
                break
            return b"".join(frames)
        raise StopAsyncIteration

    async def aclose(self) -> None:
        subscription = self._subscription
        if subscription.closed_reason is None:
            subscription.close(self._ended or "client disconnected")
        log.info("event stream of account %s ended (%s) after %.1f s, %d events",
                 subscription.account_id, subscription.closed_reason,
                 time.monotonic() - self._started, subscription.sent)


def event_stream_handler(feed: EventFeed, *, heartbeat_ms: int, max_seconds: int) -> Handler:
    async def stream_events(request: Request) -> StreamingResponse:
        types = parse_types(request.args.types)
        subscription = feed.subscribe(request.account.id, types)
        body = EventStream(subscription, heartbeat_s=heartbeat_ms / 1000,
                           max_seconds=max_seconds)
        return StreamingResponse(body, content_type=b"text/event-stream", headers=_HEADERS)

    return stream_events

