"""Wake-ups between processes: PostgreSQL's LISTEN/NOTIFY.

A commit that makes work (a message to dispatch, a webhook to deliver, an event to stream)
notifies a channel in its own transaction (`Tx.notify`), so the NOTIFY is sent if and only if
the work is committed. Every process listens on one connection of its own and wakes its
workers. A notification that is missed (the listening connection dropped, the process was
busy starting) only delays work until the workers' next sweep: nothing is ever carried by a
notification but the wake-up itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

MESSAGES = "bluewire_messages"  # messages are due for dispatch
DELIVERIES = "bluewire_deliveries"  # webhook deliveries are due
EVENTS = "bluewire_events"  # events were written (the live event stream)
QUESTIONS = "bluewire_line_questions"  # a line's agent was asked something, or answered
KEYS = "bluewire_api_keys"  # an API key was revoked: forget the verified ones
CHANNELS = (MESSAGES, DELIVERIES, EVENTS, QUESTIONS, KEYS)

RECONNECT_S = 1.0


class Listener:
    """Listens on every channel and calls `on_notify(channel)` for each notification another
    session sent (this process's own commits have already woken its workers)."""

    def __init__(self, dsn: str, on_notify: Callable[[str], None],
                 own_pids: Callable[[], set[int]], *, connect_timeout_s: int = 10) -> None:
        self._dsn = dsn
        self._on_notify = on_notify
        self._own_pids = own_pids
        self._connect_timeout_s = connect_timeout_s
        self._task: asyncio.Task[None] | None = None
        self.connected = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pg-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("LISTEN connection lost (%s); reconnecting in %.0f s",
                            exc, RECONNECT_S)
            self.connected = False
            await asyncio.sleep(RECONNECT_S)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(
                self._dsn, autocommit=True, connect_timeout=self._connect_timeout_s,
                application_name="bluewire-listener") as connection:
            for channel in CHANNELS:
                await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self.connected = True
            for channel in CHANNELS:  # whatever was notified while no one listened
                self._on_notify(channel)
            async for notification in connection.notifies():
                if notification.pid not in self._own_pids():
                    self._on_notify(notification.channel)
