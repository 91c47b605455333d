"""A sandbox phone acting on a group chat it is in (/sandbox/phones/{number}/groups/{group_id}):
it renames the group or leaves it.

Each reaches the group's account as the network reports it (a GroupChange, recorded by
NetworkReports with the groups service's events), and each answers once that is committed, so
the group's new name or members can be read at once. Only a group of the account, on one of its
sandbox lines, that the phone is a member of.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from ..connectors.protocol import GroupChange
from ..domain.errors import not_found, validation_error
from ..domain.payloads import iso
from ..domain.wire.sandbox_groups import PhoneRenamesGroup
from ..store import groups as group_store
from ..store.accounts import Account
from ..store.database import Database, now_ms
from ..store.groups import ChatGroup
from ..store.writer import Tx
from .groups import MIN_MEMBERS_TO_REMOVE, checked_group_name
from .sandbox_phones import SandboxPhones

# The network sink's `together`: runs a step in the transaction that records its reports.
Together = Callable[[Callable[[Tx], Sequence[GroupChange]]], asyncio.Future[None]]


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
        now = await self._database.read_async(
            lambda conn: group_store.group_by_id(conn, group.group_id))
        members = list(now.members) if now is not None else []
        return {"status": "OK", "number": number, "group_id": group.group_id,
                "line": group.line, "participant_numbers": members, "left_at": iso(at)}

    async def _report(self, group: ChatGroup, number: str, change: GroupChange) -> None:
        """Report `change`, committed with it; a 400 if the phone left the group meanwhile."""
        gone = False

        def step(tx: Tx) -> list[GroupChange]:
            nonlocal gone
            found = group_store.group_by_id(tx, group.group_id)
            gone = found is None or number not in found.members
            return [] if gone else [change]

        await self._together(step)
        if gone:
            raise validation_error(f"`number` {number} is not in group {group.group_id}")

    async def _member_group(self, account: Account, number: str, raw_id: str) -> ChatGroup:
        """The account's group `raw_id`, on one of its sandbox lines, with `number` in it."""
        group_id = raw_id.strip()
        group = await self._database.read_async(
            lambda conn: group_store.group_by_id(conn, group_id))
        if group is None or group.account_id != account.id:
            raise not_found(f"No group with id {group_id}")
        if group.line not in {line.number for line in self._phones.sandbox_lines(account)}:
            raise validation_error(f"group {group_id} is on line {group.line}, not a sandbox "
                                   "line of this account: only sandbox lines have simulated "
                                   "phones")
        if number not in group.members:
            raise validation_error(f"`number` {number} is not in group {group_id}")
        return group
