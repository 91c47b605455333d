"""Queries on follow-ups: scheduling, the worker's leased claim, its outcome, the early endings
and the account's list."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from .schema import contacts, follow_ups
from .writer import Tx

SCHEDULED, FIRED, SKIPPED, CANCELLED = "scheduled", "fired", "skipped", "cancelled"
STATES = (SCHEDULED, FIRED, SKIPPED, CANCELLED)

COLUMNS = ("id", "public_id", "account_id", "message_id", "message_handle", "line", "number",
           "group_id", "condition", "after_ms", "due_at", "action", "state", "reason",
           "claimed_until", "result_handle", "created_at", "updated_at")
_COLUMN_LIST = ", ".join(COLUMNS)


@dataclass(frozen=True, slots=True)
class FollowUp:
    id: int
    public_id: str
    account_id: int
    message_id: int
    message_handle: str
    line: str
    number: str
    group_id: str | None
    condition: str
    after_ms: int
    due_at: int
    action: str  # JSON
    state: str
    reason: str | None
    claimed_until: int | None
    result_handle: str | None
    created_at: int
    updated_at: int

    @property
    def action_value(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.action)
        return value


def add(tx: Tx, row: dict[str, Any]) -> None:
    tx.insert(follow_ups, row)


def link_message(tx: Tx, handle: str, parent_handle: str) -> None:
    """Name the parent of a message a follow-up sent (written in the same transaction)."""
    tx.query("UPDATE messages SET follow_up_of = ? WHERE handle = ? RETURNING id",
             (parent_handle, handle))


def has_scheduled(tx: Tx, account_id: int) -> bool:
    rows = tx.query("SELECT 1 FROM follow_ups WHERE account_id = ? AND state = 'scheduled' "
                    "LIMIT 1", (account_id,))
    return bool(rows)


# Due rows whose lease (if any) ran out; on PostgreSQL rows another process is claiming are
# skipped rather than waited for.
_CLAIM = (
    "UPDATE follow_ups SET claimed_until = ? WHERE id IN ("
    "SELECT id FROM follow_ups WHERE state = 'scheduled' AND due_at <= ? "
    "AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY due_at, id LIMIT ?{lock}) "
    "RETURNING id"
)
_CLAIM_SQL = {False: _CLAIM.format(lock=""), True: _CLAIM.format(lock=" FOR UPDATE SKIP LOCKED")}


def claim_due(tx: Tx, now: int, lease_until: int, limit: int) -> list[int]:
    rows = tx.query(_CLAIM_SQL[tx.is_postgresql], (lease_until, now, now, limit))
    return sorted(row[0] for row in rows)


def scheduled_for_update(tx: Tx, follow_up_id: int) -> FollowUp | None:
    """The follow-up if it is still scheduled; on PostgreSQL its row is locked until the
    outcome commits, so two processes cannot both end it."""
    lock = " FOR UPDATE" if tx.is_postgresql else ""
    rows = tx.query(f"SELECT {_COLUMN_LIST} FROM follow_ups WHERE id = ? "
                    f"AND state = 'scheduled'{lock}", (follow_up_id,))
    return FollowUp(*rows[0]) if rows else None


def postpone(tx: Tx, follow_up_id: int, due_at: int, now: int) -> None:
    tx.query("UPDATE follow_ups SET due_at = ?, claimed_until = NULL, updated_at = ? "
             "WHERE id = ? AND state = 'scheduled' RETURNING id", (due_at, now, follow_up_id))


def end(tx: Tx, follow_up_id: int, state: str, reason: str | None, result_handle: str | None,
        now: int) -> FollowUp | None:
    """End a scheduled follow-up; None if it had already ended (it never ends twice)."""
    rows = tx.query(
        "UPDATE follow_ups SET state = ?, reason = ?, result_handle = ?, claimed_until = NULL, "
        f"updated_at = ? WHERE id = ? AND state = 'scheduled' RETURNING {_COLUMN_LIST}",
        (state, reason, result_handle, now, follow_up_id))
    return FollowUp(*rows[0]) if rows else None


def end_by_parents(tx: Tx, now: int, read: Sequence[int], delivered: Sequence[int],
                   failed: Sequence[int]) -> list[FollowUp]:
    """The early endings of a batch of status changes, in one UPDATE: a READ parent ends its
    `not_read` and `not_delivered` follow-ups, a DELIVERED one its `not_delivered` ones
    (condition_false); an ERROR parent its `read` and `delivered` ones (parent_failed)."""
    clauses: list[str] = []
    params: list[Any] = []
    for ids, conditions in ((read, ("not_read", "not_delivered")),
                            (delivered, ("not_delivered",)),
                            (failed, ("read", "delivered"))):
        if ids:
            clauses.append(f"(message_id IN ({', '.join('?' * len(ids))}) "
                           f"AND condition IN ({', '.join('?' * len(conditions))}))")
            params.extend(ids)
            params.extend(conditions)
    if not clauses:
        return []
    rows = tx.query(
        "UPDATE follow_ups SET state = 'skipped', reason = CASE WHEN condition IN "
        "('read', 'delivered') THEN 'parent_failed' ELSE 'condition_false' END, "
        f"claimed_until = NULL, updated_at = ? WHERE state = 'scheduled' AND "
        f"({' OR '.join(clauses)}) RETURNING {_COLUMN_LIST}", (now, *params))
    return [FollowUp(*row) for row in rows]


def end_not_replied(tx: Tx, now: int, account_id: int, line: str, number: str,
                    group_id: str | None) -> list[FollowUp]:
    """A reply came: the conversation's `not_replied` follow-ups end (condition_false)."""
    where, params = (("group_id = ?", (group_id,)) if group_id is not None
                     else ("number = ? AND group_id IS NULL", (number,)))
    rows = tx.query(
        "UPDATE follow_ups SET state = 'skipped', reason = 'condition_false', "
        "claimed_until = NULL, updated_at = ? WHERE account_id = ? AND line = ? "
        f"AND state = 'scheduled' AND condition = 'not_replied' AND {where} "
        f"RETURNING {_COLUMN_LIST}", (now, account_id, line, *params))
    return [FollowUp(*row) for row in rows]


