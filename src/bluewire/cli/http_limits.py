"""The HTTP/1.1 protocol the server runs under uvicorn: uvicorn's httptools protocol, bounded.

Why: uvicorn waits for a request head as long as a client likes, takes a head of any size with
any number of header fields (the parser buffers a header that never ends), times nothing while a
body trickles in, and accepts as many connections as the process has file descriptors. Slow,
idle or bloated clients, without credentials, could so hold sockets and memory for good. Here:

- a request head must be complete within `header_timeout` of its first byte (or of the
  connection's opening): else the connection is closed;
- a connection idle between requests is closed after `keep_alive_timeout`;
- a body that stalls for `body_timeout` (the client sends nothing while the server waits for
  it) is cut off: a 408 if no answer has started, and the connection is closed;
- a head larger than `max_header_bytes`, or with more than `max_headers` fields, is a 431;
- past `max_connections` open connections a new one is answered 503 and closed at once.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from asyncio import TimerHandle
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

log = logging.getLogger("uvicorn.error")


@dataclass(frozen=True, slots=True)
class HttpLimits:
    header_timeout: float = 10.0  # seconds
    keep_alive_timeout: float = 5.0  # seconds
    body_timeout: float = 30.0  # seconds
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    max_connections: int = 1000


def _answer(status: bytes, text: str) -> bytes:
    body = text.encode()
    return (b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
            + body)


_BUSY = _answer(b"503 Service Unavailable", "Too many connections; try again later.")
_SLOW_BODY = _answer(b"408 Request Timeout", "The request body stalled.")


def within_open_files(connections: int, reserve: int = 128) -> int:
    """`connections`, or fewer when the process may not open that many files and `reserve` more
    (its database, media files, webhook and agent sockets)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or connections + reserve <= soft:
        return connections
    fitting = max(1, soft - reserve)
    log.warning("BLUEWIRE_MAX_CONNECTIONS=%d does not fit the open-file limit (%d, ulimit -n): "
                "%d connections at most", connections, soft, fitting)
    return fitting


def bounded_protocol(limits: HttpLimits) -> type[BoundedHttpToolsProtocol]:
    """The protocol class to give uvicorn (`http=`), bound by `limits`."""

    class Bound(BoundedHttpToolsProtocol):
        pass

    Bound.limits = limits
    return Bound


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    limits: ClassVar[HttpLimits] = HttpLimits()

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.timeout_keep_alive = self.limits.keep_alive_timeout  # type: ignore[assignment]
        self._head_timer: TimerHandle | None = None
        self._body_timer: TimerHandle | None = None
        self._body_seen = 0.0  # loop time body bytes last came
        self._reading_head = False  # between a head's first byte and its end
        self._in_message = False  # between a head's first byte and its message's end
        self._head_bytes = 0
        self._header_count = 0
        self._refused = False  # answered (or closed) by this class: nothing more is read

    # -- connections -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            self._refused = True
            self.transport = transport
            log.warning("Refused a connection: %d are open (the limit)", len(self.connections))
            transport.write(_BUSY)
            transport.close()
            return
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        if self.flow is None:  # refused before it was served
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if not self._in_message and not self._reading_head:
            self._await_head()  # a next request starts (or stray bytes between requests)
        if self._reading_head:
            allowance = self.limits.max_header_bytes - self._head_bytes
            if len(data) > allowance:
                self._head_bytes = self.limits.max_header_bytes
                self._feed(data[:allowance])
                if self._reading_head and not self._done():
                    self._refuse(b"431 Request Header Fields Too Large",
                                 f"The request head is larger than "
                                 f"{self.limits.max_header_bytes} bytes.")
                    return
                data = data[allowance:]
                if not data or self._done():
                    return
            else:
                self._head_bytes += len(data)
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.get_protocol() is not self:  # upgraded to a WebSocket
            self._cancel_timers()

    def _done(self) -> bool:
        return self._refused or self.transport.is_closing() or (
            self.transport.get_protocol() is not self)

    # -- the parser's callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if not self._reading_head:  # a pipelined request, behind the one being answered
            self._await_head()
        self._in_message = True
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count <= self.limits.max_headers:  # past it the head is refused
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:  # a request pipelined behind a refused one
            return
        self._reading_head = False
        self._cancel(self._head_timer)
        self._head_timer = None
        if self._header_count > self.limits.max_headers:
            self._refuse(b"431 Request Header Fields Too Large",
                         f"The request has more than {self.limits.max_headers} header fields.")
            return
        super().on_headers_complete()
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            self._body_seen = self.loop.time()
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_check)

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        self._body_seen = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_message = False
        self._cancel(self._body_timer)
        self._body_timer = None
        if self._refused:
            return
        super().on_message_complete()

    # -- the limits ------------------------------------------------------------------------------

    def _await_head(self) -> None:
        self._reading_head = True
        self._head_bytes = 0
        self._header_count = 0
        self._cancel(self._head_timer)
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_late)

    def _head_late(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self._refused = True
            self._cancel_timers()
            self.transport.close()

    def _body_check(self) -> None:
        self._body_timer = None
        cycle = self.cycle
        if cycle is None or self._refused or self.transport.is_closing():
            return
        waited = self.loop.time() - self._body_seen
        # Not the client's delay: the application has not asked for the body yet (nor for its
        # "100 Continue"), so reading is paused.
        ours = self.flow.read_paused or cycle.waiting_for_100_continue
        if ours or waited < self.limits.body_timeout:
            wait = self.limits.body_timeout - (0 if ours else waited)
            self._body_timer = self.loop.call_later(wait, self._body_check)
            return
        self._refused = True
        if not cycle.response_started:
            self.transport.write(_SLOW_BODY)
        cycle.disconnected = True  # the application's receive() says so; its answer is dropped
        cycle.message_event.set()
        self.transport.close()

    def _refuse(self, status: bytes, text: str) -> None:
        """Answer the head being read with `status` (unless an answer to an earlier request is
        under way) and close the connection."""
        self._refused = True
        self._cancel_timers()
        if (self.cycle is None or self.cycle.response_complete) and not self.pipeline:
            self.transport.write(_answer(status, text))
        self.transport.close()

    def _cancel_timers(self) -> None:
        self._cancel(self._head_timer)
        self._cancel(self._body_timer)
        self._head_timer = self._body_timer = None

    @staticmethod
    def _cancel(timer: TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()
