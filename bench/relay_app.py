"""The latency baseline: the least a server can do between a send and its webhook.

    python bench/relay_app.py --port 8091 --target http://127.0.0.1:8090/lat

It answers every POST at once (200, a tiny JSON body) and then POSTs `{"status": "DELIVERED",
"content": <the request's content>}` to the target with a keep-alive aiohttp client: no store,
no status machine, no queue, so its send-to-webhook latency is the floor of this machine and
this stack (aiohttp on uvloop, loopback HTTP twice, the same receiver). The webhook benchmark
measures it next to bluewire in the same run.
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
import msgspec
from aiohttp import web

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
_HEADERS = {"content-type": "application/json"}


def build_app(target: str, connections: int) -> web.Application:
    tasks: set[asyncio.Task[None]] = set()
    app = web.Application()

    async def start(app: web.Application) -> None:
        app["session"] = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            skip_auto_headers=("accept-encoding",))

    async def stop(app: web.Application) -> None:
        await app["session"].close()

    async def forward(session: aiohttp.ClientSession, body: bytes) -> None:
        async with session.post(target, data=body, headers=_HEADERS) as answer:
            await answer.read()

    async def accept(request: web.Request) -> web.Response:
        sent = _decode(await request.read())
        body = _encode({"status": "DELIVERED", "content": sent.get("content")})
        task = asyncio.get_running_loop().create_task(forward(app["session"], body))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.Response(body=b'{"status":"QUEUED"}', content_type="application/json")

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_post("/{tail:.*}", accept)
    app.router.add_get("/ready", lambda _request: _ready())
    return app


async def _ready() -> web.Response:
    return web.Response(text="ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--target", required=True, help="the URL webhooks are POSTed to")
    parser.add_argument("--connections", type=int, default=128)
    args = parser.parse_args()
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    web.run_app(build_app(args.target, args.connections), host=args.host, port=args.port,
                access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
