"""Group chats: sending to a group (new or existing) and changing who is in it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..connectors.protocol import SendFailed
from ..domain import limits
from ..domain.errors import ApiError, ErrorCode, not_found, validation_error
from ..domain.groups import MIN_PARTICIPANTS, parse_participants
from ..domain.handles import new_handle
from ..domain.idempotency import IdempotencyKey, KeptBefore, StoredAnswer
from ..domain.media_types import content_type_for, extension_of
from ..domain.messages import MessageRecord
from ..domain.payloads import event_message_data, iso, message_response
from ..domain.phones import require_number
from ..domain.statuses import Status
from ..domain.wire.conversations import (
    ModifyGroup,
    RenameGroup,
    SendGroupMessage,
    SetGroupPhoto,
)
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
        group_name = group.display_name if group is not None else None
        kept = await self._writer.submit(lambda tx: self._accept(tx, account, message,
                                                                 group is None, key, answer,
                                                                 specs, group_name))
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
                specs: Sequence[FollowUpSpec] = (),
                group_name: str | None = None) -> StoredAnswer | None:
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
                          event_message_data(message, account.email, account.plan,
                                             group_name=group_name),
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
        if modify_type == "add_recipient" and number == group.line:
            raise validation_error(f"{number} is the group's own line")
        why = member_refusal(group, number, adding=modify_type == "add_recipient")
        if why is not None:
            raise validation_error(why)
        await self._writer.submit(lambda tx: self._modify(tx, account, group, modify_type,
                                                          number))
        return {"status": "OK", "group_id": group.group_id, "modify_type": modify_type,
                "number": number}

    def _modify(self, tx: Tx, account: Account, group: ChatGroup, modify_type: str,
                number: str) -> None:
        if modify_type == "add_recipient":
            self.record_member_added(tx, group, number, by=None, at_ms=now_ms())
        else:
            self.record_member_removed(tx, group, number, by=None, at_ms=now_ms())

    async def retrieve(self, account: Account, group_id: str) -> dict[str, Any]:
        """GET /api/v2/groups/{group_id}: the group, its members and its latest message."""
        group = await self._own_group(account, group_id)
        times = await self._database.read_async(
            lambda conn: group_store.group_times(conn, group))
        updated = max(times.created_at, times.latest_at or 0)
        return {"status": "OK", "data": {
            "group_id": group.group_id, "group_name": group.display_name or None,
            "group_photo": group_photo(group.photo_guid, group.photo_url), "line": group.line,
            "participant_numbers": list(group.members),
            "participants": [{"participant_id": f"{group.group_id}:{number}", "handle": number,
                              "phone": number, "type": "contact", "contact_id": None,
                              "name": None} for number in group.members],
            "created_at": iso(times.created_at), "updated_at": iso(updated),
            "latest_comm_at": iso(times.latest_at), "latest_message_id": times.latest_handle,
            "worker_group_id": None,
        }}

    async def rename(self, account: Account, group_id: str, body: RenameGroup) -> dict[str, Any]:
        """POST /api/v2/groups/{group_id}/name: name the group (null or empty clears it); a
        `group.renamed` event."""
        name = checked_group_name(body.group_name)
        group = await self._acting_group(account, group_id, body.from_number, "group_names",
                                         "name group chats")
        await self._tell_network(group, "rename_group", name, "rename")
        await self._writer.submit(lambda tx: self.record_rename(tx, group, name))
        return {"status": "OK", "data": {"group_id": group.group_id, "group_name": name or "",
                                         "from_number": group.line}}

    async def _tell_network(self, group: ChatGroup, change: str, value: str | None,
                            what: str) -> None:
        """A connector that changes group chats on its network (`rename_group`,
        `set_group_photo`: a BlueBubbles server's) does so before the change is recorded; one
        that does not (the sandbox's) only records it. Its refusal is a 400 for a value it
        cannot take, else a 502."""
        tell = getattr(self._registry.for_line(group.line), change, None)
        if tell is None:
            return
        try:
            await tell(group.line, group.group_id, value)
        except SendFailed as exc:
            if exc.code == ErrorCode.VALIDATION:
                raise validation_error(exc.reason) from None
            raise ApiError(502, f"line {group.line} could not {what} group {group.group_id} "
                                f"on its network: {exc.reason}") from None

    async def set_photo(self, account: Account, group_id: str,
                        body: SetGroupPhoto) -> dict[str, Any]:
        """POST /api/v2/groups/{group_id}/photo: the picture at `photo_url` (fetched and kept
        as a media object) becomes the group's photo; null clears it. A `group.photo_changed`
        event."""
        raw = checked_photo_url(body.photo_url, self._media)
        group = await self._acting_group(account, group_id, body.from_number, "group_photos",
                                         "set group chat photos")
        guid, url = (None, None) if raw is None else await kept_photo(self._media, account, raw)
        await self._tell_network(group, "set_group_photo", url, "set the photo of")
        await self._writer.submit(lambda tx: self.record_photo(tx, group, guid, url))
        return {"status": "OK", "data": {"group_id": group.group_id,
                                         "group_photo": group_photo(guid, url),
                                         "from_number": group.line}}

    def record_rename(self, tx: Tx, group: ChatGroup, name: str | None, *,
                      by: str | None = None, at_ms: int | None = None) -> None:
        """The group is named `name` (None: no name), by its line or, `by`, by a member: a
        `group.renamed` event."""
        group_store.rename_group(tx, group.pk, name)
        self._changed(tx, group, "group.renamed", {"group_name": name}, by=by, at_ms=at_ms)

    def record_photo(self, tx: Tx, group: ChatGroup, guid: str | None, url: str | None, *,
                     by: str | None = None, at_ms: int | None = None) -> None:
        """The group's photo is the media object `guid` (downloaded at `url`; None: no photo),
        set by its line or, `by`, by a member: a `group.photo_changed` event."""
        group_store.set_photo(tx, group.pk, guid, url)
        self._changed(tx, group, "group.photo_changed", {"group_photo": group_photo(guid, url)},
                      by=by, at_ms=at_ms)

    def record_member_left(self, tx: Tx, group: ChatGroup, number: str, at_ms: int) -> None:
        """`number` left the group: later messages of the group do not go to it. A
        `group.member_left` event naming it and those who remain."""
        group_store.remove_member(tx, group.pk, number, at_ms)
        remaining = [member for member in group.members if member != number]
        self._changed(tx, group, "group.member_left", {"participant_numbers": remaining},
                      by=number, at_ms=at_ms)

    def record_member_added(self, tx: Tx, group: ChatGroup, member: str, *, by: str | None,
                            at_ms: int) -> None:
        """The member `by` (None: the line, by modify-group) added `member`, who becomes a
        contact and gets the group's later messages: a `group.member_added` event naming it
        and the members now."""
        group_store.add_member(tx, group.pk, member, at_ms)
        self._contacts.ensure(tx, group.account_id, member, group.line)
        self._changed(tx, group, "group.member_added", {
            "member_number": member, "participant_numbers": [*group.members, member]},
            by=by, at_ms=at_ms)

    def record_member_removed(self, tx: Tx, group: ChatGroup, member: str, *, by: str | None,
                              at_ms: int) -> None:
        """The member `by` (None: the line, by modify-group) removed `member`: later messages
        of the group do not go to it. A `group.member_removed` event naming it and those who
        remain."""
        group_store.remove_member(tx, group.pk, member, at_ms)
        remaining = [number for number in group.members if number != member]
        self._changed(tx, group, "group.member_removed", {
            "member_number": member, "participant_numbers": remaining}, by=by, at_ms=at_ms)

    def _changed(self, tx: Tx, group: ChatGroup, type_: str, change: dict[str, Any], *,
                 by: str | None = None, at_ms: int | None = None) -> None:
        """The event of a change to the group: its id, the new value, who made it
        (`from_number`: the line, or the member `by`, also its `number`), the line and when."""
        now = now_ms() if at_ms is None else at_ms
        member = {} if by is None else {"number": by}
        self._outbox.emit(tx, group.account_id, type_, now, {
            "group_id": group.group_id, **change, **member, "from_number": by or group.line,
            "sendblue_number": group.line, "changed_at": iso(now)}, line=group.line)

    async def _acting_group(self, account: Account, group_id: str, from_number: str | None,
                            capability: str, what: str) -> ChatGroup:
        """The account's group, once the line acting for it (`from_number`, if given, must be
        the group's) is known to be served by a connector that can do `what`."""
        group = await self._own_group(account, group_id)
        if from_number:
            acting = require_number(from_number, "from_number", recipient=False)
            if acting != group.line:
                raise validation_error(f"`from_number` {acting} is not in group "
                                       f"{group.group_id} (its line is {group.line})",
                                       error_key="line_not_registered")
        capabilities = self._registry.capabilities_for(group.line)
        if capabilities is None or not getattr(capabilities, capability):
            note = self._registry.capability_note(group.line)
            raise validation_error(f"line {group.line} cannot {what} (its connector does not "
                                   f"support it){note}")
        return group

    async def _own_group(self, account: Account, group_id: object) -> ChatGroup:
        if not isinstance(group_id, str) or not group_id.strip():
            raise validation_error("`group_id` must be a group id string")
        wanted = group_id.strip()
        group = await self._database.read_async(lambda conn: group_store.group_by_id(conn, wanted))
        if group is None or group.account_id != account.id:
            raise not_found(f"No group with id {group_id.strip()}")
        return group


def checked_group_name(name: str | None, field: str = "group_name") -> str | None:
    """A group's new name as given in `field`: trimmed; None (no name) for null or empty; a
    blank or too long one is refused."""
    if name and not name.strip():
        raise validation_error(f"`{field}` is blank: give a name, or null to clear it")
    name = name.strip() if name else None
    if name is not None and len(name) > MAX_GROUP_NAME_CHARS:
        raise validation_error(f"`{field}` is longer than {MAX_GROUP_NAME_CHARS} characters")
    return name


PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})


