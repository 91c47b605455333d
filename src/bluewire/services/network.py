"""Applying what the networks report: status updates, inbound messages, typing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..connectors.protocol import GroupChange, Inbound, Reaction, StatusUpdate, Typing
from ..domain.contacts import opt_out_change
from ..domain.groups import apply_group_report
from ..domain.handles import new_handle
from ..domain.messages import MessageRecord, advance, in_conversation
from ..domain.payloads import event_message_data, iso
from ..domain.reactions import REACTIONS, ReactionRecord, reaction_data
from ..domain.statuses import Service, Status
from ..store import groups as group_store
from ..store import messages as store
from ..store import reactions as reaction_store
from ..store.groups import ChatGroup
from ..store.writer import Tx
from .contact_book import ContactBook
from .lines import LineDirectory
from .outbox import Outbox
from .read_receipts import AUTO, ReadReceipts

if TYPE_CHECKING:
    from .follow_ups import FollowUpEndings
    from .groups import GroupService
    from .verify import VerifyService

log = logging.getLogger(__name__)


class NetworkReports:
    """Turns connector reports into facts: each with its events and webhook deliveries."""

    def __init__(self, outbox: Outbox, contacts: ContactBook, lines: LineDirectory,
                 receipts: ReadReceipts) -> None:
        self._outbox = outbox
        self._contacts = contacts
        self._lines = lines
        self._receipts = receipts
        # Ends follow-ups early where the facts are recorded (services/follow_ups.py).
        self.follow_ups: FollowUpEndings | None = None
        # Matches the codes phones text for Verify (services/verify.py).
        self.verify: VerifyService | None = None
        # Records what a member does to a group (services/groups.py).
        self.groups: GroupService | None = None

    def apply_status_updates(self, tx: Tx, updates: Sequence[StatusUpdate]) -> int:
        """Apply connector reports in order; a report that moves nothing forward is dropped.

        Returns how many transitions took place (each a `message.updated` event, a status
        callback and `outbound` webhooks).
        """
        handles = list({update.handle for update in updates})
        by_handle = {m.handle: m for m in store.messages_by_handles(tx, handles)}
        changed: dict[str, MessageRecord] = {}
        transitions = 0
        for update in updates:
            message = by_handle.get(update.handle)
            if message is None:
                log.warning("status %s for unknown message %s", update.status, update.handle,
                            extra={"message_handle": update.handle})
                continue
            if message.group_id is not None and update.number is not None:
                if self._apply_group_report(tx, message, update):
                    changed[message.handle] = message
                    transitions += 1
                continue
            if not advance(message, update.status, update.at_ms, service=update.service,
                           was_downgraded=update.was_downgraded, error_code=update.error_code,
                           error_message=update.error_message):
                continue
            changed[message.handle] = message
            transitions += 1
            self._emit_message(tx, message, "message.updated")
        moved = list(changed.values())
        store.save_statuses(tx, moved)
        if moved and self.follow_ups is not None:
            self.follow_ups.statuses_changed(tx, moved)
        return transitions

    def _apply_group_report(self, tx: Tx, message: MessageRecord,
                            update: StatusUpdate) -> bool:
        """One participant's report on a group message: its receipt, the message's
        status, and an event per change (a read names its reader). Whether the status moved."""
        assert message.id is not None and update.number is not None
        receipts = group_store.receipts_of(tx, message.id)
        outcome = apply_group_report(
            message, receipts, update.number, update.status, update.at_ms,
            service=update.service, was_downgraded=update.was_downgraded,
            error_code=update.error_code, error_message=update.error_message)
        group_store.save_receipts(tx, message.id, outcome.receipts)
        for number in outcome.events:
            if number is None:
                self._emit_message(tx, message, "message.updated")
            else:
                at = max(message.created_at, update.at_ms)
                self._emit_message(tx, replace(message, number=number, status=Status.READ,
                                               updated_at=at, read_at=at), "message.updated")
        return outcome.message_changed

    def _emit_message(self, tx: Tx, message: MessageRecord, type_: str, *,
                      opted_out: bool | None = None, group_name: str | None = None) -> None:
        """`opted_out`: the contact's state when this transaction changes it (the book learns
        of the change only once it commits); None: as the book knows it. `group_name`: the
        group's name if the caller has it; else read here, for a group message only."""
        if message.account_id is None:
            return
        account = self._outbox.account(tx, message.account_id)
        if opted_out is None:
            opted_out = self._contacts.is_opted_out(message.account_id, message.number)
        if group_name is None and message.group_id is not None:
            group_name = group_store.names_of(tx, [message.group_id]).get(message.group_id)
        self._outbox.emit(tx, message.account_id, type_, message.updated_at,
                          event_message_data(message, account.email, account.plan, opted_out,
                                             group_name=group_name),
                          message_handle=message.handle, line=message.line,
                          status_callback=message.status_callback)

    def record_inbound(self, tx: Tx, inbound: Inbound, handle: str) -> list[MessageRecord]:
        """Store an inbound message, one row per part (its text, then each attachment), and
        route it (Sendblue's rule): to the account that has the sender as a contact, of those that
        may use the line. A stranger's message is kept unrouted (no account), counted for the
        operator, and shown to no one. Returns the parts."""
        group = self._inbound_group(tx, inbound, handle)
        candidates = _only(self._lines.accounts_of(inbound.line), inbound.route_to)
        if group is not None and group.account_id not in candidates:
            group = None
        account_id = group.account_id if group is not None else \
            self._contacts.route(tx, inbound.line, inbound.number, candidates)
        opt_change: bool | None = None
        if account_id is None:
            log.info("inbound %s from %s to %s kept unrouted: a stranger to every account of "
                     "the line", handle, inbound.number, inbound.line,
                     extra={"message_handle": handle})
        else:
            self._contacts.mark_verified(tx, account_id, inbound.number)  # they wrote to us
            opt_change = opt_out_change(inbound.content)
            if opt_change is not None:
                self._contacts.set_opted_out(tx, account_id, inbound.number, opt_change)
        parts = _parts(inbound)
        reply_to = _answered(tx, inbound, account_id, group)
        stored = []
        for index, (content, media_url) in enumerate(parts):
            message = MessageRecord(
                id=None, handle=handle if index == 0 else new_handle(), account_id=account_id,
                is_outbound=False, line=inbound.line, number=inbound.number, content=content,
                media_url=media_url, send_style=None, status_callback=None,
                message_type="message" if group is None else "group", status=Status.RECEIVED,
                service=inbound.service, was_downgraded=None, error_code=None,
                error_message=None, created_at=inbound.at_ms, updated_at=inbound.at_ms,
                group_id=None if group is None else group.group_id,
                participants=() if group is None else group.members,
                reply_to=reply_to if index == 0 else None,
            )
            store.add_message(tx, message)
            self._emit_message(tx, message, "message.received", opted_out=opt_change,
                               group_name=None if group is None else group.display_name)
            stored.append(message)
        if account_id is not None and self.follow_ups is not None:
            self.follow_ups.inbound(tx, account_id, inbound.line, inbound.number,
                                    None if group is None else group.group_id,
                                    opted_out=opt_change is True)
        if account_id is not None and group is None and self.verify is not None:
            self.verify.inbound(tx, account_id, inbound.line, inbound.number, inbound.content)
        if account_id is not None and self._auto_read_applies(tx, account_id, inbound):
            self._receipts.record(tx, account_id, inbound.line, inbound.number, AUTO,
                                  stored[0].handle)
        if account_id is not None:  # the analytics' replies
            store.mark_replied(tx, account_id, inbound.line, inbound.number,
                               None if group is None else group.group_id, inbound.at_ms)
        return stored

    def _inbound_group(self, tx: Tx, inbound: Inbound, handle: str) -> ChatGroup | None:
        """The group an inbound was sent to: one of the line's groups that has the sender as a
        member, or a group chat the network names with its members (a Mac's), adopted now for
        the sender's account. None for a 1:1 inbound, or a group this gateway cannot place."""
        if inbound.group_id is None:
            return None
        group = group_store.group_by_id(tx, inbound.group_id)
        if group is None and inbound.number in inbound.participants:
            group = self._adopt_group(tx, inbound)
        if group is None or group.line != inbound.line or inbound.number not in group.members:
            log.info("inbound %s from %s to unknown group %s routed as 1:1", handle,
                     inbound.number, inbound.group_id, extra={"message_handle": handle})
            return None
        return group

    def _adopt_group(self, tx: Tx, inbound: Inbound) -> ChatGroup | None:
        """A group chat the line is in but no account created here: it becomes a group of the
        account the sender writes to, so replies can go to its `group_id` (the chat's id)."""
        assert inbound.group_id is not None
        account_id = self._contacts.route(tx, inbound.line, inbound.number,
                                          self._lines.accounts_of(inbound.line))
        if account_id is None:
            return None
        group_store.create_group(tx, inbound.group_id, account_id, inbound.line,
                                 sorted(set(inbound.participants)), inbound.at_ms)
        return group_store.group_by_id(tx, inbound.group_id)

    def _auto_read_applies(self, tx: Tx, account_id: int, inbound: Inbound) -> bool:
        """Auto mark-read: only an iMessage, only 1:1, only once for a multi-part inbound (the
        caller asks once per inbound), and only while the account has it on."""
        return (inbound.service is Service.IMESSAGE and inbound.group_id is None
                and self._receipts.can_send(inbound.line)
                and self._receipts.auto_enabled(tx, account_id))

    def record_group_change(self, tx: Tx, change: GroupChange) -> None:
        """A member renamed one of the line's groups, left it, changed its photo, or added or
        removed a member: its account's group changes, with an event (`group.renamed`,
        `group.member_left`, `group.photo_changed`, `group.member_added`,
        `group.member_removed`). Dropped unless the member is in the group still, and the
        group's account may use the line (and is `route_to`, when set)."""
        group = group_store.group_by_id(tx, change.group_id)
        candidates = _only(self._lines.accounts_of(change.line), change.route_to)
        if (group is None or self.groups is None or group.line != change.line
                or change.number not in group.members or group.account_id not in candidates):
            log.info("%s of %s by %s on %s dropped: not a member's, of a group of the line",
                     change.kind, change.group_id, change.number, change.line)
            return
        if change.kind == "renamed":
            self.groups.record_rename(tx, group, change.name, by=change.number,
                                      at_ms=change.at_ms)
        elif change.kind == "photo_changed":
            self.groups.record_photo(tx, group, change.photo_guid, change.photo_url,
                                     by=change.number, at_ms=change.at_ms)
        elif change.kind in ("member_added", "member_removed"):
            self._record_membership(tx, group, change)
        else:
            self.groups.record_member_left(tx, group, change.number, change.at_ms)

    def _record_membership(self, tx: Tx, group: ChatGroup, change: GroupChange) -> None:
        """A member added or removed another: dropped if that changes nothing (heard before)
        or the member it concerns is not known."""
        assert self.groups is not None
        member = _member_of(group, change)
        if change.kind == "member_added" and member and member not in group.members \
                and member != group.line:
            self.groups.record_member_added(tx, group, member, by=change.number,
                                            at_ms=change.at_ms)
        elif change.kind == "member_removed" and member in group.members \
                and member != change.number:
            self.groups.record_member_removed(tx, group, member, by=change.number,
                                              at_ms=change.at_ms)
        else:
            log.info("%s of %s in %s by %s dropped: no change to its members", change.kind,
                     member, change.group_id, change.number)

    def record_typing(self, tx: Tx, typing: Typing) -> None:
        candidates = _only(self._lines.accounts_of(typing.line), typing.route_to)
        account_id = self._contacts.route(tx, typing.line, typing.number, candidates)
        if account_id is not None:
            self._outbox.emit(tx, account_id, "typing.changed", typing.at_ms, {
                "number": typing.number, "sendblue_number": typing.line,
                "is_typing": typing.is_typing, "updated_at": iso(typing.at_ms),
            }, line=typing.line)

    def record_reaction(self, tx: Tx, reaction: Reaction, handle: str) -> None:
        """A phone's tapback on one of our messages: recorded, a `reaction.received` event and
        `receive` webhook, never a message. One on a message that is not of the conversation
        (or of no account that may hear it) is dropped."""
        target = store.message_by_handle(tx, reaction.message_handle)
        candidates = _only(self._lines.accounts_of(reaction.line), reaction.route_to)
        if (target is None or target.account_id not in candidates
                or target.line != reaction.line or reaction.reaction not in REACTIONS
                or not _in_chat(tx, target, reaction.number)):
            log.info("reaction %s from %s on %s dropped: not a message of their conversation "
                     "on %s", handle, reaction.number, reaction.message_handle, reaction.line)
            return
        assert target.account_id is not None
        record = ReactionRecord(
            handle=handle, account_id=target.account_id, line=reaction.line,
            number=reaction.number, group_id=target.group_id, message_handle=target.handle,
            part_index=reaction.part_index, reaction=reaction.reaction,
            removed=reaction.removed, is_outbound=False, created_at=reaction.at_ms)
        reaction_store.add(tx, record, reaction_store.RECEIVED)
        account = self._outbox.account(tx, target.account_id)
        self._outbox.emit(tx, target.account_id, "reaction.received", reaction.at_ms,
                          reaction_data(record, account.email), message_handle=handle,
                          line=reaction.line)


