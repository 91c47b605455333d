"""The BlueBubbles connector: every line whose connector is `bluebubbles` is served by its own
BlueBubbles server (line.settings: url, password, webhook_secret). Sends go over its REST API;
what happens to them, and what phones send, comes back as its (unsigned) webhooks, which carry
the line's secret in their URL."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, unquote, urlsplit

import aiohttp

from ..domain import limits
from ..domain.errors import ErrorCode
from ..domain.media_types import extension_for, extension_of
from ..domain.statuses import Service, Status
from .bluebubbles_client import BlueBubblesClient, BlueBubblesError
from .protocol import (
    Capabilities,
    EventSink,
    GroupChange,
    GroupKind,
    Inbound,
    NetworkIdBook,
    OutboundMessage,
    OutboundReaction,
    Reaction,
    SendFailed,
    StatusUpdate,
    Typing,
)

if TYPE_CHECKING:
    from ..media.service import MediaService

log = logging.getLogger(__name__)

NAME = "bluebubbles"
RESCAN_S = 2.0  # how soon a line added while running is set up
MAX_MEDIA_BYTES = 100 * 1024 * 1024
# A phone's attachment is downloaded up to what the media service stores (it refuses more).
MAX_ATTACHMENT_BYTES = min(MAX_MEDIA_BYTES, limits.MAX_MEDIA_BYTES)
_REMEMBERED = 20_000
_OBJECT_REPLACEMENT = "\ufffc"  # where Messages puts an attachment in the text
_HANDLE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

WITHOUT_PRIVATE_API = Capabilities(services=frozenset({Service.IMESSAGE, Service.SMS}),
                                   groups=True, media=True)
WITH_PRIVATE_API = Capabilities(services=frozenset({Service.IMESSAGE, Service.SMS}),
                                groups=True, media=True, mark_read=True, typing=True,
                                lookup=True, reactions=True, replies=True, group_names=True,
                                group_photos=True)
# Tapbacks as BlueBubbles names them (its `associatedMessageType`): newer servers send the
# names, older ones Apple's codes (2000-2005 put one on, 3000-3005 take it off).
_TAPBACKS = ("love", "like", "dislike", "laugh", "emphasize", "question")
_TAPBACK_PART = re.compile(r"^(?:p:(?P<part>\d+)/|bp:)?(?P<guid>.+)$")
# A member's change of a group chat, by the webhook BlueBubbles reports it with.
_GROUP_CHANGES: dict[str, GroupKind] = {
    "group-name-change": "renamed", "participant-left": "left",
    "group-icon-changed": "photo_changed", "group-icon-removed": "photo_changed",
    "participant-added": "member_added", "participant-removed": "member_removed"}
# The `itemType`s of those changes' messages, which also come as new-message: not messages.
_GROUP_ITEMS = (1, 2, 3)


class Line(Protocol):
    """What the connector reads of a line (the gateway's line records have it)."""

    @property
    def number(self) -> str: ...

    @property
    def connector(self) -> str: ...

    @property
    def settings(self) -> dict[str, Any]: ...


def webhook_path(line: str) -> str:
    return f"/connectors/{NAME}/{quote(line, safe='')}/webhook"


@dataclass(slots=True)
class _Server:
    """One line's BlueBubbles server, once it has answered `server/info`."""

    client: BlueBubblesClient
    private_api: bool
    chat_prefix: str  # `any` on macOS 26, where chat guids are `any;-;…`


class BlueBubblesConnector:
    capabilities = WITHOUT_PRIVATE_API  # a line's own is capabilities_for(line)

    def __init__(self, line_of: Callable[[str], Line | None],
                 all_lines: Callable[[], list[Line]], public_url: str | None,
                 media: Callable[[], MediaService | None] | None = None,
                 ids: NetworkIdBook | None = None) -> None:
        self._line_of = line_of
        # Where the guids of our messages are kept for other processes and after a restart
        # (the maps below are this process's memory of them).
        self._ids = ids
        self._media = media  # stores what phones send; called when needed (built later)
        self._all_lines = all_lines
        self._public_url = public_url.rstrip("/") if public_url else None
        self._servers: dict[str, _Server] = {}
        self._settings_seen: dict[str, dict[str, Any]] = {}
        self._sink: EventSink | None = None
        self._session: aiohttp.ClientSession | None = None
        self._scanner: asyncio.Task[None] | None = None
        self._sent: OrderedDict[str, str] = OrderedDict()  # our handle: its line
        self._guids: OrderedDict[str, str] = OrderedDict()  # BlueBubbles guid: our handle
        self._guid_of: OrderedDict[str, str] = OrderedDict()  # our handle: BlueBubbles guid
        self._latest: OrderedDict[str, StatusUpdate] = OrderedDict()
        self._downloads: set[asyncio.Task[None]] = set()
        self._pending: dict[str, asyncio.Task[None]] = {}  # line: its latest inbound waiting

    # -- life ---------------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._session = aiohttp.ClientSession()
        self._scanner = asyncio.get_running_loop().create_task(self._scan(), name=NAME)

    async def stop(self) -> None:
        if self._scanner is not None:
            self._scanner.cancel()
            await asyncio.gather(self._scanner, return_exceptions=True)
        for task in list(self._downloads):
            task.cancel()
        await asyncio.gather(*self._downloads, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _scan(self) -> None:
        """Set up every line's server (server/info, webhook), again when its settings change
        or the last try failed, so lines added while running and Macs that come back work."""
        while True:
            try:
                lines = await asyncio.to_thread(self._all_lines)
                mine = [line for line in lines if line.connector == NAME
                        and self._settings_seen.get(line.number) != line.settings]
                await asyncio.gather(*(self._prepare(line) for line in mine))
            except Exception:
                log.exception("setting up BlueBubbles lines failed")
            await asyncio.sleep(RESCAN_S)

    async def _prepare(self, line: Line) -> None:
        client = self._client(line)
        if client is None:
            log.warning("line %s has no BlueBubbles url/password in its settings", line.number)
            self._settings_seen[line.number] = line.settings
            return
        try:
            info = await client.server_info()
            if self._public_url is None:
                log.warning("BLUEWIRE_PUBLIC_URL is not set: BlueBubbles cannot be told where "
                            "to send line %s's webhooks", line.number)
            else:
                secret = quote(str(line.settings.get("webhook_secret", "")), safe="")
                await client.register_webhook(
                    f"{self._public_url}{webhook_path(line.number)}?secret={secret}")
        except BlueBubblesError as exc:
            log.warning("BlueBubbles server of line %s: %s", line.number, exc.reason)
            return
        major = (info.os_version or "0").split(".")[0]
        prefix = "any" if major.isdigit() and int(major) >= 26 else "iMessage"
        self._servers[line.number] = _Server(client, info.private_api, prefix)
        self._settings_seen[line.number] = line.settings
        log.info("line %s served by BlueBubbles at %s (Private API %s)", line.number,
                 client.url, "on" if info.private_api else "off")

    def _client(self, line: Line) -> BlueBubblesClient | None:
        url, password = line.settings.get("url"), line.settings.get("password")
        if not url or not password or self._session is None:
            return None
        return BlueBubblesClient(self._session, str(url), str(password))

    # -- capabilities -------------------------------------------------------------------------

    def capabilities_for(self, line: str) -> Capabilities:
        server = self._servers.get(line)
        return WITH_PRIVATE_API if server and server.private_api else WITHOUT_PRIVATE_API

    def capability_note(self, line: str) -> str:
        """Why a line lacks what the Private API gives, for the error that says so."""
        server = self._servers.get(line)
        if server is None:
            return "its BlueBubbles server has not answered yet"
        return f"its BlueBubbles server ({server.client.url}) does not have the Private API"

    def _server(self, line: str) -> _Server:
        server = self._servers.get(line)
        if server is not None:
            return server
        settings = self._line_of(line)
        client = self._client(settings) if settings else None
        if client is None:
            raise SendFailed(ErrorCode.SEND_FAILED, f"line {line} has no BlueBubbles server "
                                                    "configured (url and password)")
        # Not set up yet (just added, or the Mac was down): send the safe way meanwhile.
        return _Server(client, False, "iMessage")

    # -- sending ------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> None:
        server = self._server(message.line)
        chat = message.group_id or f"{server.chat_prefix};-;{message.number}"
        method = "private-api" if server.private_api else "apple-script"
        reply_to = None
        if message.reply_to is not None:
            if not server.private_api:
                raise SendFailed(ErrorCode.SEND_FAILED, f"line {message.line} cannot send "
                                 f"inline replies: {self.capability_note(message.line)}")
            reply_to = (await self._guid_for(message.line, message.reply_to),
                        message.reply_to_part or 0)
        self._remember(self._sent, message.handle, message.line)
        sent: dict[str, Any] = {}
        try:
            if message.media_url:
                name, data, content_type = await self._fetch(message.media_url)
                sent = await server.client.send_attachment(chat, message.handle, name, data,
                                                           content_type, method, reply_to)
            if message.content:
                sent = await server.client.send_text(chat, message.handle, message.content,
                                                     method, reply_to)
        except BlueBubblesError as exc:
            raise SendFailed(ErrorCode.SEND_FAILED, exc.reason) from None
        await self._message_update(message.line, sent, fallback_handle=message.handle)

    async def _fetch(self, url: str) -> tuple[str, bytes, str]:
        assert self._session is not None
        if urlsplit(url).scheme not in ("http", "https"):
            raise SendFailed(ErrorCode.SEND_FAILED, f"media_url {url} is not an http(s) URL")
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=60)) as got:
                if got.status != 200:
                    raise SendFailed(ErrorCode.SEND_FAILED,
                                     f"fetching media_url {url} answered {got.status}")
                if (got.content_length or 0) > MAX_MEDIA_BYTES:
                    raise SendFailed(ErrorCode.SEND_FAILED, f"media_url {url} is too large")
                data = await got.content.read(MAX_MEDIA_BYTES + 1)
                content_type = got.content_type or "application/octet-stream"
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendFailed(ErrorCode.SEND_FAILED,
                             f"media_url {url} could not be fetched: {exc}") from None
        if len(data) > MAX_MEDIA_BYTES:
            raise SendFailed(ErrorCode.SEND_FAILED, f"media_url {url} is larger than "
                                                    f"{MAX_MEDIA_BYTES} bytes")
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "attachment"
        return name, data, content_type

    async def send_reaction(self, reaction: OutboundReaction) -> None:
        """`message/react` (Private API) on the message's BlueBubbles guid: an inbound's is its
        handle; one of ours is known from its send's answer or webhooks."""
        try:
            server = self._private(reaction.line, "send reactions")
        except BlueBubblesError as exc:
            raise SendFailed(ErrorCode.SEND_FAILED, exc.reason) from None
        guid = await self._guid_for(reaction.line, reaction.message_handle)
        chat = reaction.group_id or f"{server.chat_prefix};-;{reaction.number}"
        name = ("-" if reaction.removed else "") + reaction.reaction
        try:
            await server.client.react(chat, guid, name, reaction.part_index)
        except BlueBubblesError as exc:
            raise SendFailed(ErrorCode.SEND_FAILED, exc.reason) from None

    async def _guid_for(self, line: str, handle: str) -> str:
        """The BlueBubbles guid of a message: an inbound's is its handle; one of ours is known
        from its send's answer or webhooks (kept, for every process)."""
        guid = self._guid_of.get(handle)
        if guid is None and self._ids is not None:
            guid = await self._ids.network_id_of(line, handle)
        guid = guid or (None if _HANDLE.match(handle) else handle)
        if guid is None:
            raise SendFailed(ErrorCode.SEND_FAILED, f"the BlueBubbles id of message {handle} "
                             "is not known yet (it is learnt from the message's send and "
                             "webhooks)")
        return guid

    async def rename_group(self, line: str, group_id: str, name: str | None) -> None:
        """Name the group chat `group_id` (its chat guid) on the line's server: `PUT
        chat/:guid` with `displayName` (Private API). BlueBubbles cannot clear a name."""
        if name is None:
            raise SendFailed(ErrorCode.VALIDATION, f"line {line} cannot clear a group chat's "
                             "name: its BlueBubbles server only sets one")
        try:
            server = self._private(line, "name group chats")
            await server.client.rename_chat(group_id, name)
        except BlueBubblesError as exc:
            raise SendFailed(ErrorCode.SEND_FAILED, exc.reason) from None

    async def set_group_photo(self, line: str, group_id: str, url: str | None) -> None:
        """The picture at `url` (the gateway's copy) becomes the group chat's photo on the
        line's server (`POST chat/:guid/icon`, Private API); None removes it (`DELETE`)."""
        try:
            server = self._private(line, "set group chat photos")
            if url is None:
                await server.client.remove_chat_icon(group_id)
                return
            name, data, content_type = await self._fetch(url)
            await server.client.set_chat_icon(group_id, name, data, content_type)
        except BlueBubblesError as exc:
            raise SendFailed(ErrorCode.SEND_FAILED, exc.reason) from None

    async def mark_read(self, line: str, number: str) -> None:
        server = self._private(line, "send read receipts")
        await server.client.mark_read(f"{server.chat_prefix};-;{number}")

    async def set_typing(self, line: str, number: str, typing: bool) -> None:
        server = self._private(line, "send typing indicators")
        await server.client.set_typing(f"{server.chat_prefix};-;{number}", typing)

    async def evaluate_service(self, line: str, number: str) -> Service | None:
        server = self._servers.get(line)
        if server is None or not server.private_api:
            return None
        try:
            available = await server.client.imessage_available(number)
        except BlueBubblesError as exc:
            log.warning("iMessage lookup of %s on line %s failed: %s", number, line, exc.reason)
            return None
        if available is None:
            return None
        return Service.IMESSAGE if available else Service.SMS

    def _private(self, line: str, what: str) -> _Server:
        server = self._servers.get(line)
        if server is None or not server.private_api:
            raise BlueBubblesError(None, f"line {line} cannot {what}: {self.capability_note(line)}")
        return server

    async def resolve(self, handle: str) -> StatusUpdate | None:
        # The reference documents no route to look a message up by tempGuid, so only what
        # this process has heard of can be answered.
        return self._latest.get(handle)

    # -- webhooks in --------------------------------------------------------------------------

    def authentic(self, line: str, secret: str | None) -> bool:
        settings = self._line_of(line)
        if settings is None or settings.connector != NAME or not secret:
            return False
        expected = str(settings.settings.get("webhook_secret") or "")
        return bool(expected) and hmac.compare_digest(expected.encode(), secret.encode())

    async def webhook(self, line: str, event: dict[str, Any]) -> None:
        """Apply one BlueBubbles webhook for `line`; events we do not use are ignored."""
        kind, data = event.get("type"), event.get("data")
        if not isinstance(data, dict):
            return
        if kind == "typing-indicator":
            self._typing(line, data)
        elif kind in ("new-message", "updated-message"):
            if data.get("itemType") in _GROUP_ITEMS:
                return  # a group chat's change, also sent as its own webhook
            if data.get("associatedMessageType"):
                if kind == "new-message" and not data.get("isFromMe"):
                    await self._tapback(line, data)
                return  # a tapback, never a message
            if data.get("isFromMe"):
                await self._message_update(line, data)
            elif kind == "new-message":
                await self._inbound(line, data)
        elif isinstance(kind, str) and kind in _GROUP_CHANGES:
            self._group_change(line, kind, data)
        elif kind == "message-send-error":
            handle = await self._our_handle(line, data)
            if handle is not None:
                self._report(StatusUpdate(
                    handle, Status.ERROR, _ms(data.get("dateCreated")) or _now_ms(),
                    error_code=ErrorCode.SEND_FAILED,
                    error_message=f"BlueBubbles could not send the message "
                                  f"(error {data.get('error', 'unknown')})"))

    async def _message_update(self, line: str, data: dict[str, Any],
                              fallback_handle: str | None = None) -> None:
        handle = await self._our_handle(line, data) or fallback_handle
        if handle is None:
            return  # sent from the Mac itself, not through us
        guid = data.get("guid")
        if isinstance(guid, str) and 0 < len(guid) <= 64 and self._guid_of.get(handle) != guid:
            self._remember(self._guids, guid, handle)
            self._remember(self._guid_of, handle, guid)
            if self._ids is not None:
                self._spawn(self._ids.remember(line, guid, handle), f"{NAME} guid {handle}")
        service, downgraded = _service(data)
        error = data.get("error")
        if isinstance(error, int) and error != 0:
            self._report(StatusUpdate(handle, Status.ERROR, _now_ms(), service, downgraded,
                                      error_code=ErrorCode.SEND_FAILED,
                                      error_message=f"BlueBubbles reports error {error}"))
            return
        self._report(StatusUpdate(handle, Status.SENT, _ms(data.get("dateCreated")) or _now_ms(),
                                  service, downgraded))
        delivered = _ms(data.get("dateDelivered"))
        if delivered or data.get("isDelivered"):
            self._report(StatusUpdate(handle, Status.DELIVERED, delivered or _now_ms(),
                                      service, downgraded))
        read = _ms(data.get("dateRead"))
        if read:
            self._report(StatusUpdate(handle, Status.READ, read, service, downgraded))

    async def _our_handle(self, line: str, data: dict[str, Any]) -> str | None:
        temp = data.get("tempGuid")
        if isinstance(temp, str) and temp:
            sent_on = self._sent.get(temp)
            # After a restart the map is empty: a handle-shaped tempGuid is taken as ours.
            if sent_on == line or (sent_on is None and _HANDLE.match(temp)):
                return temp
            return None
        guid = data.get("guid")
        if not isinstance(guid, str) or not guid:
            return None
        handle = self._guids.get(guid)
        if handle is not None and self._sent.get(handle) == line:
            return handle
        return await self._kept_handle(line, guid)

    async def _kept_handle(self, line: str, guid: str) -> str | None:
        """Our message the server names `guid` on `line`, as kept by whichever process sent
        it (None: not one of ours, or not known)."""
        handle = await self._ids.handle_of(line, guid) if self._ids is not None else None
        if handle is not None:
            self._remember(self._guids, guid, handle)
            self._remember(self._guid_of, handle, guid)
            self._remember(self._sent, handle, line)
        return handle

    async def _tapback(self, line: str, data: dict[str, Any]) -> None:
        """A phone's tapback (a new-message with `associatedMessageType`): a Reaction on the
        message `associatedMessageGuid` names (`p:<part>/<guid>`), ours or its own."""
        sender = data.get("handle")
        number = sender.get("address") if isinstance(sender, dict) else None
        kind, target = data.get("associatedMessageType"), data.get("associatedMessageGuid")
        named = _tapback_name(kind)
        found = _TAPBACK_PART.match(target) if isinstance(target, str) else None
        if not isinstance(number, str) or not number or named is None or found is None \
                or self._sink is None:
            log.info("a tapback on line %s was not understood: dropped", line)
            return
        name, removed = named
        guid = found["guid"]
        chat = _chat_guid(data)
        own = data.get("guid")  # the tapback's own: a webhook sent twice is recorded once
        target_handle = self._guids.get(guid) or await self._kept_handle(line, guid) or guid
        self._sink.reaction(Reaction(
            line=line, number=number, message_handle=target_handle,
            reaction=name, at_ms=_ms(data.get("dateCreated")) or _now_ms(), removed=removed,
            part_index=int(found["part"] or 0),
            group_id=chat if chat and ";+;" in chat else None),
            handle=own if isinstance(own, str) and 0 < len(own) <= 64 else None)

    def _group_change(self, line: str, kind: str, data: dict[str, Any]) -> None:
        """A member renamed a group chat (`groupTitle`, empty: no name), left it, changed or
        removed its photo, or added or removed a member: the message BlueBubbles reports it
        with names the member who did it (`handle`) and the chat. The line's own changes
        (`isFromMe`) were recorded when it made them."""
        sender = data.get("handle")
        number = sender.get("address") if isinstance(sender, dict) else None
        chat = _chat_guid(data)
        report = getattr(self._sink, "group_change", None)
        if data.get("isFromMe") or not isinstance(number, str) or not number \
                or not chat or ";+;" not in chat or report is None:
            log.info("%s on line %s was not a member's change of a group chat: ignored",
                     kind, line)
            return
        change = GroupChange(line=line, group_id=chat, number=number,
                             kind=_GROUP_CHANGES[kind],
                             at_ms=_ms(data.get("dateCreated")) or _now_ms())
        if kind == "group-name-change":
            title = data.get("groupTitle")
            change = replace(change, name=title.strip() if isinstance(title, str)
                             and title.strip() else None)
        elif kind in ("participant-added", "participant-removed"):
            change = replace(change, member=_other_member(data),
                             participants=_participants(data))
        elif kind == "group-icon-changed":
            self._spawn(self._with_photo(change, _attachments(data)), f"{NAME} photo {line}")
            return
        report(change)

    async def _with_photo(self, change: GroupChange, attachments: list[dict[str, Any]]) -> None:
        """Report a member's new group photo once the picture (the change's attachment) is
        downloaded from the line's server and kept; one that cannot be is dropped, logged."""
        kept = await self._store_attachment(change.line, attachments[0], expires=False) \
            if attachments else None
        report = getattr(self._sink, "group_change", None)
        if kept is None or report is None:
            log.warning("a new photo of group %s on line %s could not be kept: dropped",
                        change.group_id, change.line)
            return
        guid, url = kept
        report(replace(change, photo_guid=guid, photo_url=url))

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run `work` without holding up the webhook's answer; kept until done."""
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._downloads.add(task)
        task.add_done_callback(self._downloads.discard)

    async def _inbound(self, line: str, data: dict[str, Any]) -> None:
        handle = data.get("handle")
        number = handle.get("address") if isinstance(handle, dict) else None
        if not isinstance(number, str) or not number or self._sink is None:
            return
        guid = data.get("guid")
        # The message's guid is its handle: a reaction to it names it, and a webhook sent
        # twice is recorded once.
        own = guid if isinstance(guid, str) and 0 < len(guid) <= 64 else None
        chat = _chat_guid(data)
        group_id = chat if chat and ";+;" in chat else None
        service, _ = _service(data)
        text = data.get("text")
        text = text.replace(_OBJECT_REPLACEMENT, "") if isinstance(text, str) else ""
        # An inline reply names the message it answers: ours (known here by its guid) or the
        # phone's own (its guid is its handle).
        thread = data.get("threadOriginatorGuid")
        reply_to = (self._guids.get(thread) or await self._kept_handle(line, thread) or thread) \
            if isinstance(thread, str) and thread else None
        inbound = Inbound(
            line=line, number=number, content=text if text.strip() else None,
            at_ms=_ms(data.get("dateCreated")) or _now_ms(),
            service=service or Service.IMESSAGE, group_id=group_id,
            participants=_participants(data) if group_id else (), reply_to=reply_to)
        attachments = _attachments(data)
        previous = self._pending.get(line)
        if not attachments and (previous is None or previous.done()):
            self._sink.inbound(inbound, own)
            return
        # Downloads must not hold up the webhook's answer (BlueBubbles does not retry), and
        # a line's inbounds reach the sink in the order they came.
        task = asyncio.get_running_loop().create_task(
            self._with_media(inbound, attachments, previous, own), name=f"{NAME} media {line}")
        self._pending[line] = task
        self._downloads.add(task)
        task.add_done_callback(lambda done: self._finished(line, done))

    def _finished(self, line: str, task: asyncio.Task[None]) -> None:
        self._downloads.discard(task)
        if self._pending.get(line) is task:
            del self._pending[line]
        if not task.cancelled() and task.exception() is not None:
            log.error("an inbound on line %s was lost", line, exc_info=task.exception())

    async def _with_media(self, inbound: Inbound, attachments: list[dict[str, Any]],
                          previous: asyncio.Task[None] | None, handle: str | None) -> None:
        stored = [await self._store_attachment(inbound.line, a) for a in attachments]
        urls = tuple(kept[1] for kept in stored if kept is not None)
        if previous is not None:
            await asyncio.wait({previous})
        if inbound.content is None and not urls:
            log.warning("an inbound on line %s had only attachments, none of which could be "
                        "stored: dropped", inbound.line)
            return
        if self._sink is not None:
            self._sink.inbound(replace(inbound, media_urls=urls), handle)

    async def _store_attachment(self, line: str, attachment: dict[str, Any], *,
                                expires: bool = True) -> tuple[str, str] | None:
        """The media object id and our download URL of one of a phone's attachments (its
        link expiring as inbound media's do, unless not `expires`), or None (logged) if it
        could not be fetched from the line's server or stored."""
        guid = attachment["guid"]
        media = self._media() if self._media is not None else None
        server = self._servers.get(line)
        settings = None if server else self._line_of(line)
        client = server.client if server else self._client(settings) if settings else None
        if media is None or client is None:
            log.warning("attachment %s on line %s dropped: no %s", guid, line,
                        "media service" if media is None else "BlueBubbles server configured")
            return None
        total = attachment.get("totalBytes")
        if isinstance(total, int) and total > MAX_ATTACHMENT_BYTES:
            log.warning("attachment %s on line %s dropped: %d bytes is over the %d limit",
                        guid, line, total, MAX_ATTACHMENT_BYTES)
            return None
        try:
            data, content_type = await client.download_attachment(guid, MAX_ATTACHMENT_BYTES)
        except BlueBubblesError as exc:
            log.warning("attachment %s on line %s dropped: %s", guid, line, exc.reason)
            return None
        return await self._put(media, line, _attachment_name(attachment, content_type), data,
                               expires)

    @staticmethod
    async def _put(media: MediaService, line: str, name: str | None, data: bytes,
                   expires: bool) -> tuple[str, str] | None:
        if name is None:
            log.warning("an attachment on line %s dropped: not a media type bluewire keeps",
                        line)
            return None
        try:
            stored = await media.put(None, name, data, expires=expires)
        except Exception:
            log.exception("an attachment on line %s (%s) could not be stored", line, name)
            return None
        return stored.media_id, media.download_url(stored)

    def _typing(self, line: str, data: dict[str, Any]) -> None:
        chat = data.get("guid")
        if not isinstance(chat, str) or ";-;" not in chat or self._sink is None:
            return  # group typing has no single number
        number = chat.split(";-;", 1)[1]
        self._sink.typing(Typing(line, number, bool(data.get("display")), _now_ms()))

    def _report(self, update: StatusUpdate) -> None:
        self._remember(self._latest, update.handle, update)
        if self._sink is not None:
            self._sink.status(update)

    @staticmethod
    def _remember(store: OrderedDict[str, Any], key: str, value: Any) -> None:
        store[key] = value
        store.move_to_end(key)
        if len(store) > _REMEMBERED:
            store.popitem(last=False)