def member_refusal(group: ChatGroup, number: str, *, adding: bool,
                   field: str = "number") -> str | None:
    """Why `number` (given as `field`) cannot be added to `group` (`adding`) or removed from it
    as the group is now, by iMessage's rules: a member is removed only from a group of
    MIN_MEMBERS_TO_REMOVE or more participants. None when it can."""
    if adding:
        return (f"`{field}` {number} is already in group {group.group_id}"
                if number in group.members else None)
    if number not in group.members:
        return f"`{field}` {number} is not in group {group.group_id}"
    if len(group.members) < MIN_MEMBERS_TO_REMOVE:
        return (f"`{field}` {number} cannot be removed from group {group.group_id}: iMessage "
                f"removes a member only from a group of {MIN_MEMBERS_TO_REMOVE} or more "
                "participants")
    return None


def checked_photo_url(raw: object, media: MediaService | None) -> str | None:
    """A new group photo's `photo_url` as given: trimmed; None (no photo) for null or empty;
    else an http(s) URL or one of our media objects' URLs (which is the 400 saying so)."""
    if raw is not None and not isinstance(raw, str):
        raise validation_error("`photo_url` must be an http(s) URL string, or null")
    url = raw.strip() if raw else None
    if url is not None and (media is None or media.referenced_id(url) is None):
        limits.check_http_url(url, "photo_url")
    return url


