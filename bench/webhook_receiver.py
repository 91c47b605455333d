"""A fast webhook receiver for the benchmarks: raw asyncio + httptools on uvloop, keep-alive.

    python bench/webhook_receiver.py --port 8090

Every request is answered at once with a tiny JSON body; nothing is logged. It counts the
webhooks it receives (any path but the control ones) with the arrival time of the first and
the last, and, for webhooks POSTed to a path starting with `/lat`, reads the JSON body and, when
its `status` is DELIVERED and its `content` is `lat <send time>` (seconds since the epoch),
keeps the latency: arrival time minus send time (the same machine, the same clock).

Control (not counted):
    GET  /_stats              {"count", "first", "last"}
    GET  /_latencies          {"latencies": [seconds, ...], "sent": [send times, ...]}
    POST /_reset              forget counts and latencies
    POST /_status?code=500    answer webhooks with this status from now on (200 by default)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import httptools
import msgspec

_decode = msgspec.json.Decoder().decode
_REASONS = {200: b"OK", 410: b"Gone", 429: b"Too Many Requests", 500: b"Internal Server Error"}


def _response(status: int, body: bytes, keep_alive: bool = True) -> bytes:
    reason = _REASONS.get(status, b"Status")
    head = (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            % (status, reason, len(body)))
    if not keep_alive:
        head += b"connection: close\r\n"
    return head + b"\r\n" + body


class State:
    def __init__(self) -> None:
        self.status = 200
        self.answer = _response(200, b'{"ok":true}')
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.latencies: list[float] = []
        self.sent: list[float] = []

    def set_status(self, status: int) -> None:
        self.status = status
        self.answer = _response(status, b'{"ok":%s}' % (b"true" if status < 300 else b"false"))


class Receiver(asyncio.Protocol):
    __slots__ = ("_body", "_parser", "_state", "_transport", "_url")

    def __init__(self, state: State) -> None:
        self._state = state
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._body: list[bytes] = []
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            assert self._transport is not None
            self._transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._body = []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        arrived = time.time()
        transport = self._transport
        assert transport is not None
        path = self._url.split(b"?", 1)[0]
        if path.startswith(b"/_"):
            transport.write(self._control(path))
        else:
            state = self._state
            state.count += 1
            if state.count == 1:
                state.first = arrived
            state.last = arrived
            if path.startswith(b"/lat"):
                self._latency(arrived)
            transport.write(state.answer)
        if not self._parser.should_keep_alive():
            transport.close()

    def _latency(self, arrived: float) -> None:
        try:
            body: Any = _decode(b"".join(self._body))
        except msgspec.DecodeError:
            return
        if body.get("status") != "DELIVERED":
            return
        content = body.get("content") or ""
        if content.startswith("lat "):
            sent = float(content.split()[1])
            self._state.sent.append(sent)
            self._state.latencies.append(arrived - sent)

    def _control(self, path: bytes) -> bytes:
        state = self._state
        method = self._parser.get_method()
        if path == b"/_stats":
            body = {"count": state.count, "first": state.first, "last": state.last,
                    "status": state.status}
        elif path == b"/_latencies":
            body = {"latencies": state.latencies, "sent": state.sent}
        elif path == b"/_reset" and method == b"POST":
            state.reset()
            body = {"ok": True}
        elif path == b"/_status" and method == b"POST":
            query = self._url.split(b"?", 1)[1] if b"?" in self._url else b""
            params = dict(p.split(b"=", 1) for p in query.split(b"&") if b"=" in p)
            state.set_status(int(params.get(b"code", b"200")))
            body = {"ok": True, "status": state.status}
        else:
            return _response(404, b'{"error":"no such control"}')
        return _response(200, json.dumps(body).encode())


async def serve(host: str, port: int) -> None:
    state = State()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Receiver(state), host, port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(serve(args.host, args.port))
    except ImportError:
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
