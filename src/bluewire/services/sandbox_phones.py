"""Acting as a simulated phone of the sandbox network (/sandbox/phones/{number}).

A test, the CLI or the dashboard sends a message from the phone to a line, reads the phone's
conversation with a line (READ receipts for our messages), types, delivers by hand (a manual
phone), and sees the conversation as the phone sees it. An account acts only towards lines it
may use, and the view shows it only its own messages and what its lines sent the phone.

Each action answers once what it reported is recorded, so a status, message or event it caused
can be read at once.
"""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from ..connectors.sandbox import (
    Behaviour,
    PhoneActionRefused,
    PhoneSent,
    TypingSeen,
    behaviour_of,
    service_of,
)
from ..domain import limits
from ..domain.errors import not_found, validation_error
from ..domain.handles import new_handle
from ..domain.messages import in_conversation
from ..domain.payloads import iso
from ..domain.phones import require_number
from ..domain.reactions import check_part, parse_reaction, wire_name
from ..domain.wire.reactions import PhoneReacts
from ..domain.wire.sandbox import (
    MAX_PHONE_MEDIA_URLS,
    BehaviourName,
    PhoneAction,
    PhoneSends,
    PhoneTypes,
)
from ..media.service import MediaService
from ..sandbox.network import SandboxNetwork
from ..store import messages as message_store
from ..store import reactions as reaction_store
from ..store import sandbox_network as network_store
from ..store.accounts import Account, Line
from ..store.database import Database
from ..store.sandbox_network import PhoneReceived, PhoneSentRow
from ..store.schema import chat_groups, messages, reactions, read_receipts
from .lines import LineDirectory

assert set(BehaviourName.__args__) == {b.value for b in Behaviour}  # type: ignore[attr-defined]

_RECEIPTS = 1000  # the read receipts one view shows at most
_REACTIONS = 1000  # the reactions one view shows at most