def _attachments(data: dict[str, Any]) -> list[dict[str, Any]]:
    found = data.get("attachments")
    if not isinstance(found, list):
        return []
    return [a for a in found if isinstance(a, dict) and isinstance(a.get("guid"), str)
            and a["guid"]]


def _attachment_name(attachment: dict[str, Any], content_type: str | None) -> str | None:
    """A file name with a media extension (its own, else from its type), or None."""
    name = attachment.get("transferName")
    name = name.rsplit("/", 1)[-1].strip() if isinstance(name, str) else ""
    if extension_of(name) in limits.MEDIA_EXTENSIONS:
        return name
    mime = attachment.get("mimeType")
    extension = extension_for(mime if isinstance(mime, str) else None) \
        or extension_for(content_type)
    return f"{name or 'attachment'}.{extension}" if extension else None


def _tapback_name(kind: Any) -> tuple[str, bool] | None:
    """(name, removed) of an `associatedMessageType`, or None for what is not a tapback."""
    if isinstance(kind, str):
        name = kind.strip().lower()
        removed = name.startswith("-")
        name = name.removeprefix("-")
        return (name, removed) if name in _TAPBACKS else None
    if isinstance(kind, int) and not isinstance(kind, bool):
        for base, removed in ((2000, False), (3000, True)):
            if base <= kind < base + len(_TAPBACKS):
                return _TAPBACKS[kind - base], removed
    return None


