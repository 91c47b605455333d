"""The agent side: connects out to the gateway, runs a local engine (any Connector), executes
the gateway's commands and streams the engine's reports back (see the package docstring).

It uses the `websockets` library (asyncio-native, already a dependency of uvicorn[standard])
for its client: keepalive pings with a timeout are built in, so a dead connection is noticed
within ping_interval + ping_timeout seconds and the agent reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Coroutine
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from ...domain.errors import ERROR_TEXT, ErrorCode
from ...domain.statuses import Service, Status
from ..protocol import (
    Capabilities,
    Connector,
    Inbound,
    Reaction,
    SendFailed,
    StatusUpdate,
    Typing,
)
from . import frames
from .attachments import read_attachments
from .state import DONE, AgentState

log = logging.getLogger(__name__)

_PING_S = 10.0
_MAX_BACKOFF_S = 30.0
_RETRY_LATER_S = 2.0
_UNRESOLVED = {"code": int(ErrorCode.UNRESOLVED), "reason": ERROR_TEXT[ErrorCode.UNRESOLVED]}


class Refused(Exception):
    """The gateway refused this agent (bad token, lines it may not serve): retrying won't help."""


class RetryLater(Exception):
    """The gateway cannot serve this agent now (another process serves its line): retry."""


class _Sink:
    """The engine's EventSink: each report becomes an event, kept until the gateway acks it."""

    def __init__(self, agent: Agent) -> None:
        self._agent = agent

    def status(self, update: StatusUpdate) -> None:
        self._agent.emit("status", "update", update)

    def inbound(self, message: Inbound, handle: str | None = None) -> None:
        # The engine's local files travel in the event itself (see attachments.py).
        attachments = read_attachments(message.media_urls)
        extra: dict[str, Any] = {"attachments": attachments} if attachments else {}
        if handle is not None:  # the message's own id on the network (a chat.db guid)
            extra["handle"] = handle
        self._agent.emit("inbound", "message", message, extra)

    def typing(self, event: Typing) -> None:
        self._agent.emit("typing", "event", event)

    def reaction(self, event: Reaction, handle: str | None = None) -> None:
        extra = {"handle": handle} if handle is not None else None  # its chat.db guid
        self._agent.emit("reaction", "event", event, extra)