class SandboxPhones:
    """The sandbox API's work: validation, the phone's actions, and scoping to the account."""

    def __init__(self, sandbox: SandboxNetwork, lines: LineDirectory, database: Database,
                 drain: Callable[[], Awaitable[None]], *,
                 media: MediaService | None = None) -> None:
        self._media = media
        self._sandbox = sandbox
        self._lines = lines
        self._database = database
        self._drain = drain

    @property
    def media(self) -> MediaService | None:
        """Where what phones send is kept (None: media is off)."""
        return self._media

    # -- actions ------------------------------------------------------------------------------

    async def send(self, account: Account, raw_number: str, request: PhoneSends, *,
                   attachment: tuple[str, bytes] | None = None) -> dict[str, Any]:
        """The phone sends `request`; `attachment` (file name, bytes) is a picture or file the
        phone sends itself, stored as a network's inbound media is (its link expires)."""
        number = self._phone(raw_number)
        line = await self._line(account, number, request.line)
        content = limits.check_content(request.content)
        media_urls = _media_urls(request)
        if not content and not media_urls and attachment is None:
            raise validation_error("`content` or `media_url` is required")
        media_urls = await self._received_media(account, media_urls)
        if attachment is not None:
            if self._media is None:
                raise validation_error("the phone cannot send a file: this server stores no "
                                       "media")
            stored = await self._media.put(account.id, *attachment, expires=True)
            media_urls = (*media_urls, self._media.download_url(stored))
        group_id = request.group_id.strip() if request.group_id is not None else None
        if group_id is not None and not await self._own_group(account, group_id):
            raise validation_error("`group_id` must be the id of a group of this account that "
                                   "the phone is in")
        reply_to = await self._answered(account, number, line.number, group_id, request)
        first = new_handle()
        sent = self._sandbox.phone_send(number, line.number, content or None, media_urls,
                                        group_id=group_id, route_to=account.id,
                                        reply_to=reply_to, handle=first)
        await self._drain()
        handles = await self._database.read_async(lambda conn: _inbound_handles(
            conn, account.id, first, max(1, len(sent.media_urls))))
        return {"status": "OK", "number": number, **_sent_json(sent),
                "message_handles": handles}

    async def _answered(self, account: Account, number: str, line: str, group_id: str | None,
                        request: PhoneSends) -> str | None:
        """The message of this conversation the phone's message answers inline, if any."""
        if request.reply_to is None:
            return None
        handle = request.reply_to.message_handle.strip()
        parent = await self._database.read_async(
            lambda conn: message_store.message_by_handle(conn, handle))
        if parent is None or not in_conversation(parent, account.id, line, number, group_id):
            where = f"group {group_id}" if group_id else f"this phone and {line}"
            raise validation_error(f"`reply_to.message_handle` {handle} is not a message "
                                   f"between {where}")
        return parent.handle

    async def react(self, account: Account, raw_number: str,
                    request: PhoneReacts) -> dict[str, Any]:
        """The phone puts a tapback on (or, `-love`, takes it off) a message of the account it
        received; it reaches the account as a reaction, never as a message."""
        number = self._phone(raw_number)
        name, removed = parse_reaction(request.reaction)
        part = check_part(request.part_index)
        handle = request.message_handle.strip()

        def load(conn: Connection) -> tuple[Any, list[Any]]:
            return (message_store.message_by_handle(conn, handle),
                    network_store.of_handle(conn, handle))

        target, held = await self._database.read_async(load)
        if (target is None or target.account_id != account.id or not target.is_outbound
                or not any(row.number == number for row in held)):
            raise not_found(f"No message with handle {handle} that this account's lines sent "
                            f"{number}: a phone reacts to a message it received")
        line = await self._line(account, number, request.line or target.line)
        if line.number != target.line:
            raise not_found(f"No message with handle {handle} from {line.number} on this "
                            f"phone: it came from {target.line}")
        try:
            at = self._sandbox.phone_react(number, line.number, target.handle, name,
                                           removed=removed, part_index=part,
                                           group_id=target.group_id, route_to=account.id)
        except PhoneActionRefused as exc:
            raise validation_error(f"`number` {number} {exc}") from None
        await self._drain()
        recorded = await self._database.read_async(lambda conn: conn.execute(
            select(reactions.c.handle)
            .where(reactions.c.account_id == account.id, reactions.c.number == number,
                   reactions.c.message_handle == target.handle, reactions.c.created_at == at,
                   reactions.c.is_outbound.is_(False))
            .order_by(reactions.c.id.desc()).limit(1)).scalar())
        return {"status": "OK", "number": number, "line": line.number,
                "message_handle": target.handle, "reaction": wire_name(name, removed),
                "removed": removed, "part_index": part, "reaction_handle": recorded}

    async def read(self, account: Account, raw_number: str,
                   request: PhoneAction) -> dict[str, Any]:
        number = self._phone(raw_number)
        line = await self._line(account, number, request.line)
        outcome = await self._sandbox.phone_read(number, line.number, account.id)
        own = list(outcome.read)
        told = set(outcome.reported)
        reported = [handle for handle in own if handle in told]
        return {"status": "OK", "number": number, "line": line.number, "read": len(own),
                "receipts_reported": bool(reported), "message_handles": own,
                "read_receipts": self._phone_reports_reads(number)}

    async def typing(self, account: Account, raw_number: str,
                     request: PhoneTypes) -> dict[str, Any]:
        number = self._phone(raw_number)
        line = await self._line(account, number, request.line)
        state = await self._sandbox.phone_type(number, line.number, request.typing,
                                               route_to=account.id)
        return {"status": "OK", "number": number, **_typing_json(state),
                "reported": behaviour_of(number) is not Behaviour.SMS}

    async def deliver(self, account: Account, raw_number: str,
                      request: PhoneAction) -> dict[str, Any]:
        number = self._phone(raw_number)
        line = await self._line(account, number, request.line)
        try:
            delivered = await self._sandbox.phone_deliver(number, line.number, account.id)
        except PhoneActionRefused as exc:
            raise validation_error(f"`number` {exc}") from None
        own = list(delivered)
        return {"status": "OK", "number": number, "line": line.number, "delivered": len(own),
                "message_handles": own}

    async def view(self, account: Account, raw_number: str, *, before: datetime | None = None,
                   limit: int = 100) -> dict[str, Any]:
        """What the phone sees of the account's sandbox lines: the newest `limit` messages
        (received and sent together; older than `before`, when given), the read receipts and
        typing it saw. From the database: every process answers the same."""
        number = self._phone(raw_number)
        usable = sorted(line.number for line in self.sandbox_lines(account))
        shared = {line for line in usable if len(self._lines.accounts_of(line)) > 1}
        until = _ms(before)
        sms = behaviour_of(number) is Behaviour.SMS

        def load(conn: Connection) -> tuple[Any, ...]:
            received = network_store.received_page(conn, account.id, number, usable, until,
                                                   limit + 1)
            sent = network_store.sent_page(conn, account.id, number, usable, until, limit + 1)
            oldest = min((m.received_at for m in received), default=None)
            oldest = min([t for t in (oldest, *(s.at_ms for s in sent)) if t is not None],
                         default=until)
            receipts = [] if sms else _receipt_times(conn, account.id, number, usable,
                                                    since=oldest, until=until)
            return (received, sent, receipts, network_store.typing_of(conn, number, usable),
                    _last_writer_lines(conn, account.id, number, shared),
                    reaction_store.of_phone(conn, account.id, number, usable, _REACTIONS))

        received, sent, receipts, typing, talking, tapbacks = \
            await self._database.read_async(load)
        timeline = sorted([(m.received_at, 0, m) for m in received]
                          + [(s.at_ms, 1, s) for s in sent], key=lambda e: e[:2], reverse=True)
        page, more = timeline[:limit], len(timeline) > limit
        conversations: dict[str, dict[str, Any]] = {}

        def conversation(line: str) -> dict[str, Any]:
            found = conversations.get(line)
            if found is None:
                found = conversations[line] = {"line": line, "received": [], "sent": [],
                                               "read_receipts": [], "typing": None,
                                               "phone_typing": None, "reactions": []}
            return found

        by_line: dict[str, list[int]] = {}
        for line, at_ms in receipts:
            by_line.setdefault(line, []).append(at_ms)
        for _, _, entry in reversed(page):
            if isinstance(entry, PhoneReceived):
                conversation(entry.line)["received"].append(_received_json(entry))
            else:
                conversation(entry.line)["sent"].append(
                    _sent_row_json(entry, _first_after(by_line.get(entry.line, []),
                                                       entry.at_ms)))
        for line, at_ms in receipts:
            conversation(line)["read_receipts"].append({"line": line,
                                                        "received_at": iso(at_ms)})
        for tapback in tapbacks:
            conversation(tapback.line)["reactions"].append({
                "message_handle": tapback.message_handle,
                "reaction": wire_name(tapback.reaction, tapback.removed),
                "removed": tapback.removed, "part_index": tapback.part_index,
                "from_phone": tapback.from_phone, "at": iso(tapback.at_ms)})
        # On a shared line the line's typing is shown only to the account that wrote to the
        # phone last (the one the conversation is with).
        for line, side, is_typing, at_ms in typing:
            state = _typing_json(TypingSeen(line, is_typing, at_ms))
            if side == "phone":
                conversation(line)["phone_typing"] = state
            elif line not in shared or line in talking:
                conversation(line)["typing"] = state
        return {"status": "OK", **self._phone_json(number),
                "conversations": [conversations[line] for line in sorted(conversations)],
                "next_before": iso(page[-1][0]) if more else None}

    async def _received_media(self, account: Account,
                              urls: tuple[str, ...]) -> tuple[str, ...]:
        """The phone's pictures, fetched as a network would and stored: our download links,
        which expire as inbound media links do."""
        if self._media is None or not self._media.fetch_enabled:
            return urls
        links = []
        for index, url in enumerate(urls):
            field = "media_url" if len(urls) == 1 else f"media_urls[{index}]"
            stored = await self._media.fetch(account.id, url, field=field, expires=True,
                                             by_type=True)
            links.append(self._media.download_url(stored))
        return tuple(links)

    # -- validation and scoping -----------------------------------------------------------------

    def phone_number(self, raw: str, field: str = "number") -> str:
        """A sandbox phone's number (given as `field`) as E.164, or the 400 saying why `raw`
        is not one."""
        return self._phone(raw, field)

    def sandbox_lines(self, account: Account) -> list[Line]:
        """The account's lines served by the sandbox network, which have simulated phones."""
        return [line for line in map(self._lines.line, self._lines.numbers_of(account.id))
                if line is not None and line.connector == "sandbox"]

    def _phone(self, raw: str, field: str = "number") -> str:
        """The path's number as E.164 (a literal `+` or `%2B`; a `+` a client turned into a
        space is taken back), which must not be one of our lines."""
        if raw.startswith(" "):
            raw = "+" + raw[1:]
        number = require_number(raw, field, recipient=False)
        if self._lines.line(number) is not None:
            raise validation_error(f"`{field}` {number} is one of our lines, not a sandbox "
                                   "phone")
        return number

    async def _line(self, account: Account, phone: str, raw: str | None) -> Line:
        """The line the phone talks to: `line`; without it, the account's sandbox line that the
        phone last talked with (its last message with the account, either way), or the
        account's first sandbox line if it never did."""
        if raw is None or raw == "":
            sandbox = self.sandbox_lines(account)
            if not sandbox:
                raise validation_error("`line` is required: this account has no sandbox line")
            if len(sandbox) == 1:
                return sandbox[0]
            last = await self._database.read_async(lambda conn: _last_line(
                conn, account.id, phone, [line.number for line in sandbox]))
            return next((line for line in sandbox if line.number == last), sandbox[0])
        number = require_number(raw, "line", recipient=False)
        line = self._lines.usable_by(account.id, number)
        if line is None:
            raise validation_error(f"`line` {number} is not a line of this account",
                                   error_key="LINE_NOT_FOUND")
        if line.connector != "sandbox":
            raise validation_error(f"`line` {number} is served by the {line.connector} "
                                   "connector; only sandbox lines have simulated phones")
        return line

    async def _own_group(self, account: Account, group_id: str) -> bool:
        found = await self._database.read_async(lambda conn: conn.execute(
            select(chat_groups.c.account_id).where(chat_groups.c.group_id == group_id)).scalar())
        return found == account.id

    def _phone_reports_reads(self, number: str) -> bool:
        return behaviour_of(number) not in (Behaviour.NO_READ_RECEIPTS, Behaviour.SMS)

    def _phone_json(self, number: str) -> dict[str, Any]:
        behaviour = behaviour_of(number)
        return {"number": number, "behaviour": behaviour.value,
                "service": service_of(behaviour).value,
                "read_receipts": self._phone_reports_reads(number),
                "manual": behaviour is Behaviour.MANUAL}


