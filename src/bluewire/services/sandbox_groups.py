"""A sandbox phone acting on a group chat it is in (/sandbox/phones/{number}/groups/{group_id}):
it renames the group, leaves it, changes its photo, or adds or removes a member.

Each reaches the group's account as the network reports it (a GroupChange, recorded by
NetworkReports with the groups service's events), and each answers once that is committed, so
the group's new name, photo or members can be read at once. Only a group of the account, on one
of its sandbox lines, that the phone is a member of.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Literal

from ..connectors.protocol import GroupChange
from ..domain.errors import not_found, validation_error
from ..domain.payloads import iso
from ..domain.phones import require_number
from ..domain.wire.sandbox_groups import PhoneAddsMember, PhoneRenamesGroup, PhoneSetsGroupPhoto
from ..store import groups as group_store
from ..store.accounts import Account
from ..store.database import Database, now_ms
from ..store.groups import ChatGroup
from ..store.writer import Tx
from .groups import (
    MIN_MEMBERS_TO_REMOVE,
    checked_group_name,
    checked_photo_url,
    group_photo,
    kept_photo,
    member_refusal,
)
from .sandbox_phones import SandboxPhones

# The network sink's `together`: runs a step in the transaction that records its reports.
Together = Callable[[Callable[[Tx], Sequence[GroupChange]]], asyncio.Future[None]]
# Why a change cannot be made to the group as it is (None: it can).
Refusal = Callable[[ChatGroup], str | None]


class SandboxGroups:
    """What a sandbox phone does to a group, scoped to the account acting as it."""

    def __init__(self, phones: SandboxPhones, database: Database, together: Together) -> None:
        self._phones = phones
        self._database = database
        self._together = together

    async def rename(self, account: Account, raw_number: str, group_id: str,
                     request: PhoneRenamesGroup) -> dict[str, Any]:
        """The phone names the group `request.name` (null or empty: no name)."""
        number = self._phones.phone_number(raw_number)
        name = checked_group_name(request.name, "name")
        group = await self._member_group(account, number, group_id)
        at = now_ms()
        await self._report(group, number, GroupChange(
            line=group.line, group_id=group.group_id, number=number, kind="renamed", at_ms=at,
            name=name, route_to=account.id))
        return {"status": "OK", "number": number, "group_id": group.group_id,
                "line": group.line, "group_name": name, "renamed_at": iso(at)}

    async def leave(self, account: Account, raw_number: str, group_id: str) -> dict[str, Any]:
        """The phone leaves the group: the group's later messages do not go to it."""
        number = self._phones.phone_number(raw_number)
        group = await self._member_group(account, number, group_id)
        if len(group.members) < MIN_MEMBERS_TO_REMOVE:
            raise validation_error(f"`number` {number} cannot leave group {group.group_id}: "
                                   f"iMessage lets a member leave only a group of "
                                   f"{MIN_MEMBERS_TO_REMOVE} or more participants")
        at = now_ms()
        await self._report(group, number, GroupChange(
            line=group.line, group_id=group.group_id, number=number, kind="left", at_ms=at,
            route_to=account.id))
        return {"status": "OK", "number": number, "group_id": group.group_id,
                "line": group.line, "participant_numbers": await self._members(group),
                "left_at": iso(at)}

    async def set_photo(self, account: Account, raw_number: str, group_id: str,
                        request: PhoneSetsGroupPhoto) -> dict[str, Any]:
        """The phone makes the picture at `request.photo_url` the group's photo (fetched and
        kept as the account's own is); null removes it."""
        number = self._phones.phone_number(raw_number)
        media = self._phones.media
        raw = checked_photo_url(request.photo_url, media)
        group = await self._member_group(account, number, group_id, request.line)
        guid, url = (None, None) if raw is None else await kept_photo(media, account, raw)
        at = now_ms()
        await self._report(group, number, GroupChange(
            line=group.line, group_id=group.group_id, number=number, kind="photo_changed",
            at_ms=at, photo_guid=guid, photo_url=url, route_to=account.id))
        return {"status": "OK", "number": number, "group_id": group.group_id,
                "line": group.line, "group_photo": group_photo(guid, url),
                "changed_at": iso(at)}

    async def add_member(self, account: Account, raw_number: str, group_id: str,
                         request: PhoneAddsMember) -> dict[str, Any]:
        """The phone adds `request.number`: the group's later messages go to it too."""
        number = self._phones.phone_number(raw_number)
        member = self._phones.phone_number(request.number)
        group = await self._member_group(account, number, group_id, request.line)
        return await self._change_members(
            account, group, number, member, "member_added",
            lambda found: member_refusal(found, member, adding=True))

    async def remove_member(self, account: Account, raw_number: str, group_id: str,
                            raw_member: str) -> dict[str, Any]:
        """The phone removes the member `raw_member`: the group's later messages do not go to
        it."""
        number = self._phones.phone_number(raw_number)
        member = self._phones.phone_number(raw_member, "member")
        if member == number:
            raise validation_error(f"`member` {member} is the phone itself: a phone leaves a "
                                   "group with POST …/groups/{group_id}/leave")
        group = await self._member_group(account, number, group_id)
        return await self._change_members(
            account, group, number, member, "member_removed",
            lambda found: member_refusal(found, member, adding=False, field="member"))

    async def _change_members(self, account: Account, group: ChatGroup, number: str,
                              member: str, kind: Literal["member_added", "member_removed"],
                              refusal: Refusal) -> dict[str, Any]:
        why = refusal(group)
        if why is not None:
            raise validation_error(why)
        at = now_ms()
        await self._report(group, number, GroupChange(
            line=group.line, group_id=group.group_id, number=number, kind=kind, at_ms=at,
            member=member, route_to=account.id), refusal)
        return {"status": "OK", "number": number, "group_id": group.group_id,
                "line": group.line, "member_number": member,
                "participant_numbers": await self._members(group), "changed_at": iso(at)}

    async def _members(self, group: ChatGroup) -> list[str]:
        """The group's members now."""
        now = await self._database.read_async(
            lambda conn: group_store.group_by_id(conn, group.group_id))
        return list(now.members) if now is not None else []

    async def _report(self, group: ChatGroup, number: str, change: GroupChange,
                      refusal: Refusal = lambda _: None) -> None:
        """Report `change`, committed with it; a 400 if the phone left the group meanwhile,
        or the group as it is then refuses it."""
        why: str | None = None

        def step(tx: Tx) -> list[GroupChange]:
            nonlocal why
            found = group_store.group_by_id(tx, group.group_id)
            why = (f"`number` {number} is not in group {group.group_id}"
                   if found is None or number not in found.members else refusal(found))
            return [] if why else [change]

        await self._together(step)
        if why:
            raise validation_error(why)

    async def _member_group(self, account: Account, number: str, raw_id: str,
                            line: str | None = None) -> ChatGroup:
        """The account's group `raw_id`, on one of its sandbox lines (`line`, if given), with
        `number` in it."""
        group_id = raw_id.strip()
        group = await self._database.read_async(
            lambda conn: group_store.group_by_id(conn, group_id))
        if group is None or group.account_id != account.id:
            raise not_found(f"No group with id {group_id}")
        if group.line not in {line.number for line in self._phones.sandbox_lines(account)}:
            raise validation_error(f"group {group_id} is on line {group.line}, not a sandbox "
                                   "line of this account: only sandbox lines have simulated "
                                   "phones")
        if line and require_number(line, "line", recipient=False) != group.line:
            raise validation_error(f"`line` {line} is not the line of group {group_id} (its "
                                   f"line is {group.line})")
        if number not in group.members:
            raise validation_error(f"`number` {number} is not in group {group_id}")
        return group

