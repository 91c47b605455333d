"""Running the ASGI app under uvicorn, with a hook for the moment the server starts to stop."""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, before_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self._before_shutdown = before_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._before_shutdown()
        await super().shutdown(sockets)


def run_uvicorn(app: Any, *, before_shutdown: Callable[[], None],
                sockets: list[socket.socket] | None = None, **options: Any) -> None:
    """`uvicorn.run(app, **options)` for one process, calling `before_shutdown` first thing on
    shutdown.

    uvicorn waits for in-flight responses (up to its graceful timeout) before the app's lifespan
    shutdown runs, so responses that last (event streams) must be ended before that wait, not in
    the lifespan shutdown.
    """
    server = _Server(uvicorn.Config(app, **options), before_shutdown)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=sockets)
    if not server.started:
        sys.exit(STARTUP_FAILURE)