def _media_urls(request: PhoneSends) -> tuple[str, ...]:
    single, many = request.media_url, request.media_urls
    if single not in (None, "") and many not in (None, []):
        raise validation_error("give `media_url` or `media_urls`, not both")
    if single is not None and single != "":
        return (limits.check_http_url(single, "media_url"),)
    if many is None:
        return ()
    if len(many) > MAX_PHONE_MEDIA_URLS:
        raise validation_error(f"`media_urls` holds at most {MAX_PHONE_MEDIA_URLS} URLs")
    return tuple(limits.check_http_url(url, f"media_urls[{i}]") for i, url in enumerate(many))


def _receipt_times(conn: Connection, account_id: int, number: str, lines: Sequence[str], *,
                   since: int | None, until: int | None) -> list[tuple[str, int]]:
    """(line, time) of the read receipts `account_id` sent `number` on `lines`, oldest first,
    from `since` (when given) to before `until`."""
    if not lines:
        return []
    query = (select(read_receipts.c.line, read_receipts.c.sent_at)
             .where(read_receipts.c.account_id == account_id, read_receipts.c.number == number,
                    read_receipts.c.line.in_(lines))
             .order_by(read_receipts.c.id).limit(_RECEIPTS))
    if since is not None:
        query = query.where(read_receipts.c.sent_at >= since)
    if until is not None:
        query = query.where(read_receipts.c.sent_at < until)
    return [(line, at) for line, at in conn.execute(query)]


