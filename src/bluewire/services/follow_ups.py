"""Follow-ups: a durable, conditional action on an outbound message.

A follow-up is written in a transaction (`follow_up.scheduled`), due `after` from when its parent
was sent (from when it was created while it is not yet sent). When due, the worker
(followups/worker.py) claims it with a lease and, in one writer transaction, judges its
condition from the parent's state and commits the outcome once: fired (a `send` action's
message QUEUED in the same transaction, `follow_up.fired`; a `notify` action's
`follow_up.due`) or skipped with a reason (`follow_up.skipped`). The outcome's UPDATE only
moves a row that is still `scheduled`, and the message is written only if it did: a follow-up
claimed again after a crash, or by two processes, fires once.

A condition that can no longer hold ends the follow-up early, in the transaction that records
the fact (`FollowUpEndings`, called by NetworkReports): a READ ends `not_read` and
`not_delivered`, a DELIVERED `not_delivered`, a reply `not_replied` (condition_false), an
ERROR `read` and `delivered` (parent_failed), and a STOP cancels the contact's follow-ups
(opted_out). These are only early: the judgement at due time reaches the same outcome.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from ..domain import limits
from ..domain.errors import ApiError, not_found, validation_error
from ..domain.follow_ups import (
    CANCELLED_BY_CLIENT,
    CONDITION_FALSE,
    LINE_UNAVAILABLE,
    MAX_NOTIFY_BYTES,
    OPTED_OUT,
    PARENT_FAILED,
    after_ms,
    anchor_of,
    follow_up_data,
    judge,
    needs_reply_check,
    new_follow_up_id,
    was_delivered,
    was_read,
)
from ..domain.handles import new_handle
from ..domain.messages import MessageRecord
from ..domain.payloads import event_message_data
from ..domain.statuses import Status
from ..domain.wire.follow_ups import MAX_CHAIN, MAX_INLINE, FollowUpQuery, NewFollowUp
from ..media.service import MediaService
from ..store import follow_ups as store
from ..store import groups as group_store
from ..store import messages as message_store
from ..store.accounts import Account
from ..store.database import Database, now_ms
from ..store.follow_ups import CANCELLED, FIRED, SCHEDULED, SKIPPED, FollowUp
from ..store.notifications import MESSAGES
from ..store.writer import Tx, Writer
from .contact_book import ContactBook
from .lines import LineDirectory
from .outbox import Outbox

log = logging.getLogger(__name__)

_EVENT_OF = {FIRED: "follow_up.fired", SKIPPED: "follow_up.skipped",
             CANCELLED: "follow_up.cancelled", SCHEDULED: "follow_up.scheduled"}
_KNOWN_FOR_S = 2.0  # how long an account's "has scheduled follow-ups" is trusted
# A parent sent later than the follow-up was scheduled for: due again this much later at least.
_NOT_BEFORE_MS = 50


@dataclass(frozen=True, slots=True)
class FollowUpSpec:
    """A checked request for a follow-up: what `schedule_in` writes."""

    condition: str
    after_ms: int
    action: dict[str, Any]


class FollowUpService:
    def __init__(self, database: Database, writer: Writer, lines: LineDirectory,
                 outbox: Outbox, contacts: ContactBook,
                 media: MediaService | None = None) -> None:
        self._database = database
        self._writer = writer
        self._lines = lines
        self._outbox = outbox
        self._contacts = contacts
        self._media = media
        self.endings = FollowUpEndings(outbox)
        self.on_scheduled: list[Any] = []  # called with the due time (ms) of each new one

    # --- the API ---------------------------------------------------------------------------

    async def create(self, account: Account, body: NewFollowUp) -> dict[str, Any]:
        spec = await self.check(account, body.condition, body.after, body.action)
        handle = body.message_handle.strip() if isinstance(body.message_handle, str) else ""
        if not handle:
            raise validation_error("`message_handle` is required: the message to follow up")

        parent = await self._database.read_async(
            lambda conn: message_store.message_by_handle(conn, handle))
        if parent is None or parent.account_id != account.id or not parent.is_outbound:
            raise not_found(f"No outbound message with handle {handle}")

        def op(tx: Tx) -> FollowUp:
            # the parent as it is now (its status may have moved since it was read)
            current = message_store.message_by_handle(tx, handle) or parent
            return self.schedule_in(tx, account.id, current, [spec])[0]

        row = await self._writer.submit(op)
        return {"status": "OK", "data": follow_up_data(row)}

    async def check_all(self, account: Account, given: list[Any] | None,
                        field: str = "follow_ups", depth: int = 1) -> list[FollowUpSpec]:
        """Follow-ups given with a message (send-message's `follow_ups`, or a `send` action's
        own, for a sequence), each checked as `check` does."""
        if not given:
            return []
        if len(given) > MAX_INLINE:
            raise validation_error(f"`{field}` holds at most {MAX_INLINE} follow-ups")
        if depth > MAX_CHAIN:
            raise validation_error(f"`{field}`: sequences of follow-ups nest at most "
                                   f"{MAX_CHAIN} deep")
        return [await self.check(account, item.condition, item.after, item.action,
                                 field=f"{field}[{index}]", depth=depth)
                for index, item in enumerate(given)]

    async def check(self, account: Account, condition: str, after: object,
                    action: Any, *, field: str = "", depth: int = 1) -> FollowUpSpec:
        """A follow-up's request checked field by field (a 400 names the field); a `send`
        action's media is fetched and stored now, as a send's is, and its own follow-ups
        (the rest of a sequence) are checked too."""
        ms = after_ms(after)
        send, notify = action.send, action.notify
        if (send is None) == (notify is None):
            raise validation_error("`action` must have exactly one of `send` and `notify`")
        if notify is not None:
            if len(json.dumps(notify)) > MAX_NOTIFY_BYTES:
                raise validation_error(f"`action.notify` must be at most {MAX_NOTIFY_BYTES} "
                                       "bytes of JSON")
            return FollowUpSpec(condition, ms, {"notify": notify})
        content = limits.check_content(send.content, "action.send.content")
        media_url = self._precheck_media(send.media_url)
        if not content and not media_url:
            raise validation_error("`action.send.content` or `action.send.media_url` is "
                                   "required")
        send_style = limits.check_send_style(send.send_style)
        if media_url and self._media is not None:
            media_url = await self._media.outbound_url(account.id, media_url)
        fields: dict[str, Any] = {"content": content, "media_url": media_url,
                                  "send_style": send_style}
        prefix = f"{field}." if field else ""
        chained = await self.check_all(account, send.follow_ups,
                                       f"{prefix}action.send.follow_ups", depth + 1)
        if chained:
            fields["follow_ups"] = [{"condition": c.condition, "after_ms": c.after_ms,
                                     "action": c.action} for c in chained]
        return FollowUpSpec(condition, ms, {"send": {k: v for k, v in fields.items()
                                                     if v is not None}})

    def _precheck_media(self, raw: object) -> str | None:
        try:
            return self._media.precheck(raw) if self._media else limits.check_media_url(raw)
        except ApiError as exc:
            if "media_url" in exc.message and "action.send.media_url" not in exc.message:
                exc.message = exc.message.replace("media_url", "action.send.media_url", 1)
            raise

    async def list(self, account: Account, query: FollowUpQuery) -> dict[str, Any]:
        message = query.message.strip() if query.message else None
        rows, total = await self._database.read_async(lambda conn: store.listed(
            conn, account.id, message_handle=message or None, state=query.state,
            limit=query.limit, offset=query.offset))
        return {"status": "OK", "data": [follow_up_data(row) for row in rows],
                "pagination": {"total": total, "limit": query.limit, "offset": query.offset,
                               "hasMore": query.offset + len(rows) < total}}

    async def retrieve(self, account: Account, public_id: str) -> dict[str, Any]:
        row = await self._database.read_async(
            lambda conn: store.by_public_id(conn, account.id, public_id))
        if row is None:
            raise not_found(f"No follow-up {public_id}")
        return {"status": "OK", "data": follow_up_data(row)}

    async def cancel(self, account: Account, public_id: str) -> dict[str, Any]:
        """Cancel a scheduled follow-up; a 409 once it has ended."""
        found = await self._database.read_async(
            lambda conn: store.by_public_id(conn, account.id, public_id))
        if found is None:
            raise not_found(f"No follow-up {public_id}")

        def op(tx: Tx) -> FollowUp | None:
            return self._end(tx, found, CANCELLED, CANCELLED_BY_CLIENT, now_ms())

        row = await self._writer.submit(op)
        if row is None:  # it had ended already: fired, skipped or cancelled
            current = await self._database.read_async(
                lambda conn: store.by_public_id(conn, account.id, public_id))
            state = current.state if current is not None else found.state
            raise ApiError(409, f"Follow-up {public_id} has already ended: {state}",
                           error_key="FOLLOW_UP_ENDED")
        return {"status": "OK", "data": follow_up_data(row)}

    # --- scheduling, inside a caller's transaction -----------------------------------------

    def schedule_in(self, tx: Tx, account_id: int, message: MessageRecord,
                    specs: list[FollowUpSpec]) -> list[FollowUp]:
        """Schedule follow-ups of `message` (outbound, of `account`) in the caller's
        transaction, e.g. the one that accepts the message: each is written with its
        `follow_up.scheduled` event, and one whose condition can no longer hold ends at once
        (skipped; cancelled, opted_out, if the contact has opted out)."""
        parent = message if message.id is not None else \
            message_store.message_by_handle(tx, message.handle)
        assert parent is not None and parent.id is not None
        now = now_ms()
        numbers = parent.participants if parent.group_id is not None else (parent.number,)
        opted_out = bool(store.opted_out_among(tx, account_id, numbers))
        rows: list[FollowUp] = []
        for spec in specs:
            public_id = new_follow_up_id()
            store.add(tx, {
                "public_id": public_id, "account_id": account_id, "message_id": parent.id,
                "message_handle": parent.handle, "line": parent.line, "number": parent.number,
                "group_id": parent.group_id, "condition": spec.condition,
                "after_ms": spec.after_ms, "due_at": anchor_of(parent) + spec.after_ms,
                "action": json.dumps(spec.action), "state": SCHEDULED, "reason": None,
                "claimed_until": None, "result_handle": None, "created_at": now,
                "updated_at": now,
            })
            row = store.by_public_id(tx, account_id, public_id)
            assert row is not None
            self.endings.emit(tx, row)
            reason = _already_ended(spec.condition, parent)
            state = SKIPPED
            if opted_out:
                state, reason = CANCELLED, OPTED_OUT
            if reason is not None:
                row = self._end(tx, row, state, reason, now) or row
            rows.append(row)
        scheduled = [row.due_at for row in rows if row.state == SCHEDULED]
        if scheduled:
            self.endings.scheduled(tx, account_id)
            due = min(scheduled)
            for listener in self.on_scheduled:
                tx.after_commit(lambda listener=listener: listener(due))
        return rows

    # --- the worker's judgement ------------------------------------------------------------

    def settle(self, tx: Tx, follow_up_id: int) -> FollowUp | None:
        """Judge a claimed follow-up and commit its outcome (in this transaction): fired,
        skipped, or due later (its parent was sent after it was scheduled). None if it had
        already ended (it is never ended twice)."""
        row = store.scheduled_for_update(tx, follow_up_id)
        if row is None:
            return None
        now = now_ms()
        parent = message_store.message_by_handle(tx, row.message_handle)
        if parent is None or parent.id is None:
            return self._end(tx, row, SKIPPED, PARENT_FAILED, now)
        due = anchor_of(parent) + row.after_ms
        if due > now + _NOT_BEFORE_MS:
            store.postpone(tx, row.id, due, now)
            return None
        numbers = parent.participants if parent.group_id is not None else (parent.number,)
        if store.opted_out_among(tx, row.account_id, numbers):
            return self._end(tx, row, SKIPPED, OPTED_OUT, now)
        replied = needs_reply_check(row.condition) and store.inbound_after(
            tx, row.account_id, row.line, row.number, row.group_id, parent.id)
        holds, reason = judge(row.condition, parent, replied)
        if not holds:
            return self._end(tx, row, SKIPPED, reason, now)
        action = row.action_value
        if "notify" in action:
            ended = store.end(tx, row.id, FIRED, None, None, now)
            if ended is not None:
                self._outbox.emit(tx, ended.account_id, "follow_up.due", now,
                                  {**follow_up_data(ended), "notify": action["notify"]},
                                  message_handle=ended.message_handle, line=ended.line)
            return ended
        if self._lines.usable_by(row.account_id, parent.line) is None:
            return self._end(tx, row, SKIPPED, LINE_UNAVAILABLE, now)
        message = self._follow_up_message(tx, row, parent, action["send"], now)
        ended = store.end(tx, row.id, FIRED, None, message.handle, now)
        if ended is None:
            return None
        self._accept(tx, message, parent, ended)
        self.endings.emit(tx, ended)
        chained = action["send"].get("follow_ups")
        if chained:  # the rest of the sequence, on the message just sent
            self.schedule_in(tx, row.account_id, message, [
                FollowUpSpec(c["condition"], c["after_ms"], c["action"]) for c in chained])
        return ended

    def _follow_up_message(self, tx: Tx, row: FollowUp, parent: MessageRecord,
                           send: dict[str, Any], now: int) -> MessageRecord:
        participants: tuple[str, ...] = ()
        if parent.group_id is not None:
            group = group_store.group_by_id(tx, parent.group_id)
            participants = group.members if group is not None else parent.participants
        return MessageRecord(
            id=None, handle=new_handle(), account_id=row.account_id, is_outbound=True,
            line=parent.line, number=participants[0] if participants else parent.number,
            content=send.get("content"), media_url=send.get("media_url"),
            send_style=send.get("send_style"), status_callback=None,
            message_type="group" if parent.group_id is not None else "message",
            status=Status.QUEUED, service=None, was_downgraded=None, error_code=None,
            error_message=None, created_at=now, updated_at=now, claimed_until=0,
            group_id=parent.group_id, participants=participants,
            campaign=parent.campaign, tags=parent.tags,
        )

    def _accept(self, tx: Tx, message: MessageRecord, parent: MessageRecord,
                row: FollowUp) -> None:
        """Write the new message as a send accepts one: its contacts, the row, its
        `message.created` event (naming the follow-up and its parent) and the dispatch."""
        assert message.account_id is not None
        for number in message.participants or (message.number,):
            self._contacts.ensure(tx, message.account_id, number, message.line)
        message_store.add_message(tx, message)
        store.link_message(tx, message.handle, parent.handle)
        if message.group_id is not None:
            group_store.add_receipts(tx, message.handle, message.participants)
        account = self._outbox.account(tx, message.account_id)
        group_name = None if message.group_id is None else group_store.names_of(
            tx, [message.group_id]).get(message.group_id)
        data = event_message_data(message, account.email, account.plan, group_name=group_name)
        data["follow_up_of"] = parent.handle
        data["follow_up_id"] = row.public_id
        self._outbox.emit(tx, message.account_id, "message.created", message.created_at, data,
                          message_handle=message.handle, line=message.line)
        tx.notify(MESSAGES)

    def _end(self, tx: Tx, row: FollowUp, state: str, reason: str | None,
             now: int) -> FollowUp | None:
        ended = store.end(tx, row.id, state, reason, None, now)
        if ended is not None:
            self.endings.emit(tx, ended)
        return ended


async def given_with_send(service: FollowUpService | None, account: Account,
                          given: list[Any] | None) -> list[FollowUpSpec]:
    """The `follow_ups` a send gives with its message, checked before it is accepted (the
    send path schedules them with `schedule_in`, in its own transaction)."""
    if not given:
        return []
    if service is None:
        raise validation_error("`follow_ups` are not available on this server")
    return await service.check_all(account, given)


class FollowUpEndings:
    """The early endings, applied by NetworkReports in the transaction of the fact. Cheap when
    there is nothing to end: the status path touches the table only for an account known to
    have scheduled follow-ups (known for two seconds at a time, so another process's new ones
    are heard soon; an ending missed meanwhile is still reached when the follow-up is due)."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self._known: dict[int, tuple[bool, float]] = {}

    def scheduled(self, tx: Tx, account_id: int) -> None:
        tx.after_commit(lambda: self._known.__setitem__(account_id,
                                                        (True, time.monotonic())))

    def _may_have(self, tx: Tx, account_id: int) -> bool:
        known = self._known.get(account_id)
        if known is None or time.monotonic() - known[1] > _KNOWN_FOR_S:
            known = (store.has_scheduled(tx, account_id), time.monotonic())
            self._known[account_id] = known
        return known[0]

    def statuses_changed(self, tx: Tx, messages: list[MessageRecord]) -> None:
        """After a batch of status changes: one UPDATE ends what they made impossible."""
        read: list[int] = []
        delivered: list[int] = []
        failed: list[int] = []
        for message in messages:
            if (message.id is None or message.account_id is None or not message.is_outbound
                    or not self._may_have(tx, message.account_id)):
                continue
            if was_read(message):
                read.append(message.id)
            elif was_delivered(message):
                delivered.append(message.id)
            elif message.status is Status.ERROR:
                failed.append(message.id)
        if read or delivered or failed:
            for row in store.end_by_parents(tx, now_ms(), read, delivered, failed):
                self.emit(tx, row)

    def inbound(self, tx: Tx, account_id: int, line: str, number: str,
                group_id: str | None, opted_out: bool | None) -> None:
        """After an inbound: a reply ends `not_replied`; a STOP cancels the contact's."""
        if not self._may_have(tx, account_id):
            return
        now = now_ms()
        ended = store.cancel_for_contact(tx, now, account_id, line, number) if opted_out else []
        ended += store.end_not_replied(tx, now, account_id, line, number, group_id)
        for row in ended:
            self.emit(tx, row)

    def emit(self, tx: Tx, row: FollowUp) -> None:
        self._outbox.emit(tx, row.account_id, _EVENT_OF[row.state], row.updated_at,
                          follow_up_data(row), message_handle=row.message_handle,
                          line=row.line)


def _already_ended(condition: str, parent: MessageRecord) -> str | None:
    """Why a new follow-up's condition can no longer hold, if it cannot."""
    if condition in ("not_read", "not_delivered") and (
            was_read(parent) if condition == "not_read" else was_delivered(parent)):
        return CONDITION_FALSE
    if condition in ("read", "delivered") and parent.status is Status.ERROR:
        return PARENT_FAILED
    return None
