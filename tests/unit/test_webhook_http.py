"""The webhook sender's HTTP/1.1 client against receivers on loopback that answer byte by byte
as each test scripts them: keep-alive, the ways an answer can end, and the answers that must be
errors rather than hangs."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
import trustme
from standardwebhooks.webhooks import Webhook

from bluewire.delivery.http1 import Http1Client
from bluewire.delivery.sender import Reply, WebhookSender
from bluewire.outbound_guard import addresses_of

SECRET = "whsec_" + base64.b64encode(b"k" * 24).decode()
BODY = json.dumps({"status": "DELIVERED", "message_handle": "m-1"}).encode()
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


@dataclass
class Request:
    head: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    """How a scripted receiver answers: `answer` gets each request and its stream."""

    answer: Callable[[Request, asyncio.StreamWriter], Awaitable[None]]
    requests: list[Request] = field(default_factory=list)
    connections: int = 0


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.split("\r\n")
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(lines[0], headers, body)


@asynccontextmanager
async def receiver(script: Script, tls: ssl.SSLContext | None = None,
                   on_close: Callable[[], None] = lambda: None) -> AsyncIterator[int]:
    """`on_close` is called when a client closes its connection (EOF between requests)."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        script.connections += 1
        try:
            while (request := await _read_request(reader)) is not None:
                script.requests.append(request)
                await script.answer(request, writer)
                if writer.is_closing():
                    return
            on_close()
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    async with server:
        yield server.sockets[0].getsockname()[1]


def answering(*chunks: bytes, close: bool = False) -> Callable[[Request, asyncio.StreamWriter],
                                                               Awaitable[None]]:
    async def answer(_: Request, writer: asyncio.StreamWriter) -> None:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
        if close:
            writer.close()
    return answer