def _last_writer_lines(conn: Connection, account_id: int, number: str,
                       lines: set[str]) -> set[str]:
    """Of `lines`, those on which `account_id` wrote to `number` last of all accounts."""
    found = set()
    for line in lines:
        last = conn.execute(
            select(messages.c.account_id)
            .where(messages.c.number == number, messages.c.line == line,
                   messages.c.is_outbound.is_(True))
            .order_by(messages.c.id.desc()).limit(1)).scalar()
        if last == account_id:
            found.add(line)
    return found


def _last_line(conn: Connection, account_id: int, number: str, lines: list[str]) -> str | None:
    """Which of `lines` the last message between `number` and `account_id` went through."""
    return conn.execute(
        select(messages.c.line)
        .where(messages.c.account_id == account_id, messages.c.number == number,
               messages.c.line.in_(lines))
        .order_by(messages.c.id.desc()).limit(1)
    ).scalar()


def _inbound_handles(conn: Connection, account_id: int, first: str, parts: int) -> list[str]:
    """The inbound messages of `account_id` that one phone message was recorded as: its first
    part, stored as `first`, and the parts after it, written with it (empty when it reached no
    message of the account). By handle, not by time: a reply the phone's network made in the
    same millisecond (an echo, a STOP) is another message."""
    head = conn.execute(select(messages.c.id, messages.c.number, messages.c.line,
                               messages.c.created_at)
                        .where(messages.c.handle == first,
                               messages.c.account_id == account_id)).first()
    if head is None:
        return []
    return list(conn.execute(
        select(messages.c.handle)
        .where(messages.c.account_id == account_id, messages.c.number == head.number,
               messages.c.line == head.line, messages.c.is_outbound.is_(False),
               messages.c.created_at == head.created_at, messages.c.id >= head.id)
        .order_by(messages.c.id).limit(parts)
    ).scalars())