def _in_chat(tx: Tx, message: MessageRecord, number: str) -> bool:
    """Whether `number` is in the conversation of `message`: its 1:1 contact, or a member of
    its group."""
    if message.group_id is None:
        return message.number == number
    group = group_store.group_by_id(tx, message.group_id)
    return group is not None and number in group.members


def _member_of(group: ChatGroup, change: GroupChange) -> str | None:
    """The member an addition or removal concerns, when the network names it only by who is
    in the group now (`change.participants`): the one number (not the member who made the
    change, nor the line) new among them, or of ours no longer among them, if exactly one."""
    if change.member is not None or not change.participants:
        return change.member
    if change.kind == "member_added":
        found = [n for n in change.participants if n not in group.members]
    else:
        found = [n for n in group.members if n not in change.participants]
    found = [n for n in found if n not in (change.number, group.line)]
    return found[0] if len(found) == 1 else None


def _only(candidates: list[int], route_to: int | None) -> list[int]:
    """The accounts a report may reach: the line's, or only `route_to` of them when set."""
    if route_to is None:
        return candidates
    return [route_to] if route_to in candidates else []


def _parts(inbound: Inbound) -> list[tuple[str | None, str | None]]:
    """The text (with the first attachment, if any) and then each further attachment."""
    media = list(inbound.media_urls)
    first = (inbound.content, media.pop(0) if media else None)
    return [first, *((None, url) for url in media)]


def _answered(tx: Tx, inbound: Inbound, account_id: int | None,
              group: ChatGroup | None) -> str | None:
    """The handle of the message an inbound answers inline, if the network named one of its
    conversation's messages (a reply to anything else is kept as a plain message)."""
    if inbound.reply_to is None or account_id is None:
        return None
    parent = store.message_by_handle(tx, inbound.reply_to)
    group_id = None if group is None else group.group_id
    if parent is None or not in_conversation(parent, account_id, inbound.line, inbound.number,
                                             group_id):
        return None
    return parent.handle
