"""A WebSocket over raw ASGI messages: just what the agent endpoint (agents/hub.py) needs."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .http import Receive, Scope, Send


class Closed(Exception):
    """The peer went away."""


class WebSocket:
    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self._lock = asyncio.Lock()  # frames of concurrent senders must not interleave
        self.closed = False

    async def accept(self) -> bool:
        message = await self._receive()
        if message["type"] != "websocket.connect":
            return False
        await self._send({"type": "websocket.accept"})
        return True

    async def receive_text(self) -> str:
        while True:
            message: dict[str, Any] = await self._receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                self.closed = True
                raise Closed
            if kind == "websocket.receive":
                text = message.get("text")
                if text is None and message.get("bytes") is not None:
                    text = message["bytes"].decode()
                if text is not None:
                    return text

    async def send_text(self, text: str) -> None:
        if self.closed:
            raise Closed
        async with self._lock:
            try:
                await self._send({"type": "websocket.send", "text": text})
            except Exception as exc:  # the ASGI server's own "disconnected" errors
                self.closed = True
                raise Closed from exc

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