async def kept_photo(media: MediaService | None, account: Account, raw: str) -> tuple[str, str]:
    """The guid and download URL of the picture `raw` names: a media object of the account,
    or an http(s) URL fetched and kept as one (as send-message's `media_url`: at most 5 MB,
    the SSRF guard). With media fetching off, the URL as given, if its extension names a
    picture."""
    if media is not None:
        media_id = media.referenced_id(raw)
        if media_id is not None:
            owned = await media.owned(account.id, media_id)
            if owned is not None:
                _require_picture(owned.content_type)
                return owned.media_id, media.download_url(owned)
            if not raw.startswith(("http://", "https://")):
                raise validation_error(f"`photo_url` names no media object of this "
                                       f"account: {media_id}")
        if media.fetch_enabled:
            url = limits.check_http_url(raw, "photo_url")
            kept = await media.fetch(account.id, url, field="photo_url", by_type=True)
            _require_picture(kept.content_type)
            return kept.media_id, media.download_url(kept)
    url = limits.check_http_url(raw, "photo_url")
    _require_picture(content_type_for(extension_of(urlsplit(url).path)))
    return "ph_" + hashlib.sha256(url.encode()).hexdigest()[:32], url


def _require_picture(content_type: str | None) -> None:
    if content_type not in PHOTO_TYPES:
        raise validation_error(f"`photo_url` must be a JPEG, PNG or GIF picture, not "
                               f"{content_type or 'a file of unknown type'}")


def group_photo(guid: str | None, url: str | None) -> dict[str, str] | None:
    """`group_photo`: its guid and download URL, or null when the group has none."""
    return None if guid is None or url is None else {"photo_guid": guid, "url": url}
