"""Group chats: sending to a group (new or existing) and changing who is in it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..domain import limits
from ..domain.errors import not_found, validation_error
from ..domain.groups import MIN_PARTICIPANTS, parse_participants
from ..domain.handles import new_handle
from ..domain.idempotency import IdempotencyKey, KeptBefore, StoredAnswer
from ..domain.messages import MessageRecord
from ..domain.payloads import event_message_data, iso, message_response
from ..domain.phones import require_number
from ..domain.statuses import Status
from ..domain.wire.conversations import ModifyGroup, RenameGroup, SendGroupMessage
from ..media.service import MediaService
from ..store import groups as group_store
from ..store import messages as message_store
from ..store.accounts import Account, Line
from ..store.database import Database, now_ms
from ..store.groups import ChatGroup
from ..store.notifications import MESSAGES
from ..store.writer import Tx, Writer
from .contact_book import ContactBook
from .follow_ups import given_with_send
from .idempotency import take
from .inline_replies import answered
from .lines import ConnectorRegistry, LineDirectory
from .outbox import Outbox
from .webhook_targets import WebhookTargets

# iMessage removes a member only from a group of four or more people (the line included).
MIN_MEMBERS_TO_REMOVE = 3


def new_group_id() -> str:
    return "grp_" + new_handle().replace("-", "")


if TYPE_CHECKING:
    from .follow_ups import FollowUpService, FollowUpSpec

MAX_GROUP_NAME_CHARS = 255


class GroupService:
    def __init__(self, database: Database, writer: Writer, lines: LineDirectory,
                 outbox: Outbox, contacts: ContactBook,
                 targets: WebhookTargets, media: MediaService | None = None, *,
                 registry: ConnectorRegistry) -> None:
        self._targets = targets
        self._media = media
        self._registry = registry
        self._database = database
        self._writer = writer
        self._lines = lines
        self._outbox = outbox
        self._contacts = contacts
        self.follow_ups: FollowUpService | None = None  # set by the gateway

    async def send(self, account: Account, body: SendGroupMessage,
                   key: IdempotencyKey | None = None) -> dict[str, Any]:
        """POST /api/send-group-message: to `numbers` (a new group) or to `group_id`. With
        `key`, as MessagingService.send."""
        content = limits.check_content(body.content)
        raw_media = body.media_url
        media_url = (self._media.precheck(raw_media) if self._media
                     else limits.check_media_url(raw_media))
        if not content and not media_url:
            raise validation_error("`content` is required (or `media_url`)")
        campaign, tags = limits.check_campaign(body.campaign), limits.check_tags(body.tags)
        status_callback = limits.check_status_callback(body.status_callback)
        if status_callback is not None:
            await self._targets.check(status_callback, "status_callback")
        from_number = body.from_number
        if not from_number:
            raise validation_error("`from_number` is required: the line to send from")
        line_number = require_number(from_number, "from_number", recipient=False)
        line = self._lines.usable_by(account.id, line_number)
        if line is None:
            raise validation_error(f"`from_number` {line_number} is not a line of this account",
                                   error_key="LINE_NOT_FOUND")
        group_id = body.group_id
        group: ChatGroup | None = None
        if group_id not in (None, ""):
            group = await self._own_group(account, group_id)
            if group.line != line.number:
                raise validation_error(f"`from_number` {line.number} is not in group "
                                       f"{group.group_id} (its line is {group.line})",
                                       error_key="line_not_registered")
            members = group.members
            if len(members) < MIN_PARTICIPANTS:
                raise validation_error(f"group {group.group_id} has fewer than "
                                       f"{MIN_PARTICIPANTS} participants")
        else:
            if body.numbers is None:
                raise validation_error("`numbers` (a new group) or `group_id` is required")
            members = parse_participants(body.numbers, line.number)
        group_id = group.group_id if group else new_group_id()
        reply_to, reply_part = await self._answered(account, line, body, group_id)
        if media_url and self._media is not None:  # fetched and stored now (5 MB, SSRF guard)
            media_url = await self._media.outbound_url(account.id, media_url)
        specs = await given_with_send(self.follow_ups, account, body.follow_ups)
        self._lines.require_send_slot(line)
        now = now_ms()
        message = MessageRecord(
            id=None, handle=new_handle(), account_id=account.id, is_outbound=True,
            line=line.number, number=members[0], content=content, media_url=media_url,
            send_style=None, status_callback=status_callback, message_type="group",
            status=Status.QUEUED, service=None, was_downgraded=None, error_code=None,
            error_message=None, created_at=now, updated_at=now, claimed_until=0,
            group_id=group_id, participants=members, campaign=campaign, tags=tags,
            reply_to=reply_to, reply_to_part=reply_part,
        )
        answer = message_response(message, account.email, account.plan)
        kept = await self._writer.submit(lambda tx: self._accept(tx, account, message,
                                                                 group is None, key, answer,
                                                                 specs))
        if kept is not None:
            raise KeptBefore(kept)
        return answer

    async def _answered(self, account: Account, line: Line, body: SendGroupMessage,
                        group_id: str) -> tuple[str | None, int | None]:
        if body.reply_to is not None and body.group_id in (None, ""):
            raise validation_error("`reply_to` needs `group_id`: a new group has no message "
                                   "to answer yet")
        return await answered(self._database, self._registry, account, line, body.reply_to,
                              group_id=group_id)

    def _accept(self, tx: Tx, account: Account, message: MessageRecord, new_group: bool,
                key: IdempotencyKey | None = None,
                answer: dict[str, Any] | None = None,
                specs: Sequence[FollowUpSpec] = ()) -> StoredAnswer | None:
        assert message.group_id is not None
        if key is not None and answer is not None:
            kept = take(tx, account.id, key, message.handle, answer, message.created_at)
            if kept is not None:
                return kept
        if new_group:
            group_store.create_group(tx, message.group_id, account.id, message.line,
                                     message.participants, message.created_at)
        for number in message.participants:
            self._contacts.ensure(tx, account.id, number, message.line)
        message_store.add_message(tx, message)
        group_store.add_receipts(tx, message.handle, message.participants)
        self._outbox.emit(tx, account.id, "message.created", message.created_at,
                          event_message_data(message, account.email, account.plan),
                          message_handle=message.handle, line=message.line,
                          status_callback=message.status_callback)
        if specs and self.follow_ups is not None:
            self.follow_ups.schedule_in(tx, account.id, message, list(specs))
        tx.notify(MESSAGES)
        return None

    async def modify(self, account: Account, body: ModifyGroup) -> dict[str, Any]:
        """POST /api/modify-group: add or remove one participant."""
        if not body.group_id.strip():
            raise validation_error("`group_id` is required")
        modify_type = body.modify_type
        number = require_number(body.number, "number")
        group = await self._own_group(account, body.group_id)
        from_number = body.from_number
        if from_number:
            acting = require_number(from_number, "from_number", recipient=False)
            if acting != group.line:
                raise validation_error(f"`from_number` {acting} is not in group "
                                       f"{group.group_id}", error_key="line_not_registered")
        if modify_type == "add_recipient":
            if number in group.members:
                raise validation_error(f"{number} is already in group {group.group_id}")
            if number == group.line:
                raise validation_error(f"{number} is the group's own line")
        else:
            if number not in group.members:
                raise validation_error(f"{number} is not in group {group.group_id}")
            if len(group.members) < MIN_MEMBERS_TO_REMOVE:
                raise validation_error("a participant can be removed only from a group of "
                                       f"{MIN_MEMBERS_TO_REMOVE} or more participants")
        await self._writer.submit(lambda tx: self._modify(tx, account, group, modify_type,
                                                          number))
        return {"status": "OK", "group_id": group.group_id, "modify_type": modify_type,
                "number": number}

    def _modify(self, tx: Tx, account: Account, group: ChatGroup, modify_type: str,
                number: str) -> None:
        now = now_ms()
        if modify_type == "add_recipient":
            group_store.add_member(tx, group.pk, number, now)
            self._contacts.ensure(tx, account.id, number, group.line)
        else:
            group_store.remove_member(tx, group.pk, number, now)

    async def retrieve(self, account: Account, group_id: str) -> dict[str, Any]:
        """GET /api/v2/groups/{group_id}: the group, its members and its latest message."""
        group = await self._own_group(account, group_id)
        times = await self._database.read_async(
            lambda conn: group_store.group_times(conn, group))
        updated = max(times.created_at, times.latest_at or 0)
        return {"status": "OK", "data": {
            "group_id": group.group_id, "group_name": group.display_name or None,
            "group_photo": None, "line": group.line,
            "participant_numbers": list(group.members),
            "participants": [{"participant_id": f"{group.group_id}:{number}", "handle": number,
                              "phone": number, "type": "contact", "contact_id": None,
                              "name": None} for number in group.members],
            "created_at": iso(times.created_at), "updated_at": iso(updated),
            "latest_comm_at": iso(times.latest_at), "latest_message_id": times.latest_handle,
            "worker_group_id": None,
        }}

    async def rename(self, account: Account, group_id: str, body: RenameGroup) -> dict[str, Any]:
        """POST /api/v2/groups/{group_id}/name: name the group (null or empty clears it)."""
        name = body.group_name
        if name and not name.strip():
            raise validation_error("`group_name` is blank: give a name, or null to clear it")
        name = name.strip() if name else None
        if name is not None and len(name) > MAX_GROUP_NAME_CHARS:
            raise validation_error(f"`group_name` is longer than {MAX_GROUP_NAME_CHARS} "
                                   "characters")
        group = await self._own_group(account, group_id)
        if body.from_number:
            acting = require_number(body.from_number, "from_number", recipient=False)
            if acting != group.line:
                raise validation_error(f"`from_number` {acting} is not in group "
                                       f"{group.group_id} (its line is {group.line})",
                                       error_key="line_not_registered")
        capabilities = self._registry.capabilities_for(group.line)
        if capabilities is None or not capabilities.group_names:
            note = self._registry.capability_note(group.line)
            raise validation_error(f"line {group.line} cannot name group chats (its connector "
                                   f"does not support it){note}")
        await self._writer.submit(lambda tx: group_store.rename_group(tx, group.pk, name))
        return {"status": "OK", "data": {"group_id": group.group_id, "group_name": name or "",
                                         "from_number": group.line}}

    async def _own_group(self, account: Account, group_id: object) -> ChatGroup:
        if not isinstance(group_id, str) or not group_id.strip():
            raise validation_error("`group_id` must be a group id string")
        wanted = group_id.strip()
        group = await self._database.read_async(lambda conn: group_store.group_by_id(conn, wanted))
        if group is None or group.account_id != account.id:
            raise not_found(f"No group with id {group_id.strip()}")
        return group
