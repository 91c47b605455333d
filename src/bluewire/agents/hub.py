"""The gateway side: the WebSocket endpoint agents connect to, and the Connector for lines
whose connector is `agent` (commands go to the connected agent holding the line). The protocol
both ends speak is described in `connectors.agent`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..api.http import Receive, Scope, Send
from ..api.websocket import Closed, WebSocket
from ..connectors.agent import frames
from ..connectors.protocol import (
    Capabilities,
    EventSink,
    LineOffline,
    OutboundMessage,
    Reaction,
    SendFailed,
    StatusUpdate,
)
from ..domain.line_health import Health, LineHealth
from ..domain.statuses import Service, Status
from ..services.lines import LineDirectory
from ..services.ownership import LeaseKeeper
from ..store import accounts as account_store
from ..store.database import now_ms
from ..store.writer import Tx, Writer
from .attachments import MediaPut, with_stored_media
from .questions import QuestionRelay
from .tokens import AgentToken, AgentTokens

log = logging.getLogger(__name__)

CONNECTOR = "agent"
_HELLO_TIMEOUT_S = 10.0
_SEEN_EVENTS = 20_000  # per token: far more than an agent keeps unacknowledged
_INBOUND_NAMESPACE = uuid.UUID("6f1d8a52-3c0b-4c4e-9a57-0b9d7f2f5a11")
# What an agent line can do before any agent announced it: optimistic, so requests are accepted
# (and queued) while the agent is away; the agent's hello then says what it really can do.
DEFAULT_CAPABILITIES = Capabilities(services=frozenset({Service.IMESSAGE, Service.SMS}),
                                    groups=True, media=True, mark_read=True, typing=True,
                                    lookup=True)
_ANNOUNCED = "capabilities"  # in the line's settings: what its agent last announced
_LOOKUP_TIMEOUT_S = 10.0
# For a question to reach the process serving the agent, and its answer to come back.
_RELAY_MARGIN_S = 5.0
_COMMANDS = ("mark_read", "typing")  # what another process hands over rather than asks


def line_lease(number: str) -> str:
    """The lease that makes one gateway process, among many, the one serving a line's agent."""
    return f"line:{number}"


def inbound_handle(token_id: str, event_id: str) -> str:
    """The stored handle of an agent's inbound event: the same on every re-send of it."""
    return str(uuid.uuid5(_INBOUND_NAMESPACE, f"{token_id}/{event_id}"))


@dataclass(eq=False)
class _Link:
    token_id: str
    socket: WebSocket
    session: str
    lines: dict[str, Capabilities]
    waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)