class Agent:
    def __init__(self, gateway: str, token: str, engine: Connector, state: AgentState,
                 lines: list[str]) -> None:
        self._url = _connect_url(gateway)
        self._token = token
        self._engine = engine
        self._state = state
        self._lines = lines
        self._socket: ClientConnection | None = None
        self._commands: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        # The kinds of event the connected gateway takes (its welcome says; an older gateway's
        # does not, and takes the first three only). None while not connected.
        self._takes: frozenset[str] | None = None

    async def run(self) -> None:
        await self._engine.start(_Sink(self))
        executor = asyncio.create_task(self._execute_forever())
        backoff = 0.5
        try:
            while True:
                try:
                    await self._session()
                    backoff = 0.5
                except Refused:
                    raise
                except RetryLater as exc:
                    log.warning("the gateway cannot serve this agent yet: %s", exc)
                    backoff = min(backoff, _RETRY_LATER_S)  # soon free: keep asking often
                except (OSError, WebSocketException, TimeoutError, ValueError) as exc:
                    log.warning("gateway connection failed or lost: %s", exc)
                delay = backoff * (0.5 + random.random())
                log.info("reconnecting in %.1fs", delay)
                await asyncio.sleep(delay)
                backoff = min(backoff * 2, _MAX_BACKOFF_S)
        finally:
            executor.cancel()
            await self._engine.stop()

    def _capabilities(self, line: str) -> Capabilities:
        per_line = getattr(self._engine, "capabilities_for", None)
        return frames.carried(per_line(line) if per_line is not None
                              else self._engine.capabilities)

    def _hello(self) -> dict[str, Any]:
        hello: dict[str, Any] = {
            "type": "hello", "token": self._token, "agent_version": frames.AGENT_VERSION,
            "lines": [{"number": line,
                       "capabilities": frames.capabilities_plain(self._capabilities(line))}
                      for line in self._lines],
            "capabilities": frames.capabilities_plain(frames.carried(self._engine.capabilities)),
        }
        if self._state.last_command_id:
            hello["last_seen_command_id"] = self._state.last_command_id
        return hello

    async def _session(self) -> None:
        async with connect(self._url, ping_interval=_PING_S, ping_timeout=_PING_S,
                           open_timeout=10, close_timeout=2) as socket:
            await socket.send(frames.encode(self._hello()))
            reply = frames.decode(await asyncio.wait_for(socket.recv(), 10))
            if reply.get("type") not in ("welcome", "error"):
                raise ValueError(f"expected a welcome, got a {reply.get('type')!r} frame")
            if reply.get("type") == "error":
                refusal = f"{reply.get('code')}: {reply.get('message')}"
                if reply.get("code") in frames.RETRY_LATER:
                    raise RetryLater(refusal)
                raise Refused(refusal)
            log.info("connected to %s (session %s) serving %s", self._url, reply.get("session"),
                     ", ".join(reply.get("lines", [])))
            self._socket = socket
            self._takes = frozenset(reply.get("events") or frames.FIRST_EVENTS)
            try:
                for event in self._state.events():  # what the gateway has not acknowledged
                    if self._taken(event):
                        await socket.send(frames.encode(event))
                async for text in socket:
                    frame = frames.decode(text)
                    if frame.get("type") == "ack":
                        self._state.acked(str(frame.get("id")))
                    elif frame.get("type") in ("send", "mark_read", "typing"):
                        self._commands.put_nowait(frame)
                    elif frame.get("type") == "lookup":  # a read: answered at once, not queued
                        self._spawn(self._lookup(frame))
            finally:
                self._socket = None
                self._takes = None

    def _taken(self, event: dict[str, Any]) -> bool:
        """Whether the connected gateway takes `event`; one it does not know (it is older than
        this agent) is dropped from the outbox, or it would be re-sent forever, never acked."""
        if self._takes is None or event.get("type") in self._takes:
            return True
        log.info("a %s event was dropped: the gateway is older than this agent and does not "
                 "take them", event.get("type"))
        self._state.acked(str(event.get("id")))
        return False

    def emit(self, kind: str, key: str, value: Any,
             extra: dict[str, Any] | None = None) -> None:
        frame = {"id": uuid.uuid4().hex, "type": kind, key: frames.to_plain(value),
                 **(extra or {})}
        if self._takes is not None and kind not in self._takes:
            log.info("a %s event was dropped: the gateway is older than this agent and does "
                     "not take them", kind)
            return
        self._state.add_event(frame)  # durable before it is sent
        self._send_soon(frame)

    def _send_soon(self, frame: dict[str, Any]) -> None:
        socket = self._socket
        if socket is None:
            return  # sent on reconnect

        async def send() -> None:
            with contextlib.suppress(WebSocketException):  # kept in the state file
                await socket.send(frames.encode(frame))

        self._spawn(send())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _lookup(self, frame: dict[str, Any]) -> None:
        """Whether a number is on iMessage, as the engine knows it (None: it cannot say)."""
        service: Service | None = None
        try:
            service = await self._engine.evaluate_service(str(frame["line"]),
                                                          str(frame["number"]))
        except Exception:
            log.exception("lookup %s failed", frame.get("id"))
        self._send_soon({"type": "ack", "id": frame["id"],
                         "service": service.value if service is not None else None})

    async def _execute_forever(self) -> None:
        while True:
            frame = await self._commands.get()
            try:
                error = await self._execute(frame)
            except Exception as exc:  # a bug or an engine failure: reported, not fatal
                log.exception("command %s failed", frame.get("id"))
                error = {"code": int(ErrorCode.SEND_FAILED), "reason": f"the agent failed: {exc}"}
            self._send_soon({"type": "ack", "id": frame["id"], "error": error})

    async def _execute(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        command_id, kind = str(frame["id"]), frame["type"]
        record = self._state.executed(command_id)
        if record is not None and record["state"] == DONE:
            return record.get("error")  # a duplicate: acknowledged again, not executed again
        if kind == "send":
            message = frames.outbound_from(frame["message"])
            if record is not None:  # started before a crash: did it reach the engine?
                update = await self._engine.resolve(message.handle)
                if update is None:
                    self._state.done(command_id, _UNRESOLVED)
                    return _UNRESOLVED
                if update.status is not Status.QUEUED:
                    self._state.done(command_id, None)
                    self.emit("status", "update", update)
                    return None
            self._state.started(command_id)
            error: dict[str, Any] | None = None
            try:
                await self._engine.send(message)
            except SendFailed as exc:
                error = {"code": exc.code, "reason": exc.reason}
            self._state.done(command_id, error)
            return error
        # mark_read and typing are best effort: a crash mid-way may skip, never repeat, them.
        if record is not None:
            self._state.done(command_id, None)
            return None
        self._state.started(command_id)
        if kind == "mark_read":
            await self._engine.mark_read(frame["line"], frame["number"])
        else:
            await self._engine.set_typing(frame["line"], frame["number"], bool(frame["typing"]))
        self._state.done(command_id, None)
        return None


def _connect_url(gateway: str) -> str:
    url = gateway.rstrip("/")
    if url.startswith("http://"):
        url = "ws://" + url[len("http://"):]
    elif url.startswith("https://"):
        url = "wss://" + url[len("https://"):]
    return url if url.endswith(frames.PATH) else url + frames.PATH
