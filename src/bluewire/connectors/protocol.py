"""The connector protocol and the values that cross it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from ..domain.statuses import Service, Status


@dataclass(frozen=True, slots=True)
class Capabilities:
    services: frozenset[Service]
    groups: bool = False
    media: bool = False
    mark_read: bool = False
    typing: bool = False
    lookup: bool = False
    replies: bool = False  # inline replies (an outbound message's `reply_to`)
    group_names: bool = False  # naming a group chat
    group_photos: bool = False  # setting (and clearing) a group chat's photo
    reactions: bool = False  # tapbacks (send_reaction)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    handle: str
    line: str
    number: str
    content: str | None
    media_url: str | None = None
    send_style: str | None = None
    group_id: str | None = None  # set for a group message: sent to every participant
    participants: tuple[str, ...] = ()
    reply_to: str | None = None  # the handle of the message it answers inline
    reply_to_part: int | None = None


@dataclass(frozen=True, slots=True)
class OutboundReaction:
    """A tapback the line puts on (or, `removed`, takes off) a message of a conversation."""

    handle: str  # the reaction's own handle (sending it twice puts on the same tapback)
    line: str
    number: str
    message_handle: str  # the message reacted to
    reaction: str  # love, like, dislike, laugh, emphasize or question
    removed: bool = False
    part_index: int = 0
    group_id: str | None = None
    participants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """What the network says happened to one of our messages."""

    handle: str
    status: Status
    at_ms: int
    service: Service | None = None
    was_downgraded: bool | None = None
    error_code: int | None = None
    error_message: str | None = None
    number: str | None = None  # the participant it happened at (a group message's receipts)


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message a phone sent to one of our lines."""

    line: str
    number: str
    content: str | None
    at_ms: int
    service: Service = Service.IMESSAGE
    media_urls: tuple[str, ...] = field(default_factory=tuple)
    group_id: str | None = None  # set for a message to a group chat
    # The group chat's members as the network knows them (the sender among them; not the
    # line): a gateway that has never seen the group adopts it with these.
    participants: tuple[str, ...] = ()
    # Set only by a simulated network acting for one account (a sandbox phone driven through
    # that account's API on a shared line): the message may reach that account and no other.
    route_to: int | None = None
    reply_to: str | None = None  # the handle of our message it answers inline, if known


@dataclass(frozen=True, slots=True)
class Typing:
    line: str
    number: str
    is_typing: bool
    at_ms: int
    route_to: int | None = None  # as Inbound.route_to


@dataclass(frozen=True, slots=True)
class Reaction:
    """A phone put a tapback on (or, `removed`, took it off) one of our messages: never a
    text message."""

    line: str
    number: str
    message_handle: str  # the message reacted to (ours, as the network names it)
    reaction: str  # love, like, dislike, laugh, emphasize or question
    at_ms: int
    removed: bool = False
    part_index: int = 0
    group_id: str | None = None
    route_to: int | None = None  # as Inbound.route_to


GroupKind = Literal["renamed", "left", "photo_changed", "member_added", "member_removed"]


@dataclass(frozen=True, slots=True)
class GroupChange:
    """A member of one of the line's group chats renamed it (`name`; None clears it), left it,
    changed its photo (`photo_guid`, `photo_url`; None removes it), or added or removed
    another member (`member`)."""

    line: str
    group_id: str
    number: str  # the member who did it
    kind: GroupKind
    at_ms: int
    name: str | None = None
    photo_guid: str | None = None  # the media object kept of the new photo
    photo_url: str | None = None  # its download URL
    member: str | None = None  # the member added or removed
    # For an addition or removal whose `member` the network did not name: the group's members
    # as it lists them now (the one new among them, or of ours no longer among them, is it).
    participants: tuple[str, ...] = ()
    route_to: int | None = None  # as Inbound.route_to


class SendFailed(Exception):
    """The network refused the message; it ends in ERROR with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class EventSink(Protocol):
    """Where a connector reports what happens; applying an event twice changes nothing.
    Optional (the gateway's sink has it): `group_change(change: GroupChange)`, a member who
    changed one of the line's group chats."""

    def status(self, update: StatusUpdate) -> None: ...

    def inbound(self, message: Inbound, handle: str | None = None) -> None:
        """`handle`, optional: the message's own id on the network (BlueBubbles' guid), kept as
        its handle so a reaction can name it; one already recorded is not recorded again."""
        ...

    def typing(self, event: Typing) -> None: ...

    def reaction(self, event: Reaction, handle: str | None = None) -> None:
        """`handle`, optional: the tapback's own id on the network (a chat.db or BlueBubbles
        guid); one already recorded is not recorded again."""
        ...


class NetworkIdBook(Protocol):
    """Where a connector whose network names our messages by ids of its own (BlueBubbles'
    guids) keeps them, so any process, and this one after a restart, can tell which message
    the network speaks of."""

    async def remember(self, line: str, network_id: str, handle: str) -> None: ...

    async def handle_of(self, line: str, network_id: str) -> str | None: ...

    async def network_id_of(self, line: str, handle: str) -> str | None: ...


class LineOffline(Exception):
    """The line's connection to its network is not here now (a Mac's agent is offline, or
    connected to another process): the message stays QUEUED and is tried again later."""

    def __init__(self, line: str) -> None:
        super().__init__(f"line {line} has no agent connected")
        self.line = line


class Connector(Protocol):
    """A network's lines. Optional, for connectors whose lines differ from one another:
    `capabilities_for(line) -> Capabilities` (what that line can do), `capability_note(line)
    -> str` (why it lacks something), `async online(lines) -> set[str]` (those served now, by
    any process: /api/v2/lines/state) and `held_lines() -> list[str]` (the lines whose
    connection is in this process); `send` may raise LineOffline. Optional for a connector whose
    capabilities say `reactions`: `async send_reaction(reaction: OutboundReaction)` (may raise
    SendFailed or LineOffline). Optional for one whose lines say `group_names` and that must
    tell the network: `async rename_group(line, group_id, name: str | None)` (raises
    SendFailed, with ErrorCode.VALIDATION for a name the network cannot take); likewise for
    `group_photos`: `async set_group_photo(line, group_id, url: str | None)` (None removes
    it)."""

    capabilities: Capabilities

    async def start(self, sink: EventSink) -> None: ...

    async def send(self, message: OutboundMessage) -> None:
        """Hand the message to the network; raise SendFailed if it is refused outright."""
        ...

    async def mark_read(self, line: str, number: str) -> None: ...

    async def set_typing(self, line: str, number: str, typing: bool) -> None: ...

    async def evaluate_service(self, line: str, number: str) -> Service | None:
        """The service `number` is reachable on, or None when the lookup is inconclusive."""
        ...

    async def resolve(self, handle: str) -> StatusUpdate | None:
        """What became of a message we may have handed over before a crash: its latest status;
        QUEUED when the connector knows for certain that it never received it (it is then sent);
        None when it cannot say."""
        ...

    async def stop(self) -> None: ...
