"""The sandbox: a simulated phone network where every number that is not a line is a phone.

By default a phone is on iMessage with read receipts on. Numbers +1 NPA 555-01XX have the fixed
behaviours of DESIGN §7 (see PHONE_BEHAVIOURS), so every path can be tried by hand and in tests.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..domain.errors import ErrorCode
from ..domain.phones import sandbox_suffix
from ..domain.statuses import Service, Status
from .protocol import (
    Capabilities,
    EventSink,
    Inbound,
    OutboundMessage,
    SendFailed,
    StatusUpdate,
)


class Behaviour(StrEnum):
    READS = "iMessage, read receipts on"
    NO_READ_RECEIPTS = "iMessage, read receipts off"
    SMS = "SMS only"
    RCS = "RCS"
    FAILS = "send fails"
    NEVER_RESOLVES = "status never resolves"
    ECHO = "replies with an echo"
    REPLIES_STOP = "replies STOP"
    MANUAL = "manual"
    SLOW_READ = "reads after a long delay"


PHONE_BEHAVIOURS: dict[str, Behaviour] = {
    "00": Behaviour.READS,
    "01": Behaviour.NO_READ_RECEIPTS,
    "02": Behaviour.SMS,
    "03": Behaviour.RCS,
    "04": Behaviour.FAILS,
    "05": Behaviour.NEVER_RESOLVES,
    "06": Behaviour.ECHO,
    "07": Behaviour.REPLIES_STOP,
    "08": Behaviour.MANUAL,
    "09": Behaviour.SLOW_READ,
}


def behaviour_of(number: str) -> Behaviour:
    suffix = sandbox_suffix(number)
    return PHONE_BEHAVIOURS.get(suffix, Behaviour.READS) if suffix else Behaviour.READS


def service_of(behaviour: Behaviour) -> Service:
    if behaviour is Behaviour.SMS:
        return Service.SMS
    if behaviour is Behaviour.RCS:
        return Service.RCS
    return Service.IMESSAGE


@dataclass(frozen=True, slots=True)
class SandboxTiming:
    deliver_ms: int = 300
    read_ms: int = 1500
    slow_read_ms: int = 60_000


@dataclass(slots=True)
class PhoneMessage:
    """A message as the phone sees it."""

    handle: str
    line: str
    content: str | None
    media_url: str | None
    status: Status
    at_ms: int


# What the network remembers is bounded: a phone keeps its latest messages, and the network
# the latest outcomes it can tell `resolve` about.
PHONE_HISTORY = 500
RESOLVE_MEMORY = 200_000


@dataclass(slots=True)
class Phone:
    number: str
    behaviour: Behaviour
    received: OrderedDict[str, PhoneMessage] = field(default_factory=OrderedDict)

    def receive(self, message: PhoneMessage) -> None:
        self.received[message.handle] = message
        if len(self.received) > PHONE_HISTORY:
            self.received.popitem(last=False)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class SandboxConnector:
    """The built-in network. Every line on it is served by this one instance."""

    capabilities = Capabilities(
        services=frozenset({Service.IMESSAGE, Service.SMS, Service.RCS}),
        groups=True, media=True, mark_read=True, typing=True, lookup=True,
    )

    def __init__(self, timing: SandboxTiming | None = None) -> None:
        self.timing = timing or SandboxTiming()
        self.phones: dict[str, Phone] = {}
        self._reported: OrderedDict[str, StatusUpdate] = OrderedDict()
        self._sink: EventSink | None = None
        self._timers: dict[asyncio.TimerHandle, tuple[Callable[..., None], tuple[Any, ...]]] = {}
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        """Fast-forward: every phone does at once what it was going to do, so no message
        is left half-way when the process exits (the phones do not outlive it)."""
        self._stopping = True
        while self._timers:
            timer, (callback, args) = self._timers.popitem()
            timer.cancel()
            callback(*args)

    def phone(self, number: str) -> Phone:
        phone = self.phones.get(number)
        if phone is None:
            phone = self.phones[number] = Phone(number, behaviour_of(number))
        return phone

    async def send(self, message: OutboundMessage) -> None:
        phone = self.phone(message.number)
        behaviour = phone.behaviour
        if behaviour is Behaviour.FAILS:
            raise SendFailed(ErrorCode.SEND_FAILED,
                             f"the sandbox phone {message.number} refuses every message")
        phone.receive(PhoneMessage(message.handle, message.line, message.content,
                                   message.media_url, Status.SENT, _now_ms()))
        if behaviour is Behaviour.NEVER_RESOLVES:
            return
        service = service_of(behaviour)
        self._report(message.handle, Status.SENT, service,
                     was_downgraded=True if service is Service.SMS else None)
        if behaviour in (Behaviour.SMS, Behaviour.MANUAL):
            return
        timing = self.timing
        self._later(timing.deliver_ms, self._deliver, phone, message, service)

    def _deliver(self, phone: Phone, message: OutboundMessage, service: Service) -> None:
        self._set_phone_status(phone, message.handle, Status.DELIVERED)
        self._report(message.handle, Status.DELIVERED, service)
        behaviour = phone.behaviour
        if behaviour is Behaviour.ECHO:
            self._reply(phone, message.line, f"echo: {message.content or ''}")
        elif behaviour is Behaviour.REPLIES_STOP:
            self._reply(phone, message.line, "STOP")
        if behaviour is Behaviour.NO_READ_RECEIPTS:
            return
        slow = behaviour is Behaviour.SLOW_READ
        delay = self.timing.slow_read_ms if slow else self.timing.read_ms
        self._later(delay, self._read, phone, message.handle, service)

    def _read(self, phone: Phone, handle: str, service: Service) -> None:
        self._set_phone_status(phone, handle, Status.READ)
        self._report(handle, Status.READ, service)

    def _reply(self, phone: Phone, line: str, text: str) -> None:
        assert self._sink is not None
        self._sink.inbound(Inbound(line=line, number=phone.number, content=text,
                                   at_ms=_now_ms(), service=service_of(phone.behaviour)))

    def _set_phone_status(self, phone: Phone, handle: str, status: Status) -> None:
        seen = phone.received.get(handle)
        if seen is not None:
            seen.status = status

    def _report(self, handle: str, status: Status, service: Service,
                was_downgraded: bool | None = None) -> None:
        assert self._sink is not None
        update = StatusUpdate(handle=handle, status=status, at_ms=_now_ms(), service=service,
                              was_downgraded=was_downgraded)
        self._reported[handle] = update
        if len(self._reported) > RESOLVE_MEMORY:
            self._reported.popitem(last=False)
        self._sink.status(update)

    def _later(self, delay_ms: int, callback: Callable[..., None], *args: Any) -> None:
        assert self._loop is not None
        if self._stopping:
            callback(*args)
            return
        if delay_ms <= 0:
            self._loop.call_soon(callback, *args)
            return
        timer: asyncio.TimerHandle

        def fire() -> None:
            self._timers.pop(timer, None)
            callback(*args)

        timer = self._loop.call_later(delay_ms / 1000, fire)
        self._timers[timer] = (callback, args)

    async def mark_read(self, line: str, number: str) -> None:
        return None

    async def set_typing(self, line: str, number: str, typing: bool) -> None:
        return None

    async def evaluate_service(self, line: str, number: str) -> Service | None:
        return service_of(behaviour_of(number))

    async def resolve(self, handle: str) -> StatusUpdate | None:
        return self._reported.get(handle)
