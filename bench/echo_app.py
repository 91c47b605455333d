"""The baseline: a bare ASGI app, no framework, that echoes a JSON POST through msgspec.

It does the least any JSON API must do per request (read the body, decode it, encode an
answer) on the same server stack as bluewire: uvicorn with uvloop and httptools, no access
log. The send-message benchmark measures it next to bluewire in the same run.

    python bench/echo_app.py --port 8081
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()
_INVALID = b'{"status":"ERROR","message":"The request body is not valid JSON"}'


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    try:
        status, body = 200, _encoder.encode(_decoder.decode(b"".join(chunks)))
    except msgspec.DecodeError:
        status, body = 400, _INVALID
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools",
                lifespan="off", access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
