"""A small HTTP/1.1 client for webhook POSTs: keep-alive connections, one request at a time each.

aiohttp's client spent about 120 µs of CPU a request beyond the signing, socket and loop work
(request and response objects, a task that writes the body, stream readers, a timer per
request; bench/webhook_post.py): at a moderate rate, where webhooks go out one by one, a
quarter of the server's CPU. A webhook needs much less: write the request in one call, and keep
the answer's status, its `Retry-After` and the start of its body. The answer is parsed by
httptools (llhttp, the parser uvicorn reads requests with); connections are opened by
aiohappyeyeballs (RFC 8305, as aiohttp opens them) to the addresses the caller's resolver
approves, over TLS for https.

What the client refuses to wait for: a head over 64 KiB, a body beyond the bytes the caller
keeps (the connection is then closed, not drained), anything past the request's deadline. A
request that does not end cleanly closes its connection.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import aiohappyeyeballs
import httptools
import yarl

from ..outbound_guard import AddrInfo

MAX_HEAD_BYTES = 64 * 1024
IDLE_S = 15.0  # an idle connection is closed after this long (aiohttp's default too)
HAPPY_EYEBALLS_DELAY_S = 0.25

# Resolves (host, port) to the addresses a connection may be made to; raises OSError if none
# (a ConnectError's cause).
Resolve = Callable[[str, int], Awaitable[list[AddrInfo]]]
Key = tuple[bool, str, int]  # TLS, host, port: what a connection may be reused for


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    retry_after: str | None
    body: bytes  # at most the bytes asked for


class ConnectError(OSError):
    """No connection could be made; `cause` says why."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class ResponseError(Exception):
    """The receiver's answer was not a usable HTTP response."""


class _Closed(ResponseError):
    """The connection ended before the answer's head; `heard`: some of it had arrived."""

    def __init__(self, heard: bool) -> None:
        super().__init__("the receiver closed the connection before it answered")
        self.heard = heard


@dataclass(frozen=True, slots=True)
class _Target:
    tls: bool
    host: str
    port: int
    head: bytes  # the request line and the headers every request to this URL carries

    @property
    def key(self) -> Key:
        return (self.tls, self.host, self.port)


@lru_cache(maxsize=4096)
def _target(url: str, fixed_headers: tuple[tuple[str, str], ...]) -> _Target:
    parsed = yarl.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.raw_host or parsed.port is None:
        raise ValueError(f"cannot POST to {parsed.scheme or 'a relative'} URL: use http(s)://")
    headers = [("host", parsed.host_port_subcomponent or parsed.raw_host), *fixed_headers]
    if parsed.user is not None:  # as browsers and aiohttp do: credentials in the URL
        credentials = f"{parsed.user}:{parsed.password or ''}".encode()
        headers.append(("authorization", "Basic " + base64.b64encode(credentials).decode()))
    head = f"POST {parsed.raw_path_qs or '/'} HTTP/1.1\r\n".encode() + _header_lines(headers)
    return _Target(parsed.scheme == "https", parsed.raw_host, parsed.port, head)


def _header_lines(headers: Sequence[tuple[str, str]]) -> bytes:
    text = "".join(f"{name}: {value}\r\n" for name, value in headers)
    if text.count("\n") != len(headers) or text.count("\r") != len(headers):
        raise ValueError("a header name or value holds a line break")
    return text.encode("latin-1")


class _Connection(asyncio.Protocol):
    """One keep-alive connection, and the exchange in progress on it."""

    def __init__(self, key: Key) -> None:
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = False  # the last answer ended cleanly and the receiver keeps it open
        self.idle_since = 0.0  # loop time it went back to the pool
        self._deadline: asyncio.TimerHandle | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[Answer] | None = None
        self._limit = 0
        self._reset()

    def _reset(self) -> None:
        self._status = 0
        self._retry_after: str | None = None
        self._body = bytearray()
        self._head_bytes = 0
        self._head_done = False
        self._heard = False

    def exchange(self, request: bytes, limit: int, deadline: float) -> asyncio.Future[Answer]:
        """Send `request`; the answer, or TimeoutError at `deadline` (loop time)."""
        assert self.transport is not None and not self.closed
        loop = asyncio.get_running_loop()
        self._answer = loop.create_future()
        # One timer handle, not asyncio.timeout: this runs for every webhook.
        self._deadline = loop.call_at(deadline, self._fail, TimeoutError())
        self._limit = limit
        self.reusable = False
        self._reset()
        self.transport.write(request)
        return self._answer

    def close(self) -> None:
        self._end_deadline()
        self.reusable = False
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.close()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self.close()  # bytes nobody asked for: the connection cannot be trusted again
            return
        self._heard = True
        if not self._head_done:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._finish(keep=False)  # a 101: the answer is its status
        except httptools.HttpParserError as exc:
            self._fail(ResponseError(f"the answer is not valid HTTP/1.1: {exc}"))
        else:
            if not self._head_done and self._head_bytes > MAX_HEAD_BYTES:
                self._fail(ResponseError(f"the answer's head is over {MAX_HEAD_BYTES} bytes"))

    def eof_received(self) -> bool:
        return False  # close: a half-closed connection is no use for the next request

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is not None and not self._answer.done():
            if self._head_done:
                self._finish(keep=False)  # a body cut short, or one that ends at the close
            else:
                self._answer.set_exception(_Closed(self._heard))

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"retry-after":
            self._retry_after = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        self._head_done = True

    def on_body(self, body: bytes) -> None:
        room = self._limit - len(self._body)
        self._body += body[:room]
        if len(body) > room:
            self._finish(keep=False)  # the rest is not read: the connection goes

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:  # an interim answer (100 Continue): the final one follows
            self._reset()
            return
        self._finish(keep=self._parser.should_keep_alive())

    def _finish(self, *, keep: bool) -> None:
        if self._answer is None or self._answer.done():
            return
        self._end_deadline()
        self.reusable = keep and not self.closed
        self._answer.set_result(Answer(self._status, self._retry_after, bytes(self._body)))
        if not keep:
            self.close()

    def _fail(self, exc: BaseException) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(exc)
        self.close()

    def _end_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


