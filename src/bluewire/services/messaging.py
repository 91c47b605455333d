"""Sending a message, and reading messages back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from ..domain import limits
from ..domain.errors import ApiError, ErrorCode, not_found, validation_error
from ..domain.handles import new_handle
from ..domain.idempotency import IdempotencyKey, KeptBefore, StoredAnswer
from ..domain.messages import MessageRecord
from ..domain.payloads import event_message_data, message_response, message_row
from ..domain.phones import require_number
from ..domain.query import parse_moment
from ..domain.statuses import Status
from ..domain.wire.messages import ListMessagesQuery, SendMessage, StatusQuery
from ..media.service import MediaService
from ..store import groups as group_store
from ..store import messages as store
from ..store.accounts import Account, Line
from ..store.database import Database, now_ms
from ..store.messages import MessageFilter
from ..store.notifications import MESSAGES
from ..store.writer import Tx, Writer
from .contact_book import ContactBook
from .follow_ups import given_with_send
from .idempotency import take
from .inline_replies import answered
from .lines import ConnectorRegistry, LineDirectory
from .new_contacts import NewContacts
from .outbox import Outbox
from .webhook_targets import WebhookTargets

if TYPE_CHECKING:
    from .follow_ups import FollowUpService, FollowUpSpec

_ORDER_BY = {
    "createdAt": "created_at", "created_at": "created_at",
    "updatedAt": "updated_at", "updated_at": "updated_at",
    "sentAt": "sent_at", "sent_at": "sent_at",
}


class MessagingService:
    def __init__(self, database: Database, writer: Writer, lines: LineDirectory,
                 outbox: Outbox, contacts: ContactBook,
                 targets: WebhookTargets, media: MediaService | None = None,
                 new_contacts: NewContacts | None = None, *,
                 registry: ConnectorRegistry) -> None:
        self._targets = targets
        self._registry = registry
        self._new_contacts = new_contacts
        self._database = database
        self._writer = writer
        self._lines = lines
        self._outbox = outbox
        self._contacts = contacts
        self._media = media
        self.follow_ups: FollowUpService | None = None  # set by the gateway

    async def send(self, account: Account, body: SendMessage,
                   key: IdempotencyKey | None = None) -> dict[str, Any]:
        """Validate, accept and commit one outbound message; it is QUEUED when this returns.
        With `key`, the key is kept in the same transaction; if it was kept already, nothing is
        written and `KeptBefore` is raised (services/idempotency.py)."""
        number = require_number(body.number, "number")
        content = limits.check_content(body.content)
        media_url = self._precheck_media(body.media_url)
        if not content and not media_url:
            raise validation_error("`content` or `media_url` is required")
        send_style = limits.check_send_style(body.send_style)
        campaign, tags = limits.check_campaign(body.campaign), limits.check_tags(body.tags)
        status_callback = limits.check_status_callback(body.status_callback)
        if status_callback is not None:
            await self._targets.check(status_callback, "status_callback")
        line = self._sending_line(account, body.from_number)
        if line.number == number:
            raise validation_error("`number` is the sending line itself")
        if await self._contacts.is_opted_out_now(account.id, number):
            raise ApiError(400, f"{number} has opted out of this account's messages (they sent "
                           "STOP); they opt back in by sending START",
                           error_code=ErrorCode.BLACKLISTED, error_key="OPTED_OUT")
        reply_to, reply_part = await answered(self._database, self._registry, account, line,
                                              body.reply_to, number=number)
        if media_url and self._media is not None:  # fetched and stored now (5 MB, SSRF guard)
            media_url = await self._media.outbound_url(account.id, media_url)
        specs = await given_with_send(self.follow_ups, account, body.follow_ups)
        self._lines.require_send_slot(line)
        now = now_ms()
        message = MessageRecord(
            id=None, handle=new_handle(), account_id=account.id, is_outbound=True,
            line=line.number, number=number, content=content, media_url=media_url,
            send_style=send_style, status_callback=status_callback, message_type="message",
            status=Status.QUEUED, service=None, was_downgraded=None, error_code=None,
            error_message=None, created_at=now, updated_at=now, claimed_until=0,
            campaign=campaign, tags=tags, reply_to=reply_to, reply_to_part=reply_part,
        )
        answer = message_response(message, account.email, account.plan)
        kept = await self._writer.submit(lambda tx: self._accept(tx, account, line, message,
                                                                 key, answer, specs))
        if kept is not None:
            raise KeptBefore(kept)
        return answer

    def _accept(self, tx: Tx, account: Account, line: Line, message: MessageRecord,
                key: IdempotencyKey | None = None,
                answer: dict[str, Any] | None = None,
                specs: Sequence[FollowUpSpec] = ()) -> StoredAnswer | None:
        if key is not None and answer is not None:
            kept = take(tx, account.id, key, message.handle, answer, message.created_at)
            if kept is not None:
                return kept
        if self._new_contacts is not None:  # before anything is written: it may refuse
            self._new_contacts.admit(tx, account.id, line, message.number, message.created_at)
        self._contacts.ensure(tx, account.id, message.number, message.line)
        store.add_message(tx, message)
        self._outbox.emit(tx, account.id, "message.created", message.created_at,
                          event_message_data(message, account.email, account.plan),
                          message_handle=message.handle, line=message.line,
                          status_callback=message.status_callback)
        if specs and self.follow_ups is not None:
            self.follow_ups.schedule_in(tx, account.id, message, list(specs))
        tx.notify(MESSAGES)
        return None

    def _precheck_media(self, raw: object) -> str | None:
        return self._media.precheck(raw) if self._media else limits.check_media_url(raw)

    def _sending_line(self, account: Account, from_number: object) -> Line:
        if from_number is None or from_number == "":
            numbers = self._lines.numbers_of(account.id)
            only = self._lines.line(numbers[0]) if len(numbers) == 1 else None
            if only is not None:
                return only
            raise validation_error("`from_number` is required: the line to send from "
                                   f"(this account's lines: {', '.join(numbers) or 'none'})")
        number = require_number(from_number, "from_number", recipient=False)
        line = self._lines.usable_by(account.id, number)
        if line is None:
            raise validation_error(f"`from_number` {number} is not a line of this account",
                                   error_key="LINE_NOT_FOUND")
        return line

    async def status(self, account: Account, query: StatusQuery) -> dict[str, Any]:
        message = await self._own_message(account, query.handle, "handle")
        opted_out = await self._contacts.is_opted_out_now(account.id, message.number)
        return message_response(message, account.email, account.plan, opted_out)

    async def retrieve(self, account: Account, handle: str) -> dict[str, Any]:
        message = await self._own_message(account, handle, "message_id")
        opted_out = await self._contacts.is_opted_out_now(account.id, message.number)
        group_id = message.group_id
        names = {} if group_id is None else await self._database.read_async(
            lambda conn: group_store.names_of(conn, [group_id]))
        return {"status": "OK",
                "data": message_row(message, account.email, account.plan, opted_out,
                                    group_name=names.get(group_id or ""))}

    async def _own_message(self, account: Account, handle: object, field: str) -> MessageRecord:
        if not isinstance(handle, str) or not handle.strip():
            raise validation_error(f"`{field}` is required: the message handle")
        wanted = handle.strip()
        message = await self._database.read_async(
            lambda conn: store.message_by_handle(conn, wanted))
        if message is None or message.account_id != account.id:
            raise not_found(f"No message with handle {handle.strip()}")
        return message

    async def list(self, account: Account, query: ListMessagesQuery) -> dict[str, Any]:
        flt, order_by, descending, limit, offset = _parse_list_query(account.id, query)
        def read(conn: Connection) -> tuple[list[MessageRecord], int, dict[str, str]]:
            found, total = store.list_messages(conn, flt, order_by=order_by,
                                               descending=descending, limit=limit,
                                               offset=offset)
            # The page's groups' names in one query, only when it has group messages.
            return found, total, group_store.names_of(
                conn, (m.group_id for m in found if m.group_id is not None))
        found, total, names = await self._database.read_async(read)
        opted_out = await self._contacts.opted_out_among(account.id, {m.number for m in found})
        return {
            "status": "OK",
            "data": [message_row(m, account.email, account.plan, m.number in opted_out,
                                 group_name=names.get(m.group_id) if m.group_id else None)
                     for m in found],
            "pagination": {"total": total, "limit": limit, "offset": offset,
                           "hasMore": offset + len(found) < total},
        }


def _parse_list_query(account_id: int, q: ListMessagesQuery):  # type: ignore[no-untyped-def]
    def number(value: str | None, name: str) -> str | None:
        return require_number(value, name, recipient=False) if value else None

    status = q.status or None
    flt = MessageFilter(
        account_id=account_id,
        number=number(q.number, "number"),
        from_number=number(q.from_number, "from_number"),
        to_number=number(q.to_number, "to_number"),
        line=number(q.sendblue_number, "sendblue_number"),
        is_outbound=None if not q.is_outbound else q.is_outbound == "true",
        status="DELIVERED" if status == "SUCCESS" else status,
        service=q.service or None,
        message_type=q.message_type or None,
        campaign=q.campaign or None,
        tag=q.tag or None,
        created_gte=parse_moment(q.created_at_gte, "created_at_gte"),
        created_lte=parse_moment(q.created_at_lte, "created_at_lte"),
        updated_gte=parse_moment(q.updated_at_gte, "updated_at_gte"),
        updated_lte=parse_moment(q.updated_at_lte, "updated_at_lte"),
        sent_gte=parse_moment(q.sent_at_gte, "sent_at_gte"),
        sent_lte=parse_moment(q.sent_at_lte, "sent_at_lte"),
    )
    if q.order_by and q.order_by not in _ORDER_BY:
        raise validation_error(f"`order_by` must be one of: {', '.join(sorted(_ORDER_BY))}")
    order_by = _ORDER_BY[q.order_by] if q.order_by else "created_at"
    return flt, order_by, q.order_direction != "asc", q.limit, q.offset