@asynccontextmanager
async def sender(timeout_s: float = 5.0,
                 ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[WebhookSender]:
    webhooks = WebhookSender(allow_private=True, timeout_s=timeout_s, ssl_context=ssl_context)
    await webhooks.start()
    try:
        yield webhooks
    finally:
        await webhooks.stop()


async def post(webhooks: WebhookSender, url: str, event: str = "evt_1",
               secret: str | None = SECRET) -> Reply:
    return await webhooks.post(url, BODY, webhook_id=event, secret=secret,
                               timestamp=int(time.time()))


async def test_webhooks_share_one_kept_alive_connection_and_are_signed() -> None:
    script = Script(answering(OK))
    async with receiver(script) as port, sender() as webhooks:
        replies = [await post(webhooks, f"http://127.0.0.1:{port}/hooks?a=1", f"evt_{i}")
                   for i in range(3)]

    assert [(r.status_code, r.response, r.error) for r in replies] == [(200, "ok", None)] * 3
    assert script.connections == 1
    first = script.requests[0]
    assert first.head == "POST /hooks?a=1 HTTP/1.1"
    assert first.headers["host"] == f"127.0.0.1:{port}"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["user-agent"].startswith("bluewire-webhooks/")
    assert first.body == BODY
    verified = Webhook(SECRET).verify(first.body, {
        name: first.headers[name]
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")})
    assert verified == json.loads(BODY)
    assert [r.headers["webhook-id"] for r in script.requests] == ["evt_0", "evt_1", "evt_2"]


async def test_a_connection_the_receiver_says_it_closes_is_not_used_again() -> None:
    # The receiver leaves the socket open: only its `connection: close` says not to reuse it.
    script = Script(answering(
        b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"))
    async with receiver(script) as port, sender() as webhooks:
        replies = [await post(webhooks, f"http://127.0.0.1:{port}/") for _ in range(2)]

    assert [r.status_code for r in replies] == [200, 200]
    assert script.connections == 2


async def test_an_idle_connection_the_receiver_dropped_is_replaced_without_a_failure() -> None:
    answered = 0

    async def answer_then_drop(_: Request, writer: asyncio.StreamWriter) -> None:
        nonlocal answered
        answered += 1
        writer.write(OK)  # keep-alive, as far as the client can tell
        await writer.drain()
        if answered == 1:
            # Closed while the client may be about to reuse it: no FIN seen yet, or just seen.
            writer.transport.abort()

    script = Script(answer_then_drop)
    async with receiver(script) as port, sender() as webhooks:
        first = await post(webhooks, f"http://127.0.0.1:{port}/")
        second = await post(webhooks, f"http://127.0.0.1:{port}/")

    assert (first.status_code, second.status_code, second.error) == (200, 200, None)
    assert script.connections == 2
    assert len(script.requests) == 2


async def test_a_chunked_answer_with_retry_after_is_read() -> None:
    script = Script(answering(
        b"HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\n"
        b"Retry-After: 7\r\n\r\n5\r\nbusy,\r\n", b"6\r\n later\r\n0\r\n\r\n"))
    async with receiver(script) as port, sender() as webhooks:
        reply = await post(webhooks, f"http://127.0.0.1:{port}/")
        again = await post(webhooks, f"http://127.0.0.1:{port}/")

    assert (reply.status_code, reply.retry_after, reply.response) == (503, "7", "busy, later")
    assert again.status_code == 503
    assert script.connections == 1


async def test_a_large_body_is_cut_at_the_snippet_and_its_connection_dropped() -> None:
    big = b"x" * 1_000_000
    script = Script(answering(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(big), big))
    async with receiver(script) as port, sender() as webhooks:
        reply = await post(webhooks, f"http://127.0.0.1:{port}/")
        again = await post(webhooks, f"http://127.0.0.1:{port}/")

    assert reply.status_code == 200 and reply.response == "x" * 1024
    assert again.status_code == 200
    assert script.connections == 2


async def test_a_body_that_ends_when_the_connection_closes() -> None:
    script = Script(answering(b"HTTP/1.0 202 Accepted\r\n\r\nthanks", close=True))
    async with receiver(script) as port, sender() as webhooks:
        reply = await post(webhooks, f"http://127.0.0.1:{port}/")

    assert (reply.status_code, reply.response, reply.error) == (202, "thanks", None)


async def test_an_interim_answer_is_skipped_for_the_final_one() -> None:
    script = Script(answering(b"HTTP/1.1 100 Continue\r\n\r\n",
                              b"HTTP/1.1 204 No Content\r\n\r\n"))
    async with receiver(script) as port, sender() as webhooks:
        reply = await post(webhooks, f"http://127.0.0.1:{port}/")

    assert (reply.status_code, reply.error) == (204, None)


@pytest.mark.parametrize("answer, error", [
    (b"nonsense\r\n\r\n", "the answer is not valid HTTP/1.1"),
    (b"HTTP/1.1 200 OK\r\n" + b"x-padding: " + b"a" * 70_000 + b"\r\n",
     "the answer's head is over 65536 bytes"),
    (b"", "the receiver closed the connection before it answered"),
    (b"HTTP/1.1 200 OK\r\ncontent-le", "the receiver closed the connection before it answered"),
])
async def test_an_answer_that_is_not_http_is_an_error_not_a_hang(answer: bytes,
                                                                  error: str) -> None:
    script = Script(answering(answer, close=True))
    async with receiver(script) as port, sender() as webhooks:
        reply = await asyncio.wait_for(post(webhooks, f"http://127.0.0.1:{port}/"), 10)

    assert reply.status_code is None
    assert reply.error is not None and reply.error.startswith(error), reply.error


async def test_a_receiver_that_never_answers_times_out_and_loses_its_connection() -> None:
    calls = 0

    async def silent_once(_: Request, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            writer.write(OK)
            await writer.drain()

    script = Script(silent_once)
    async with receiver(script) as port, sender(timeout_s=0.3) as webhooks:
        silent = await post(webhooks, f"http://127.0.0.1:{port}/")
        answered = await post(webhooks, f"http://127.0.0.1:{port}/")

    assert (silent.status_code, silent.error) == (None, "timed out after 0.3 s")
    assert answered.status_code == 200
    assert script.connections == 2


async def test_credentials_in_the_url_are_sent_as_basic_auth() -> None:
    script = Script(answering(OK))
    async with receiver(script) as port, sender() as webhooks:
        reply = await post(webhooks, f"http://hooks:p%40ss@127.0.0.1:{port}/in")

    assert reply.status_code == 200
    assert script.requests[0].headers["authorization"] == \
        "Basic " + base64.b64encode(b"hooks:p@ss").decode()
    assert script.requests[0].head == "POST /in HTTP/1.1"


async def test_a_line_break_in_a_header_is_refused_before_anything_is_sent() -> None:
    script = Script(answering(OK))
    async with receiver(script) as port, sender() as webhooks:
        reply = await post(webhooks, f"http://127.0.0.1:{port}/", secret="s\r\nx-evil: 1")

    assert reply.status_code is None
    assert reply.error == "ValueError: a header name or value holds a line break"
    assert script.requests == []


async def test_nothing_listening_cannot_connect() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with sender() as webhooks:
        reply = await post(webhooks, f"http://127.0.0.1:{port}/")

    assert reply.status_code is None
    assert reply.error is not None and reply.error.startswith("cannot connect: "), reply.error


async def test_https_is_verified_against_the_trust_store() -> None:
    authority = trustme.CA()
    certificate = authority.issue_cert("localhost")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(server_tls)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)

    script = Script(answering(OK))
    async with receiver(script, tls=server_tls) as port:
        async with sender(ssl_context=trusting) as webhooks:
            trusted = [await post(webhooks, f"https://localhost:{port}/tls") for _ in range(2)]
        async with sender() as webhooks:  # the system's trust store does not know this CA
            untrusted = await post(webhooks, f"https://localhost:{port}/tls")

    assert [r.status_code for r in trusted] == [200, 200]
    assert script.requests[0].headers["host"] == f"localhost:{port}"
    assert untrusted.status_code is None
    assert untrusted.error is not None and "CERTIFICATE_VERIFY_FAILED" in untrusted.error, \
        untrusted.error
    assert len(script.requests) == 2


async def test_a_tls_handshake_that_never_ends_times_out() -> None:
    script = Script(answering(OK))
    async with receiver(script) as port, sender(timeout_s=0.3) as webhooks:  # plain TCP
        reply = await asyncio.wait_for(post(webhooks, f"https://localhost:{port}/"), 10)

    assert (reply.status_code, reply.error) == (None, "timed out after 0.3 s")


async def test_a_connection_idle_too_long_is_closed_and_not_reused() -> None:
    closed = asyncio.Event()

    async def answer(_: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(OK)
        await writer.drain()

    script = Script(answer)
    client = Http1Client(lambda host, port: addresses_of(host, port, guarded=False),
                         idle_s=0.2)
    async with receiver(script, on_close=closed.set) as port:
        url = f"http://127.0.0.1:{port}/"
        first = await client.post(url, [], BODY, timeout_s=5)
        await asyncio.wait_for(closed.wait(), 5)  # closed by the client, not the receiver
        second = await client.post(url, [], BODY, timeout_s=5)
        await client.close()

    assert (first.status, second.status) == (200, 200)
    assert script.connections == 2