def cancel_for_contact(tx: Tx, now: int, account_id: int, line: str,
                       number: str) -> list[FollowUp]:
    """The contact opted out (STOP): their 1:1 follow-ups on the line are cancelled."""
    rows = tx.query(
        "UPDATE follow_ups SET state = 'cancelled', reason = 'opted_out', claimed_until = NULL, "
        "updated_at = ? WHERE account_id = ? AND line = ? AND number = ? "
        f"AND group_id IS NULL AND state = 'scheduled' RETURNING {_COLUMN_LIST}",
        (now, account_id, line, number))
    return [FollowUp(*row) for row in rows]


def inbound_after(tx: Tx, account_id: int, line: str, number: str, group_id: str | None,
                  message_id: int) -> bool:
    """Whether the contact (or, for a group, anyone in it) wrote after the message."""
    if group_id is not None:
        rows = tx.query("SELECT 1 FROM messages WHERE group_id = ? AND id > ? "
                        "AND NOT is_outbound AND account_id = ? LIMIT 1",
                        (group_id, message_id, account_id))
    else:
        rows = tx.query("SELECT 1 FROM messages WHERE account_id = ? AND number = ? "
                        "AND line = ? AND group_id IS NULL AND id > ? AND NOT is_outbound "
                        "LIMIT 1", (account_id, number, line, message_id))
    return bool(rows)


def opted_out_among(tx: Tx, account_id: int, numbers: Iterable[str]) -> set[str]:
    wanted = sorted(set(numbers))
    if not wanted:
        return set()
    rows = tx.execute(select(contacts.c.number).where(
        contacts.c.account_id == account_id, contacts.c.number.in_(wanted),
        contacts.c.opted_out.is_(True)))
    return {row[0] for row in rows}


def expire_claims(tx: Tx) -> int:
    """Make every lease run out (a single-process store at start: its holder is gone)."""
    return len(tx.query("UPDATE follow_ups SET claimed_until = NULL WHERE state = 'scheduled' "
                        "AND claimed_until IS NOT NULL RETURNING id"))


_SELECT = select(*[follow_ups.c[name] for name in COLUMNS])


def by_public_id(conn: Connection | Tx, account_id: int, public_id: str) -> FollowUp | None:
    row = conn.execute(_SELECT.where(follow_ups.c.public_id == public_id,
                                     follow_ups.c.account_id == account_id)).first()
    return FollowUp(*row) if row else None


def listed(conn: Connection, account_id: int, *, message_handle: str | None,
           state: str | None, limit: int, offset: int) -> tuple[list[FollowUp], int]:
    where = [follow_ups.c.account_id == account_id]
    if message_handle is not None:
        where.append(follow_ups.c.message_handle == message_handle)
    if state is not None:
        where.append(follow_ups.c.state == state)
    rows = conn.execute(_SELECT.where(*where).order_by(follow_ups.c.id.desc())
                        .limit(limit).offset(offset)).all()
    total = conn.execute(select(func.count()).select_from(follow_ups).where(*where)).scalar_one()
    return [FollowUp(*row) for row in rows], int(total)
