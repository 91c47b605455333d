"""The sandbox: a simulated phone network where every number that is not a line is a phone.

By default a phone is on iMessage with read receipts on. Numbers +1 NPA 555-01XX behave as their
last two digits say (PHONE_BEHAVIOURS), so every path can be tried by hand and in tests.

This module holds the phones' behaviours, and `SandboxConnector`, the network simulated in one
process's memory: what an agent runs when it stands in for a Mac (`bluewire agent --engine
sandbox`). The gateway runs the same phones with their state in the database, shared by every
process and outliving each (sandbox/network.py); there a phone can also be acted as
(the sandbox API, `bluewire sandbox`).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
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
    """A message as the phone sees it: `status` is what the phone knows of it (READ once the
    phone has read it, whether or not it told the line), `read_at_ms` when it read it."""

    handle: str
    line: str
    content: str | None
    media_url: str | None
    status: Status
    at_ms: int
    read_at_ms: int | None = None
    group_id: str | None = None  # set for a message to a group the phone is in
    reply_to: str | None = None  # the message it answers inline


@dataclass(slots=True)
class PhoneSent:
    """A message the phone sent to a line; `read_at_ms` is when a read receipt from the line
    first covered it."""

    line: str
    content: str | None
    media_urls: tuple[str, ...]
    service: Service
    at_ms: int
    read_at_ms: int | None = None
    group_id: str | None = None  # set for a message the phone sent to a group
    reply_to: str | None = None  # the line's message it answers inline


@dataclass(frozen=True, slots=True)
class TypingSeen:
    line: str
    is_typing: bool
    at_ms: int


@dataclass(frozen=True, slots=True)
class PhoneRead:
    """What reading a conversation did: the messages read now, and those of them the phone
    told the line about (none when it has read receipts off or is on SMS)."""

    read: tuple[str, ...]
    reported: tuple[str, ...]


class PhoneActionRefused(ValueError):
    """The phone cannot do that (e.g. deliver by hand when it is not a manual phone)."""


# What the network remembers is bounded: a phone keeps its latest messages, and
# the network the latest outcomes it can tell `resolve` about.
PHONE_HISTORY = 500
RESOLVE_MEMORY = 200_000
PHONES = 100_000  # the phones remembered; the least recently used is forgotten first


def _history() -> deque[Any]:
    return deque(maxlen=PHONE_HISTORY)


@dataclass(slots=True)
class Phone:
    number: str
    behaviour: Behaviour
    received: OrderedDict[str, PhoneMessage] = field(default_factory=OrderedDict)
    sent: deque[PhoneSent] = field(default_factory=_history)

    def receive(self, message: PhoneMessage) -> None:
        self.received[message.handle] = message
        if len(self.received) > PHONE_HISTORY:
            self.received.popitem(last=False)

    @property
    def service(self) -> Service:
        return service_of(self.behaviour)

    @property
    def sends_read_receipts(self) -> bool:
        return self.behaviour not in (Behaviour.NO_READ_RECEIPTS, Behaviour.SMS)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class SandboxConnector:
    """The network in this process's memory: every line on it is served by this instance, and
    its phones end with the process (an agent's stand-in for a Mac)."""

    capabilities = Capabilities(
        services=frozenset({Service.IMESSAGE, Service.SMS, Service.RCS}),
        groups=True, media=True, mark_read=True, typing=True, lookup=True, replies=True,
        group_names=True, group_photos=True, reactions=True,
    )

    def __init__(self, timing: SandboxTiming | None = None) -> None:
        self.timing = timing or SandboxTiming()
        self.phones: OrderedDict[str, Phone] = OrderedDict()
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
            if len(self.phones) > PHONES:
                self.phones.popitem(last=False)
        else:
            self.phones.move_to_end(number)
        return phone

    async def send(self, message: OutboundMessage) -> None:
        if message.group_id is not None:
            self._send_group(message)
            return
        phone = self.phone(message.number)
        behaviour = phone.behaviour
        if behaviour is Behaviour.FAILS:
            raise SendFailed(ErrorCode.SEND_FAILED,
                             f"the sandbox phone {message.number} refuses every message")
        self._receive(phone, PhoneMessage(message.handle, message.line, message.content,
                                          message.media_url, Status.SENT, _now_ms(),
                                          reply_to=message.reply_to))
        if behaviour is Behaviour.NEVER_RESOLVES:
            return
        service = service_of(behaviour)
        self._report(message.handle, Status.SENT, service,
                     was_downgraded=True if service is Service.SMS else None)
        if behaviour in (Behaviour.SMS, Behaviour.MANUAL):
            return
        timing = self.timing
        self._later(timing.deliver_ms, self._deliver, phone, message, service)

    def _send_group(self, message: OutboundMessage) -> None:
        """A group message reaches every participant's phone, each behaving as it does; each
        phone's receipts name it. It fails only if no phone takes it."""
        taken = 0
        for number in message.participants:
            phone = self.phone(number)
            behaviour = phone.behaviour
            if behaviour is Behaviour.FAILS:
                continue
            taken += 1
            self._receive(phone, PhoneMessage(message.handle, message.line, message.content,
                                              message.media_url, Status.SENT, _now_ms(),
                                              group_id=message.group_id))
            if behaviour is Behaviour.NEVER_RESOLVES:
                continue
            self._report(message.handle, Status.SENT, Service.IMESSAGE, number=number)
            if behaviour in (Behaviour.SMS, Behaviour.MANUAL):
                continue
            self._later(self.timing.deliver_ms, self._deliver, phone, message, Service.IMESSAGE)
        if not taken:
            raise SendFailed(ErrorCode.SEND_FAILED,
                             f"no phone of group {message.group_id} takes the message")

    def _receive(self, phone: Phone, message: PhoneMessage) -> None:
        phone.receive(message)

    def _deliver(self, phone: Phone, message: OutboundMessage, service: Service) -> None:
        self._set_phone_status(phone, message.handle, Status.DELIVERED)
        member = phone.number if message.group_id is not None else None
        self._report(message.handle, Status.DELIVERED, service, number=member)
        if member is not None:
            if phone.behaviour is not Behaviour.NO_READ_RECEIPTS:
                slow = phone.behaviour is Behaviour.SLOW_READ
                delay = self.timing.slow_read_ms if slow else self.timing.read_ms
                self._later(delay, self._read, phone, message.handle, service, member)
            return
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

    def _read(self, phone: Phone, handle: str, service: Service,
              number: str | None = None) -> None:
        seen = phone.received.get(handle)
        if seen is not None and seen.status is Status.READ:
            return  # read by hand already (and reported then, if the phone reports reads)
        if seen is not None:
            seen.status, seen.read_at_ms = Status.READ, _now_ms()
        self._report(handle, Status.READ, service, number=number)

    def _reply(self, phone: Phone, line: str, text: str) -> None:
        self._phone_sends(phone, line, text, ())

    def _phone_sends(self, phone: Phone, line: str, content: str | None,
                     media_urls: tuple[str, ...], group_id: str | None = None, *,
                     route_to: int | None = None, reply_to: str | None = None) -> PhoneSent:
        assert self._sink is not None
        sent = PhoneSent(line, content, media_urls, phone.service, _now_ms(), group_id=group_id,
                         reply_to=reply_to)
        phone.sent.append(sent)
        self._sink.inbound(Inbound(line=line, number=phone.number, content=content,
                                   at_ms=sent.at_ms, service=sent.service,
                                   media_urls=media_urls, group_id=group_id,
                                   route_to=route_to, reply_to=reply_to))
        return sent

    def _set_phone_status(self, phone: Phone, handle: str, status: Status) -> None:
        seen = phone.received.get(handle)
        if seen is not None:
            seen.status = status

    def _report(self, handle: str, status: Status, service: Service,
                was_downgraded: bool | None = None, number: str | None = None) -> None:
        assert self._sink is not None
        update = StatusUpdate(handle=handle, status=status, at_ms=_now_ms(), service=service,
                              was_downgraded=was_downgraded, number=number)
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
        """A read receipt for `number`: nothing here keeps it (nobody looks at this phone)."""

    async def set_typing(self, line: str, number: str, typing: bool) -> None:
        """A typing indicator for `number`: as mark_read."""

    async def evaluate_service(self, line: str, number: str) -> Service | None:
        return service_of(behaviour_of(number))

    async def resolve(self, handle: str) -> StatusUpdate | None:
        return self._reported.get(handle)