class AgentConnector:
    capabilities = DEFAULT_CAPABILITIES

    def __init__(self, tokens: AgentTokens, lines: LineDirectory, leases: LeaseKeeper,
                 writer: Writer, *, ack_timeout_s: float = 30.0,
                 media: Callable[[], MediaPut] | None = None) -> None:
        self._tokens = tokens
        self._lines = lines
        self._writer = writer
        # A line's agent is served by one process at a time: the one holding the line's lease.
        self._leases = leases
        # Stores the agents' inbound attachments (None: their file:// URLs are left as sent).
        # A getter: the app builds its media service after its connectors.
        self._media = media
        self._ack_timeout_s = ack_timeout_s
        self._sink: Any = None
        self._links: dict[str, _Link] = {}  # token id: its connected agent
        self._by_line: dict[str, _Link] = {}
        self._known: dict[str, Capabilities] = {}  # last announced, kept while offline
        self._unacked: dict[str, dict[str, dict[str, Any]]] = {}  # line: mark_read/typing frames
        self._seen: dict[str, OrderedDict[str, None]] = {}
        self._serving: set[asyncio.Task[None]] = set()
        # Each line's reconnections as this process saw them: DEGRADED when frequent.
        self._health = LineHealth()
        self.on_online: Callable[[], None] = lambda: None  # their queued messages go now
        # Questions for lines whose agent is connected to another process (set by the app).
        self.questions: QuestionRelay | None = None

    # -- Connector -----------------------------------------------------------------------------

    def capabilities_for(self, line: str) -> Capabilities:
        """What the line's agent announced: at its connection here, else (kept with the line)
        to whichever process it last connected to, so every process answers alike."""
        link = self._by_line.get(line)
        if link is not None:
            return link.lines[line]
        settings = line_settings.settings if (line_settings := self._lines.line(line)) else {}
        announced = settings.get(_ANNOUNCED)
        if announced:
            return frames.capabilities_from(announced)
        return self._known.get(line, DEFAULT_CAPABILITIES)  # if it could not be kept

    async def online(self, lines: list[str]) -> set[str]:
        """Which of `lines` have their agent connected, to this process or another."""
        here = {line for line in lines if line in self._by_line}
        elsewhere = [line for line in lines if line not in here]
        if elsewhere:
            held = await self._leases.held_anywhere([line_lease(n) for n in elsewhere])
            here |= {n for n in elsewhere if line_lease(n) in held}
        return here

    def health(self, line: str) -> Health | None:
        """The line's status as this process has seen its agent come and go (None: never
        here); its history is per process (domain/line_health.py)."""
        return self._health.of(line, now_ms())

    def held_lines(self) -> list[str]:
        return list(self._by_line)

    async def start(self, sink: EventSink) -> None:
        self._sink = sink

    async def stop(self) -> None:
        for link in list(self._links.values()):
            await link.socket.close(1001, "gateway shutting down")
            await self._leave(link)

    async def lease_lost(self, name: str) -> None:
        """This process no longer holds a line's lease (it could not renew it in time): its
        agent must go, to reconnect wherever the lease can be had."""
        link = next((link for number, link in self._by_line.items()
                     if line_lease(number) == name), None)
        if link is not None:
            log.warning("agent %s dropped: the lease on %s was lost", link.token_id, name)
            await link.socket.close(frames.CLOSE_TRY_AGAIN, "lease lost")
            await self._leave(link)

    async def send(self, message: OutboundMessage) -> None:
        link = self._by_line.get(message.line)
        if link is None:
            raise LineOffline(message.line)
        # Derived from the handle: a retry re-sends the same id, which the agent deduplicates.
        frame = {"id": f"send:{message.handle}", "type": "send",
                 "message": frames.to_plain(message)}
        try:
            ack = await self._ask(link, frame, self._ack_timeout_s)
        except (Closed, TimeoutError):
            raise LineOffline(message.line) from None
        error = ack.get("error")
        if error:
            raise SendFailed(int(error.get("code", 10001)), str(error.get("reason", "refused")))

    async def mark_read(self, line: str, number: str) -> None:
        await self._command(line, {"type": "mark_read", "line": line, "number": number})

    async def set_typing(self, line: str, number: str, typing: bool) -> None:
        await self._command(line, {"type": "typing", "line": line, "number": number,
                                   "typing": typing})

    async def evaluate_service(self, line: str, number: str) -> Service | None:
        """Asked of the line's agent, here or through the process it is connected to; None
        (inconclusive) when it is away or cannot say."""
        if not self.capabilities_for(line).lookup:
            return None
        link = self._by_line.get(line)
        if link is not None:
            return _service(await self._lookup_here(link, line, number))
        if self.questions is None or not await self.online([line]):
            return None
        answer = await self.questions.ask(line, "lookup", {"number": number},
                                          _LOOKUP_TIMEOUT_S + _RELAY_MARGIN_S)
        return _service(answer.get("service") if answer else None)

    async def answer(self, line: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Answer another process's question for a line whose agent is connected here, or
        take over its command (mark-read, typing) for that agent."""
        if kind in _COMMANDS:
            await self._keep_and_send(line, body)
            return {"kept": True}
        link = self._by_line.get(line)
        if kind != "lookup" or link is None:
            return {}
        return {"service": await self._lookup_here(link, line, str(body.get("number", "")))}

    async def _lookup_here(self, link: _Link, line: str, number: str) -> str | None:
        frame = {"id": f"lookup:{secrets.token_hex(8)}", "type": "lookup", "line": line,
                 "number": number}
        try:
            ack = await self._ask(link, frame, _LOOKUP_TIMEOUT_S)
        except (Closed, TimeoutError):
            return None
        return str(ack["service"]) if ack.get("service") else None

    async def resolve(self, handle: str) -> StatusUpdate | None:
        # "Send it now" is safe here even if the agent got it: the command id is derived from
        # the handle and the agent never executes an id twice (it reports what became of it).
        return StatusUpdate(handle=handle, status=Status.QUEUED, at_ms=now_ms())

    @staticmethod
    async def _ask(link: _Link, frame: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send `frame` to the agent and wait for its ack (Closed, TimeoutError otherwise)."""
        command_id = frame["id"]
        waiter = asyncio.get_running_loop().create_future()
        link.waiting[command_id] = waiter
        try:
            await link.socket.send_text(frames.encode(frame))
            return await asyncio.wait_for(asyncio.shield(waiter), timeout_s)
        finally:
            if link.waiting.get(command_id) is waiter:
                del link.waiting[command_id]

    async def _command(self, line: str, frame: dict[str, Any]) -> None:
        """To the process serving the line's agent if that is another; else kept here."""
        frame["id"] = f"{frame['type']}:{secrets.token_hex(8)}"
        if (line not in self._by_line and self.questions is not None
                and await self.online([line])
                and await self.questions.ask(line, frame["type"], frame,
                                             _RELAY_MARGIN_S) is not None):
            return
        await self._keep_and_send(line, frame)

    async def _keep_and_send(self, line: str, frame: dict[str, Any]) -> None:
        """Kept until acked; sent now if the line's agent is here, else when it connects."""
        self._unacked.setdefault(line, {})[frame["id"]] = frame
        link = self._by_line.get(line)
        if link is not None:
            with contextlib.suppress(Closed):
                await link.socket.send_text(frames.encode(frame))

    # -- the endpoint --------------------------------------------------------------------------

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        socket = WebSocket(scope, receive, send)
        if not await socket.accept():
            return
        try:
            hello = frames.decode(await asyncio.wait_for(socket.receive_text(), _HELLO_TIMEOUT_S))
            link = await self._admit(socket, hello)
        except (Closed, TimeoutError, ValueError) as exc:
            await _refuse(socket, "bad_hello", f"expected a hello frame first ({exc!r})",
                          frames.CLOSE_FORBIDDEN)
            return
        if link is None:
            return
        log.info("agent %s connected serving %s", link.token_id, ", ".join(link.lines))
        try:
            await self._serve(link)
        except Closed:
            pass
        finally:
            await self._leave(link)
            log.info("agent %s disconnected", link.token_id)

    async def _admit(self, socket: WebSocket, hello: dict[str, Any]) -> _Link | None:
        if hello.get("type") != "hello" or not isinstance(hello.get("token"), str):
            raise ValueError("not a hello")
        token = await asyncio.to_thread(self._tokens.verify, hello["token"])
        if token is None:
            await _refuse(socket, "bad_token", "unknown or revoked agent token",
                          frames.CLOSE_BAD_TOKEN)
            return None
        lines = self._announced(token, hello)
        refused = [n for n in lines if n not in token.lines]
        if not refused:
            await self._lines.reload()  # a line just added by another process counts
            refused = [n for n in lines if (line := self._lines.line(n)) is None
                       or line.connector != CONNECTOR]
        if refused or not lines:
            await _refuse(socket, "line_not_allowed",
                          f"this token may not serve {', '.join(refused) or 'no lines'}: a token "
                          f"serves only its own lines, and only lines added with --connector "
                          f"{CONNECTOR}", frames.CLOSE_FORBIDDEN)
            return None
        try:
            busy = await self._take_leases(lines)
        except Exception as exc:
            log.warning("agent %s waits: its lines' leases cannot be taken (%s)",
                        token.token_id, exc)
            await _refuse(socket, "unavailable", "the gateway cannot reach its database; "
                          "retry shortly", frames.CLOSE_TRY_AGAIN)
            return None
        if busy:
            await _refuse(socket, "line_held_elsewhere",
                          f"{', '.join(busy)} is served by an agent connected to another "
                          f"gateway process; retry until that connection ends, or its lease "
                          f"runs out should that process have died", frames.CLOSE_TRY_AGAIN)
            return None
        link = _Link(token.token_id, socket, secrets.token_hex(8), lines)
        await self._remember(lines)
        # Welcomed before it is reachable: a command sent ahead of the welcome would be read as
        # the answer to its hello (a refusal), and the agent would stop.
        try:
            await socket.send_text(frames.encode({"type": "welcome", "session": link.session,
                                                  "lines": sorted(lines),
                                                  "events": list(frames.EVENTS)}))
            await self._send_kept(socket, lines)
        except Closed:  # gone before it heard the welcome: its lines are free again
            for number in lines:
                if number not in self._by_line:
                    await self._leases.give_up(line_lease(number))
            raise
        previous = self._links.get(token.token_id)
        self._links[token.token_id] = link
        connected_at = now_ms()
        for number, caps in lines.items():
            self._by_line[number] = link
            self._known[number] = caps
            self._health.connected(number, connected_at)
        if previous is not None:  # the newest connection of a token wins
            await previous.socket.close(frames.CLOSE_REPLACED, "replaced by a new connection")
            await self._leave(previous)
        self.on_online()
        return link

    async def _send_kept(self, socket: WebSocket, lines: dict[str, Capabilities]) -> None:
        """The kept commands of `lines`, those kept while these were being sent included."""
        sent: set[str] = set()
        while kept := [frame for number in lines
                       for frame_id, frame in self._unacked.get(number, {}).items()
                       if frame_id not in sent]:
            for frame in kept:
                sent.add(frame["id"])
                await socket.send_text(frames.encode(frame))

    async def _remember(self, lines: dict[str, Capabilities]) -> None:
        """Keep what each line can do with the line, for the other processes."""
        changes = {n: {_ANNOUNCED: frames.capabilities_plain(c)} for n, c in lines.items()}

        def write(tx: Tx) -> bool:
            return any([account_store.merge_line_settings(tx, number, change)
                        for number, change in changes.items()])
        try:
            if await self._writer.submit(write):
                await self._lines.reload()  # this process's view too, once the agent leaves
        except Exception as exc:  # only the other processes' view of it waits
            log.warning("the capabilities of %s could not be kept (%s)", sorted(lines), exc)

    async def _take_leases(self, lines: dict[str, Capabilities]) -> list[str]:
        """Take the leases of `lines`; those another process holds (then none is kept)."""
        taken, busy = [], []
        for number in sorted(lines):
            if await self._leases.take(line_lease(number)):
                taken.append(number)
            else:
                busy.append(number)
        if busy:
            for number in taken:
                if number not in self._by_line:  # not held by another link of ours
                    await self._leases.give_up(line_lease(number))
        return busy

    @staticmethod
    def _announced(token: AgentToken, hello: dict[str, Any]) -> dict[str, Capabilities]:
        announced = hello.get("lines") or []
        if not announced:  # "all my token's lines", with one set of capabilities
            caps = frames.capabilities_from(hello.get("capabilities") or {})
            return {number: caps for number in token.lines}
        return {str(entry["number"]): frames.capabilities_from(entry.get("capabilities") or {})
                for entry in announced}

    async def _serve(self, link: _Link) -> None:
        while True:
            try:
                frame = frames.decode(await link.socket.receive_text())
            except ValueError:
                log.warning("agent %s sent a frame that is not JSON; ignored", link.token_id)
                continue
            kind, frame_id = frame.get("type"), frame.get("id")
            if not isinstance(frame_id, str):
                continue
            if kind == "ack":
                self._acked(link, frame_id, frame)
            elif kind in frames.EVENTS:
                await self._event(link, frame_id, frame)
                await link.socket.send_text(frames.encode({"type": "ack", "id": frame_id}))

    def _acked(self, link: _Link, frame_id: str, frame: dict[str, Any]) -> None:
        waiter = link.waiting.pop(frame_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(frame)
        for number in link.lines:
            self._unacked.get(number, {}).pop(frame_id, None)

    async def _event(self, link: _Link, event_id: str, frame: dict[str, Any]) -> None:
        seen = self._seen.setdefault(link.token_id, OrderedDict())
        if event_id in seen:
            return
        kind = frame["type"]
        try:
            if kind == "status":
                self._sink.status(frames.status_from(frame["update"]))
            elif kind == "inbound":
                await self._inbound(link, event_id, frame)
            elif kind == "reaction":
                self._reaction(link, event_id, frames.reaction_from(frame["event"]),
                               _network_handle(frame.get("handle")))
            else:
                self._sink.typing(frames.typing_from(frame["event"]))
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("agent %s sent a malformed %s event (%s); dropped", link.token_id,
                        kind, exc)
        await self._sink.drain()  # acknowledged only once committed
        seen[event_id] = None
        if len(seen) > _SEEN_EVENTS:
            seen.popitem(last=False)

    async def _inbound(self, link: _Link, event_id: str, frame: dict[str, Any]) -> None:
        message = frames.inbound_from(frame["message"])
        if message.line not in link.lines:
            log.warning("agent %s reported an inbound to %s, not its line; dropped",
                        link.token_id, message.line)
            return
        attachments = frame.get("attachments")
        if self._media is not None:  # stored as inbound media: our links replace file:// URLs
            message = await with_stored_media(
                self._media(), message, attachments if isinstance(attachments, list) else [])
        self._sink.inbound(message, handle=_network_handle(frame.get("handle"))
                           or inbound_handle(link.token_id, event_id))

    def _reaction(self, link: _Link, event_id: str, reaction: Reaction,
                  own: str | None) -> None:
        """A phone's tapback on a message of the agent's line (ours, or the phone's own, which
        the agent names by the handle it gave it); recorded once however often it is re-sent,
        or read again from chat.db (`own`: its guid there)."""
        if reaction.line not in link.lines:
            log.warning("agent %s reported a reaction on %s, not its line; dropped",
                        link.token_id, reaction.line)
            return
        self._sink.reaction(reaction, handle=own or inbound_handle(link.token_id, event_id))

    async def _leave(self, link: _Link) -> None:
        """`link` serves no more: its lines no other link of ours serves are given up."""
        self._drop(link)
        for number in link.lines:
            if number not in self._by_line:
                self._health.disconnected(number, now_ms())
                await self._leases.give_up(line_lease(number))

    def _drop(self, link: _Link) -> None:
        if self._links.get(link.token_id) is link:
            del self._links[link.token_id]
        for number in link.lines:
            if self._by_line.get(number) is link:
                del self._by_line[number]
        for waiter in link.waiting.values():
            if not waiter.done():
                waiter.set_exception(Closed())
        link.waiting.clear()


def _network_handle(value: Any) -> str | None:
    """An inbound's own id on the network (a Mac's chat.db guid), kept as its handle so that
    a tapback or an inline reply can name it, and a re-read row is recorded once; None when the
    agent gave none (an older agent) or one that cannot be a handle."""
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def _service(name: str | None) -> Service | None:
    try:
        return Service(name) if name else None
    except ValueError:  # not a service we know of: as good as no answer
        return None


async def _refuse(socket: WebSocket, code: str, message: str, close_code: int) -> None:
    with contextlib.suppress(Closed):
        await socket.send_text(frames.encode({"type": "error", "code": code,
                                              "message": message}))
    await socket.close(close_code, code)
