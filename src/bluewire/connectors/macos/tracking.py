"""From chat.db rows to connector events: which of our sends a row is, what status it shows,
and what an incoming row says."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ...domain.errors import ErrorCode
from ...domain.statuses import RANK, Service, Status
from ..protocol import Inbound, Reaction, StatusUpdate
from .chatdb import ATTACHMENT_CHARACTER, MessageRow, apple_to_unix_ms, now_ms
from .ledger import SentRecord

MATCH_SLACK_MS = 2000  # the row's date may be a little before we noted the send
# Apple's tapbacks: 2000-2005 put one on, 3000-3005 take it off (2006 and up, custom emoji
# and stickers, have no name here and are not reported).
TAPBACK_NAMES = ("love", "like", "dislike", "laugh", "emphasize", "question")
# A tapback's `associated_message_guid`: `p:<part>/<guid>`, `bp:<guid>` or the bare guid.
_TARGET = re.compile(r"^(?:p:(?P<part>\d+)/|bp:)?(?P<guid>[^/]+)$")


@dataclass(frozen=True, slots=True)
class Tapback:
    """What a tapback row says: which message (its chat.db guid and part) and what."""

    guid: str
    part_index: int
    reaction: str
    removed: bool


def service_of(value: str | None) -> Service | None:
    try:
        return Service(value) if value else None
    except ValueError:
        return None


def match_send(record: SentRecord, rows: Iterable[MessageRow], claimed: set[str],
               window_ms: int | None) -> MessageRow | None:
    """The row `record`'s send made: same chat (the caller's query), same text (or an
    attachment, for a file), dated from the send to `window_ms` after it (None: no end)."""
    for row in rows:
        if row.guid in claimed or row.rowid <= record.after_rowid:
            continue
        at = apple_to_unix_ms(row.date) or 0
        if at < record.sent_at_ms - MATCH_SLACK_MS:
            continue
        if window_ms is not None and at > record.sent_at_ms + window_ms:
            continue
        if (row.has_attachments if record.text is None else row.text == record.text):
            return row
    return None


def statuses_reached(row: MessageRow) -> list[Status]:
    """The statuses the row shows, in order; ERROR alone when Messages records a failure
    before delivery. Read receipts exist for 1:1 chats only."""
    delivered = row.is_delivered or row.date_delivered is not None
    if row.error and not delivered:
        return [Status.ERROR]
    reached = []
    if row.is_sent or delivered or row.date_read:
        reached.append(Status.SENT)
    if delivered:
        reached.append(Status.DELIVERED)
    if row.date_read and not row.is_group:
        reached.append(Status.READ)
    return reached


def new_statuses(row: MessageRow, last: str | None) -> list[Status]:
    """What `row` shows beyond `last`, the status last reported."""
    reached = statuses_reached(row)
    if last is None:
        return reached
    current = Status(last)
    if current is Status.ERROR:
        return []
    if reached == [Status.ERROR]:
        return [Status.ERROR] if RANK[current] < RANK[Status.DELIVERED] else []
    return [s for s in reached if RANK[s] > RANK[current]]


def is_settled(row: MessageRow, last: str | None) -> bool:
    """Whether nothing more can come of the row: no need to keep re-reading it."""
    if last in (Status.ERROR, Status.READ):
        return True
    if last == Status.SENT and row.service == Service.SMS:
        return True
    return last == Status.DELIVERED and row.is_group


def status_update(handle: str, row: MessageRow, status: Status) -> StatusUpdate:
    at_by_status = {Status.SENT: row.date, Status.DELIVERED: row.date_delivered,
                    Status.READ: row.date_read}
    at = apple_to_unix_ms(at_by_status.get(status)) or now_ms()
    error = status is Status.ERROR
    return StatusUpdate(
        handle=handle, status=status, at_ms=at, service=service_of(row.service),
        was_downgraded=row.was_downgraded,
        error_code=ErrorCode.SEND_FAILED if error else None,
        error_message=f"Messages.app could not send the message (error {row.error})"
        if error else None)


def tapback_of(row: MessageRow) -> Tapback | None:
    """The tapback a row is, or None (not a tapback, or one without a name or a target)."""
    kind = row.associated_message_type
    base, removed = (2000, False) if kind < 3000 else (3000, True)
    if not 0 <= kind - base < len(TAPBACK_NAMES) or not row.associated_message_guid:
        return None
    found = _TARGET.match(row.associated_message_guid)
    if found is None:
        return None
    return Tapback(guid=found["guid"], part_index=int(found["part"] or 0),
                   reaction=TAPBACK_NAMES[kind - base], removed=removed)


def reaction_of(row: MessageRow, tapback: Tapback, line: str, message_handle: str) -> Reaction:
    """The Reaction a phone's tapback row is, on the message whose handle is `message_handle`."""
    return Reaction(
        line=line, number=row.sender or "", message_handle=message_handle,
        reaction=tapback.reaction, at_ms=apple_to_unix_ms(row.date) or now_ms(),
        removed=tapback.removed, part_index=tapback.part_index,
        group_id=row.chat_guid if row.is_group else None)


def inbound_of(row: MessageRow, line: str, attachment_paths: Iterable[str],
               reply_to: str | None = None) -> Inbound | None:
    """The Inbound an incoming row is, or None for what is not a message to forward (our own
    rows, tapbacks, group events, rows without a sender or any content). `reply_to`: the handle
    of the message it answers inline (its `thread_originator_guid`), when known."""
    if row.is_from_me or row.is_tapback or row.item_type != 0 or not row.sender:
        return None
    text = (row.text or "").replace(ATTACHMENT_CHARACTER, "") or None
    media = tuple(Path(p).expanduser().as_uri() for p in attachment_paths)
    if text is None and not media:
        return None
    return Inbound(
        line=line, number=row.sender, content=text,
        at_ms=apple_to_unix_ms(row.date) or now_ms(),
        service=service_of(row.service) or Service.IMESSAGE, media_urls=media,
        group_id=row.chat_guid if row.is_group else None, reply_to=reply_to)