class Http1Client:
    """POSTs over a pool of keep-alive connections, at most `limit` of them in use at once."""

    def __init__(self, resolve: Resolve, *, limit: int = 256,
                 ssl_context: ssl.SSLContext | None = None, idle_s: float = IDLE_S) -> None:
        self._resolve = resolve
        self._slots = asyncio.Semaphore(limit)
        self._ssl = ssl_context
        self._idle_s = idle_s
        self._idle: dict[Key, list[_Connection]] = {}
        self._reaper: asyncio.TimerHandle | None = None
        self._closing = False

    async def post(self, url: str, headers: Sequence[tuple[str, str]], body: bytes, *,
                   timeout_s: float, fixed_headers: tuple[tuple[str, str], ...] = (),
                   read_limit: int = 1024) -> Answer:
        """POST `body` to `url` within `timeout_s` (TimeoutError after); `fixed_headers` are
        the same for every request to it (they are kept with its request line), `headers` are
        this request's."""
        target = _target(url, fixed_headers)
        request = b"".join((target.head, _header_lines(headers),
                            b"content-length: %d\r\n\r\n" % len(body), body))
        deadline = asyncio.get_running_loop().time() + timeout_s
        if self._slots.locked():
            async with asyncio.timeout_at(deadline):
                await self._slots.acquire()
        else:
            await self._slots.acquire()  # returns at once
        try:
            return await self._exchange(target, request, read_limit, deadline)
        finally:
            self._slots.release()

    async def _exchange(self, target: _Target, request: bytes, read_limit: int,
                        deadline: float) -> Answer:
        connection = self._take_idle(target.key)
        reused = connection is not None
        if connection is None:
            connection = await self._open(target, deadline)
        try:
            try:
                return await connection.exchange(request, read_limit, deadline)
            except _Closed as exc:
                if not reused or exc.heard:
                    raise
                # The receiver closed an idle connection as it was being reused: the request
                # never reached it, so it goes once more on a new connection.
                connection = await self._open(target, deadline)
                return await connection.exchange(request, read_limit, deadline)
        finally:
            if connection.reusable and not self._closing:
                self._put_idle(connection)
            else:
                connection.close()

    def _take_idle(self, key: Key) -> _Connection | None:
        idle = self._idle.get(key)
        if not idle:
            return None
        now = asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            if self._fresh(connection, now):
                return connection
            connection.close()
        return None

    def _fresh(self, connection: _Connection, now: float) -> bool:
        return not connection.closed and now - connection.idle_since < self._idle_s

    def _put_idle(self, connection: _Connection) -> None:
        loop = asyncio.get_running_loop()
        connection.idle_since = loop.time()
        self._idle.setdefault(connection.key, []).append(connection)
        if self._reaper is None:
            self._reaper = loop.call_later(self._idle_s / 2, self._reap)

    def _reap(self) -> None:
        """Close the connections idle for `idle_s` or more."""
        self._reaper = None
        now = asyncio.get_running_loop().time()
        for key, idle in list(self._idle.items()):
            kept = []
            for connection in idle:
                if self._fresh(connection, now):
                    kept.append(connection)
                else:
                    connection.close()
            if kept:
                self._idle[key] = kept
            else:
                del self._idle[key]
        if self._idle and not self._closing:
            self._reaper = asyncio.get_running_loop().call_later(self._idle_s / 2, self._reap)

    async def _open(self, target: _Target, deadline: float) -> _Connection:
        async with asyncio.timeout_at(deadline):
            return await self._connect(target)

    async def _connect(self, target: _Target) -> _Connection:
        try:
            infos = await self._resolve(target.host, target.port)
            sock = await aiohappyeyeballs.start_connection(
                infos, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY_S)
        except OSError as exc:
            raise ConnectError(exc) from exc
        loop = asyncio.get_running_loop()
        tls = None
        if target.tls:
            tls = self._ssl if self._ssl is not None else _default_tls()
        try:
            _, connection = await loop.create_connection(
                lambda: _Connection(target.key), sock=sock, ssl=tls,
                server_hostname=target.host if tls is not None else None)
        except OSError as exc:  # the TLS handshake failed, or the connection right after
            sock.close()
            raise ConnectError(exc) from exc
        except BaseException:  # cancelled (timed out) during the handshake
            sock.close()
            raise
        return connection

    async def close(self) -> None:
        """Close the idle connections; those in use close when their request ends."""
        self._closing = True
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


@lru_cache(maxsize=1)
def _default_tls() -> ssl.SSLContext:
    return ssl.create_default_context()
