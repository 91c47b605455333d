"""GET <root>/events: the signed-in account's live events, for pages that update as things
happen. It is the API's event stream (GET /api/v2/events) on the same feed and in the same
frames (`event: <type>`, `data: <AccountEvent JSON>`, heartbeat comments, `?types=` to choose),
authenticated by the session cookie instead of the key pair.

A page subscribes through htmx's SSE extension: an element with `hx-ext="sse"` and
`sse-connect="{{ root }}/events"` (base.html puts them on `<main>` for a page that passes
`live=True` to `page()`), whose descendants react with `hx-trigger="sse:message.created"` or
`sse-swap="message.created"`.

The stream also ends when its session does (signed out, idled out, key revoked): it checks the
session at each heartbeat interval, without counting that as use.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ..api.events import EventStream
from ..domain.account_events import parse_types
from ..services.event_feed import EventFeed, Subscription
from .sessions import COOKIE, ConsoleSessions

_HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}


def routes(feed: EventFeed, sessions: ConsoleSessions, *, heartbeat_ms: int,
           max_seconds: int) -> list[Route]:
    check_every_s = heartbeat_ms / 1000

    async def events(request: Request) -> Response:
        session = request.state.session
        types = parse_types(request.query_params.get("types"))  # an unknown type: a 400 page
        subscription = feed.subscribe(session.account_id, types)
        stream = EventStream(subscription, heartbeat_s=check_every_s, max_seconds=max_seconds)
        watch = asyncio.ensure_future(_end_with_session(
            subscription, sessions, request.cookies.get(COOKIE), check_every_s))
        return _EventStreamResponse(stream, watch)

    return [Route("/events", events, methods=["GET"])]


class _EventStreamResponse(StreamingResponse):
    """Ends its subscription however the response ends: finished, client gone, never begun."""

    def __init__(self, stream: EventStream, watch: asyncio.Future[None]) -> None:
        super().__init__(stream, media_type="text/event-stream", headers=_HEADERS)
        self._stream = stream
        self._watch = watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            await self._stream.aclose()


async def _end_with_session(subscription: Subscription, sessions: ConsoleSessions,
                            token: str | None, every_s: float) -> None:
    while subscription.closed_reason is None:
        await asyncio.sleep(every_s)
        try:
            alive = await sessions.resolve(token, touch=False) is not None
        except Exception:  # the store is away: the stream goes on, as the API's does
            continue
        if not alive:
            subscription.close("signed out")
