"""MessagesAppConnector: one line served by the Messages.app of the Mac it runs on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from ...domain.errors import ErrorCode
from ...domain.statuses import Service, Status
from ..protocol import (
    Capabilities,
    EventSink,
    OutboundMessage,
    SendFailed,
    StatusUpdate,
)
from . import applescript, media
from .chatdb import ChatDb, MessageRow, now_ms
from .ledger import Ledger, SentRecord
from .tracking import (
    inbound_of,
    is_settled,
    match_send,
    new_statuses,
    reaction_of,
    status_update,
    tapback_of,
)
from .watch import FileWatcher

log = logging.getLogger(__name__)

FOLLOW_FOR = timedelta(days=7)
_PRUNE_EVERY_S = 6 * 3600
# Messages writes an incoming row before its attachment rows, and the file after both (once
# downloaded): a row that says it has attachments waits this long for them to be there.
ATTACHMENT_WAIT_MS = 30_000


class CapabilityMissing(SendFailed):
    """What plain AppleScript cannot do (read receipts, typing): BlueBubbles' Private API can."""

    def __init__(self, what: str) -> None:
        super().__init__(ErrorCode.SEND_FAILED,
                         f"This line's Messages.app connector cannot {what}: AppleScript has no "
                         "way to; serve the line with the BlueBubbles connector and its Private "
                         "API for that")


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a send goes: a chat id, or (no chat yet) a participant address."""

    chat_guid: str | None
    address: str | None

    @property
    def arg(self) -> str:
        return self.chat_guid or self.address or ""


class MessagesAppConnector:
    # AppleScript cannot send read receipts, typing, tapbacks or inline replies: a line served
    # this way is refused them (a 400 naming the capability). It reads a phone's tapbacks and
    # inline replies from chat.db all the same.
    capabilities = Capabilities(
        services=frozenset({Service.IMESSAGE, Service.SMS}), groups=True, media=True,
        mark_read=False, typing=False, lookup=True, replies=False, reactions=False)

    def __init__(self, chat_db: Path, line: str, *, state_path: Path | None = None,
                 since_rowid: int | None = None, poll_interval: float = 0.5,
                 send_timeout_s: float = applescript.DEFAULT_TIMEOUT_S,
                 match_timeout_s: float = 60.0, media_dir: Path | None = None,
                 max_media_bytes: int = media.DEFAULT_MAX_BYTES,
                 attachment_wait_ms: int = ATTACHMENT_WAIT_MS) -> None:
        self.line = line
        self._db = ChatDb(chat_db)
        self._ledger = Ledger.load(state_path)
        self._since_rowid = since_rowid
        self._poll_interval = poll_interval
        self._send_timeout_s = send_timeout_s
        self._match_window_ms = int(match_timeout_s * 1000)
        # Messages.app (sandboxed) reliably reads files under its own Attachments folder.
        self._media_dir = media_dir or chat_db.parent / "Attachments" / "bluewire"
        self._max_media_bytes = max_media_bytes
        self._watcher = FileWatcher([chat_db, *(chat_db.with_name(chat_db.name + s)
                                                for s in ("-wal", "-shm"))])
        self._sink: EventSink | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._last_rowid = 0
        self._attachment_wait_ms = attachment_wait_ms
        self._attachments_awaited: dict[int, int] = {}  # row id: since when (ms)
        self._running = False
        self._save_lock = asyncio.Lock()

    @property
    def last_rowid(self) -> int:
        """The newest chat.db row seen: pass it back as `since_rowid` to resume from there."""
        return self._last_rowid

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._running = True
        start = self._since_rowid if self._since_rowid is not None else self._ledger.last_rowid
        self._last_rowid = start if start is not None else await asyncio.to_thread(
            self._db.max_rowid)
        self._tasks = [asyncio.create_task(self._poll_forever()),
                       asyncio.create_task(self._watcher.run(self._poll_interval / 5)),
                       asyncio.create_task(self._prune_media_forever())]

    async def stop(self) -> None:
        self._running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._save()

    # sending

    async def send(self, message: OutboundMessage) -> None:
        if not message.content and not message.media_url:
            raise SendFailed(ErrorCode.SEND_FAILED, "nothing to send: no content or media_url")
        try:
            target, after_rowid = await asyncio.to_thread(self._prepare, message)
        except sqlite3.Error as exc:
            raise SendFailed(ErrorCode.SEND_FAILED, f"cannot read {self._db.path} ({exc}): "
                             "does this process have Full Disk Access?") from exc
        record = SentRecord(
            handle=message.handle, number=None if message.group_id else message.number,
            chat_guid=message.group_id, text=message.content or None,
            after_rowid=after_rowid, sent_at_ms=now_ms())
        self._ledger.records[message.handle] = record
        await self._save()  # before Messages has it: resolve must know of it after a crash
        try:
            await self._hand_over(message, target)
        except SendFailed:
            record.last_status = Status.ERROR
            await self._save()
            raise
        self._watcher.wake.set()

    def _prepare(self, message: OutboundMessage) -> tuple[_Target, int]:
        """Where the message goes, and the newest row before it (its row will be newer)."""
        return self._target(message), self._db.max_rowid()

    def _target(self, message: OutboundMessage) -> _Target:
        if message.group_id:
            if not self._db.chat_exists(message.group_id):
                raise SendFailed(ErrorCode.SEND_FAILED,
                                 f"Messages has no group chat {message.group_id}")
            return _Target(message.group_id, None)
        # After an upgrade to macOS 26 old `iMessage;-;` chats live on beside new `any;-;` ones.
        prefixes = ("any", "iMessage") if self._db.chat_guid_prefix() == "any" else ("iMessage",)
        for prefix in prefixes:
            guid = f"{prefix};-;{message.number}"
            if self._db.chat_exists(guid):
                return _Target(guid, None)
        sms_guid = f"SMS;-;{message.number}"
        if self._db.handle_services(message.number) == {"SMS"} and self._db.chat_exists(sms_guid):
            return _Target(sms_guid, None)
        return _Target(None, message.number)

    async def _hand_over(self, message: OutboundMessage, target: _Target) -> None:
        if message.media_url:
            path = await media.download(message.media_url, self._media_dir, self._max_media_bytes)
            script = (applescript.SEND_FILE_TO_CHAT if target.chat_guid
                      else applescript.SEND_FILE_TO_PARTICIPANT)
            await applescript.run_script(script, [target.arg, str(path)], self._send_timeout_s)
        if message.content:
            script = (applescript.SEND_TEXT_TO_CHAT if target.chat_guid
                      else applescript.SEND_TEXT_TO_PARTICIPANT)
            await applescript.run_script(script, [target.arg, message.content],
                                         self._send_timeout_s)

    # what AppleScript cannot do

    async def mark_read(self, line: str, number: str) -> None:
        raise CapabilityMissing("send read receipts")

    async def set_typing(self, line: str, number: str, typing: bool) -> None:
        raise CapabilityMissing("send typing indicators")

    # lookups

    async def evaluate_service(self, line: str, number: str) -> Service | None:
        services = await asyncio.to_thread(self._db.handle_services, number)
        if Service.IMESSAGE in services:
            return Service.IMESSAGE
        if Service.SMS in services:
            return Service.SMS
        return Service.RCS if Service.RCS in services else None

    async def group_participants(self, group_id: str) -> tuple[str, ...]:
        """The numbers in a group chat (Inbound carries only its group_id)."""
        return await asyncio.to_thread(self._db.chat_participants, group_id)

    async def resolve(self, handle: str) -> StatusUpdate | None:
        record = self._ledger.records.get(handle)
        if record is None:
            return None
        if record.guid is None:
            row = await self._match(record, window_ms=None)
            if row is None:
                return None
            record.guid = row.guid
            await self._save()
        rows = await asyncio.to_thread(self._db.messages_by_guid, [record.guid])
        row = rows.get(record.guid)
        reached = new_statuses(row, None) if row else []
        return status_update(handle, row, reached[-1]) if row and reached else None

    async def _prune_media_forever(self) -> None:
        """Downloaded media_url files are kept as long as sends are followed, then removed."""
        while True:
            removed = await asyncio.to_thread(media.prune, self._media_dir,
                                              FOLLOW_FOR.total_seconds())
            if removed:
                log.info("removed %d downloaded media files older than %s", removed, FOLLOW_FOR)
            await asyncio.sleep(_PRUNE_EVERY_S)

    # watching

    async def _poll_forever(self) -> None:
        failure: str | None = None
        while self._running:
            self._watcher.wake.clear()
            try:
                await self._poll()
                failure = None
            except Exception as exc:  # chat.db busy or unreadable: the next poll tries again
                if repr(exc) != failure:  # once per new failure, not twice a second
                    log.exception("reading %s failed", self._db.path)
                failure = repr(exc)
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_interval):
                    await self._watcher.wake.wait()

    async def _poll(self) -> None:
        await self._read_new_rows()
        await self._match_sends()
        await self._follow_sends()

    async def _read_new_rows(self) -> None:
        rows = await asyncio.to_thread(self._db.messages_since, self._last_rowid)
        seen: set[int] = set()
        for row in rows:
            if row.rowid in seen:  # a message in two chats comes once per chat
                continue
            seen.add(row.rowid)
            if not await self._forward(row):
                break  # read again from this row on the next poll, so the order is kept
            self._last_rowid = row.rowid
        if rows:
            self._ledger.last_rowid = self._last_rowid
            await self._save()

    async def _forward(self, row: MessageRow) -> bool:
        """Report an incoming row; False if it waits for its attachments to be written."""
        if row.is_from_me:
            return True
        if row.is_tapback:
            await self._tapback(row)
            return True
        paths = (await asyncio.to_thread(self._db.attachment_paths, row.rowid)
                 if row.has_attachments else [])
        if row.has_attachments and not await asyncio.to_thread(_all_there, paths):
            since = self._attachments_awaited.setdefault(row.rowid, now_ms())
            if now_ms() - since < self._attachment_wait_ms:
                return False
            log.warning("message %s: its attachments were not written within %d ms; reported "
                        "with those that were", row.guid, self._attachment_wait_ms)
            paths = await asyncio.to_thread(_existing, paths)
        self._attachments_awaited.pop(row.rowid, None)
        reply_to = (await self._handle_of(row.thread_originator_guid)
                    if row.thread_originator_guid else None)
        inbound = inbound_of(row, self.line, paths, reply_to)
        if inbound is not None and inbound.group_id is not None:
            members = await self.group_participants(inbound.group_id)
            inbound = replace(inbound, participants=tuple(n for n in members if n != self.line))
        if inbound is not None and self._sink is not None:
            # Its chat.db guid is its handle: a tapback or an inline reply to it names it, and
            # a row read twice is recorded once.
            self._sink.inbound(inbound, handle=row.guid)
        return True

    async def _tapback(self, row: MessageRow) -> None:
        """A phone's tapback: a Reaction on the message it names, never a text message."""
        tapback = tapback_of(row)
        if tapback is None or not row.sender:
            log.debug("tapback %s (type %d on %s) not reported: not one with a name",
                      row.guid, row.associated_message_type, row.associated_message_guid)
            return
        handle = await self._handle_of(tapback.guid)
        if handle is None:
            log.debug("tapback %s not reported: it is on %s, neither one of our sends nor a "
                      "message of the phone", row.guid, tapback.guid)
            return
        if self._sink is not None:
            self._sink.reaction(reaction_of(row, tapback, self.line, handle), handle=row.guid)

    async def _handle_of(self, guid: str) -> str | None:
        """The handle of the chat.db message `guid`: one of our sends', or a phone's message's
        own guid (reported as its handle); None for a message sent from the Mac itself, one
        whose send is no longer in the ledger, or one not in chat.db."""
        handle = self._ledger.handle_of(guid)
        if handle is not None:
            return handle
        row = (await asyncio.to_thread(self._db.messages_by_guid, [guid])).get(guid)
        if row is None:
            return None
        if not row.is_from_me:
            return guid
        await self._match_sends()  # one of ours whose row is not matched yet
        return self._ledger.handle_of(guid)

    async def _match_sends(self) -> None:
        now = now_ms()
        unmatched = [r for r in self._ledger.records.values()
                     if r.guid is None and r.last_status is None
                     and now - r.sent_at_ms <= self._match_window_ms]
        for record in unmatched:
            row = await self._match(record, self._match_window_ms)
            if row is not None:
                record.guid = row.guid
        if any(r.guid for r in unmatched):
            await self._save()

    async def _match(self, record: SentRecord, window_ms: int | None) -> MessageRow | None:
        rows = await asyncio.to_thread(self._db.outgoing_after, record.after_rowid,
                                       record.chat_guid, record.number)
        return match_send(record, rows, self._ledger.claimed_guids(), window_ms)

    async def _follow_sends(self) -> None:
        following = {r.guid: r for r in self._ledger.records.values()
                     if r.guid and not r.settled and r.last_status != Status.ERROR}
        if not following:
            return
        since = await asyncio.to_thread(
            self._db.apple_date, now_ms() - int(FOLLOW_FOR.total_seconds() * 1000))
        rows = await asyncio.to_thread(self._db.recent_outgoing, since, list(following))
        changed = False
        for row in rows:
            record = following[row.guid]
            for status in new_statuses(row, record.last_status):
                self._report(status_update(record.handle, row, status))
                record.last_status = status
                changed = True
            if is_settled(row, record.last_status):
                record.settled = changed = True
        if changed:
            await self._save()

    def _report(self, update: StatusUpdate) -> None:
        if self._sink is not None:
            self._sink.status(update)

    async def _save(self) -> None:
        snapshot = self._ledger.dump(now_ms())
        async with self._save_lock:  # saves queue here, not in the thread pool
            await asyncio.to_thread(self._ledger.write, snapshot)


def _existing(paths: list[str]) -> list[str]:
    return [path for path in paths if Path(path).expanduser().is_file()]


def _all_there(paths: list[str]) -> bool:
    """Whether the attachment rows are written and every file is on disk."""
    return bool(paths) and len(_existing(paths)) == len(paths)
