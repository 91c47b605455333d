"""One webhook POST: the CPU bluewire's webhook client spends on it, next to two baselines
measured in the same run.

    python3 bench/webhook_post.py [--posts 10000] [--rounds 2] [--client-cpu 0] [--load-cpu 1]

Each sender POSTs the same signed status callback to bench/webhook_receiver.py (pinned to the
load CPU) from this process (pinned to the client CPU), on uvloop, `--posts` times one at a time
(as webhooks go out at a moderate rate) and then with 16 in flight; the figure is this
process's CPU time per POST (`time.process_time`), and the POSTs a second.

- **raw protocol**: one asyncio protocol on one kept-alive connection that writes each request
  in one call and waits for the answer's end (httptools). The floor: socket and loop work only.
- **aiohttp**: a `ClientSession` set up as bluewire's webhook sender had it before its own
  client (no cookies, a total timeout, the snippet of the body read).
- **bluewire**: `WebhookSender.post`, as the delivery worker calls it.

Every sender signs each request (Standard Webhooks HMAC), so the comparison is of the HTTP work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httptools
import uvloop

from bluewire.delivery.sender import WebhookSender
from bluewire.domain.webhooks import signature_headers
from harness import check_cpus, pin_self, scratch_dir
from webhook_delivery import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = json.dumps({
    "accountEmail": "bench@example.com", "content": "hello from the benchmark",
    "is_outbound": True, "status": "DELIVERED", "error_code": None, "error_message": None,
    "message_handle": "0193f1c8-1111-7222-8333-444455556666",
    "date_sent": "2026-12-08T00:00:00.000Z", "date_updated": "2026-12-08T00:00:01.000Z",
    "from_number": "+14155550199", "number": "+14155550100", "to_number": "+14155550100",
    "was_downgraded": False, "plan": "blue", "media_url": "", "message_type": "message",
    "group_id": "", "participants": [], "send_style": "", "opted_out": False,
    "error_detail": None, "service": "iMessage", "message_id": "0193f1c8-1111",
}).encode()
IN_FLIGHT = (1, 16)

Post = Callable[[int], Awaitable[int]]  # POST number i; its status


def _headers(i: int) -> dict[str, str]:
    return {"content-type": "application/json",
            **signature_headers(SECRET, f"evt_{i:024d}", int(time.time()), BODY)}


class _Answer(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.done: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        assert self.done is not None
        self.done.set_result(self.parser.get_status_code())


async def raw_protocol(url: str) -> tuple[Post, Callable[[], Awaitable[None]]]:
    """One connection per POST in flight, each used for one request at a time."""
    loop = asyncio.get_running_loop()
    host, port = url.removeprefix("http://").split(":")
    idle: list[_Answer] = []

    async def post(i: int) -> int:
        if idle:
            protocol = idle.pop()
        else:
            _, protocol = await loop.create_connection(_Answer, host, int(port))
        head = "".join(f"{name}: {value}\r\n" for name, value in _headers(i).items())
        protocol.done = loop.create_future()
        protocol.transport.write(  # type: ignore[attr-defined]
            b"POST /hook HTTP/1.1\r\nhost: %s\r\n%scontent-length: %d\r\n\r\n%s"
            % (f"{host}:{port}".encode(), head.encode(), len(BODY), BODY))
        status = await protocol.done
        idle.append(protocol)
        return status

    async def close() -> None:
        for protocol in idle:
            protocol.transport.close()  # type: ignore[attr-defined]

    return post, close


async def aiohttp_session(url: str) -> tuple[Post, Callable[[], Awaitable[None]]]:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=256), timeout=aiohttp.ClientTimeout(total=15),
        headers={"user-agent": "bench"}, skip_auto_headers=("accept-encoding",),
        cookie_jar=aiohttp.DummyCookieJar())

    async def post(i: int) -> int:
        async with session.post(f"{url}/hook", data=BODY, headers=_headers(i),
                                allow_redirects=False) as answer:
            await answer.content.read(1024)
            return answer.status

    return post, session.close


async def bluewire_sender(url: str) -> tuple[Post, Callable[[], Awaitable[None]]]:
    sender = WebhookSender(allow_private=True)
    await sender.start()

    async def post(i: int) -> int:
        reply = await sender.post(f"{url}/hook", BODY, webhook_id=f"evt_{i:024d}",
                                  secret=SECRET, timestamp=int(time.time()))
        return reply.status_code or 0

    return post, sender.stop


SENDERS = {"raw protocol": raw_protocol, "aiohttp": aiohttp_session, "bluewire": bluewire_sender}


async def measure(make: Callable[[str], Awaitable[tuple[Post, Callable[[], Awaitable[None]]]]],
                  url: str, posts: int, in_flight: int) -> tuple[float, float]:
    """(µs of CPU a POST, POSTs a second)."""
    post, close = await make(url)
    try:
        await asyncio.gather(*(post(i) for i in range(in_flight)))  # connections, warm-up
        for i in range(300):
            await post(i)
        statuses: list[int] = []
        next_i = 0

        async def worker() -> None:
            nonlocal next_i
            while next_i < posts:
                i, next_i = next_i, next_i + 1
                statuses.append(await post(i))

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if statuses.count(200) != posts:
            raise RuntimeError(f"{posts - statuses.count(200)} POSTs were not answered 200")
        return cpu / posts * 1e6, posts / wall
    finally:
        await close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000, help="POSTs a measurement")
    parser.add_argument("--rounds", type=int, default=2, help="measurements of each sender")
    parser.add_argument("--client-cpu", type=int, default=0, help="CPU the senders run on")
    parser.add_argument("--load-cpu", type=int, default=1, help="CPU the receiver runs on")
    args = parser.parse_args()
    check_cpus(args.client_cpu, args.load_cpu)
    with scratch_dir("bluewire-post-") as workdir:
        receiver = Receiver(Path(workdir), args.load_cpu)
        pin_self(args.client_cpu)
        try:
            results: dict[tuple[str, int], list[tuple[float, float]]] = {}
            for _ in range(args.rounds):  # senders in turns, so drift hits each alike
                for in_flight in IN_FLIGHT:
                    for name, make in SENDERS.items():
                        figure = uvloop.run(measure(make, receiver.url, args.posts, in_flight))
                        results.setdefault((name, in_flight), []).append(figure)
        finally:
            receiver.process.stop()
    print(f"\nwebhook POSTs to a local receiver, {args.posts:,} a measurement, {args.rounds} "
          f"rounds; senders on CPU {args.client_cpu}, receiver on CPU {args.load_cpu}")
    print(f"{'sender':<14}{'in flight':>10}{'CPU us/POST':>14}{'POSTs/s':>16}"
          f"{'x raw protocol':>16}")
    for in_flight in IN_FLIGHT:
        floor = min(cpu for cpu, _ in results[("raw protocol", in_flight)])
        for name in SENDERS:
            figures = results[(name, in_flight)]
            cpus = [cpu for cpu, _ in figures]
            rates = [rate for _, rate in figures]
            print(f"{name:<14}{in_flight:>10}{_span(cpus, '.0f'):>14}{_span(rates, ',.0f'):>16}"
                  f"{min(cpus) / floor:>16.2f}")
    print("columns: CPU us/POST = this process's CPU time per POST (lowest-highest of the "
          "rounds);\n  x raw protocol = the lowest over the raw protocol's lowest.")


def _span(values: list[float], spec: str) -> str:
    low, high = min(values), max(values)
    return format(low, spec) if format(low, spec) == format(high, spec) \
        else f"{format(low, spec)}-{format(high, spec)}"


if __name__ == "__main__":
    main()