def _received_json(message: PhoneReceived) -> dict[str, Any]:
    return {"message_handle": message.handle, "line": message.line, "content": message.content,
            "media_url": message.media_url, "status": message.status,
            "received_at": iso(message.received_at), "read_at": iso(message.read_at),
            "group_id": message.group_id, "reply_to": message.reply_to}


def _sent_row_json(message: PhoneSentRow, read_at: int | None) -> dict[str, Any]:
    return {"line": message.line, "content": message.content,
            "media_urls": [message.media_url] if message.media_url else [],
            "service": message.service or "iMessage", "sent_at": iso(message.at_ms),
            "read_at": iso(read_at), "group_id": message.group_id,
            "reply_to": message.reply_to}


def _first_after(times: list[int], at_ms: int) -> int | None:
    """The first of `times` (sorted) at or after `at_ms`."""
    index = bisect.bisect_left(times, at_ms)
    return times[index] if index < len(times) else None


def _ms(when: datetime | None) -> int | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _sent_json(message: PhoneSent) -> dict[str, Any]:
    return {"line": message.line, "content": message.content,
            "media_urls": list(message.media_urls), "service": message.service.value,
            "sent_at": iso(message.at_ms), "read_at": iso(message.read_at_ms),
            "group_id": message.group_id, "reply_to": message.reply_to}


def _typing_json(state: TypingSeen) -> dict[str, Any]:
    return {"line": state.line, "is_typing": state.is_typing, "updated_at": iso(state.at_ms)}