def _chat_guid(data: dict[str, Any]) -> str | None:
    chats = data.get("chats")
    if isinstance(chats, list) and chats and isinstance(chats[0], dict):
        guid = chats[0].get("guid")
        return guid if isinstance(guid, str) else None
    return None


def _other_member(data: dict[str, Any]) -> str | None:
    """The member a participant-added or -removed names: its `otherHandle` is that handle's
    row id, found among the chat's participants as listed now (an added member is; a removed
    one no longer is, and is found by who remains: GroupChange.participants)."""
    other = data.get("otherHandle")
    chats = data.get("chats")
    listed = chats[0].get("participants") if isinstance(chats, list) and chats \
        and isinstance(chats[0], dict) else None
    if not isinstance(other, int) or isinstance(other, bool) or other <= 0 \
            or not isinstance(listed, list):
        return None
    return next((p["address"] for p in listed if isinstance(p, dict)
                 and p.get("originalROWID") == other and isinstance(p.get("address"), str)
                 and p["address"]), None)


def _participants(data: dict[str, Any]) -> tuple[str, ...]:
    """A group chat's members as the webhook lists them (its chat's `participants`, which
    BlueBubbles loads for a group chat), so a gateway that never saw the group can adopt it."""
    chats = data.get("chats")
    listed = chats[0].get("participants") if isinstance(chats, list) and chats \
        and isinstance(chats[0], dict) else None
    if not isinstance(listed, list):
        return ()
    return tuple(sorted({p["address"] for p in listed if isinstance(p, dict)
                         and isinstance(p.get("address"), str) and p["address"]}))


def _service(data: dict[str, Any]) -> tuple[Service | None, bool | None]:
    """The service a message went over, and whether an iMessage was downgraded to SMS."""
    chat = _chat_guid(data) or ""
    handle = data.get("handle")
    named = handle.get("service") if isinstance(handle, dict) else None
    if chat.startswith("SMS;") or named == "SMS":
        return Service.SMS, True if data.get("isFromMe") else None
    if chat.startswith("iMessage;") or named == "iMessage":
        return Service.IMESSAGE, None
    return None, None


def _ms(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
