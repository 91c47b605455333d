"""The sandbox network's state (sandbox_received, sandbox_typing): what each simulated phone
received, what it knows of it, what it does next and which process's lease covers that."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select, text

from .schema import messages, sandbox_received, sandbox_typing
from .writer import Tx

_COLUMNS = "handle, number, line, group_id, status, received_at, read_at, step, due_at, " \
    "claimed_until"


@dataclass(slots=True)
class Received:
    """One message on one phone, as the network keeps it."""

    handle: str
    number: str
    line: str
    group_id: str | None
    status: str  # what the phone knows: SENT, DELIVERED or READ
    received_at: int
    read_at: int | None
    step: str | None  # what the phone does next: deliver, read (None: nothing)
    due_at: int | None
    claimed_until: int | None  # the lease on `step`; its value is the holder's token

    @property
    def key(self) -> tuple[str, str]:
        return self.handle, self.number


_RECEIVE = (
    f"INSERT INTO sandbox_received ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (handle, number) DO UPDATE SET copies = sandbox_received.copies + 1"
)


def receive(tx: Tx, rows: Sequence[Received]) -> None:
    """The phones got these messages; one handed over twice is counted, not duplicated."""
    tx.execute_many(_RECEIVE, [(r.handle, r.number, r.line, r.group_id, r.status,
                                r.received_at, r.read_at, r.step, r.due_at, r.claimed_until)
                               for r in rows])


_ADVANCE_CHUNK = 300  # rows in one statement's VALUES list


def advance(tx: Tx, keys: Sequence[tuple[str, str, int]], step: str, status: str,
            read_at: int | None, next_step: str | None, due_at: int | None,
            claimed_until: int | None) -> list[tuple[str, str, str, str | None]]:
    """Do `step` for the rows of `keys` (handle, number, lease token) still holding it under
    that token: their new status, read time (when given) and next step. (handle, number, line,
    group_id) of each row done."""
    done: list[tuple[str, str, str, str | None]] = []
    for start in range(0, len(keys), _ADVANCE_CHUNK):
        chunk = keys[start:start + _ADVANCE_CHUNK]
        values = ", ".join(["(?, ?, ?)"] * len(chunk))
        # `handle IN (...)` has the rows found by their primary key: without it SQLite reads
        # every pending step (the partial index on step) and tests each against the list.
        done += [(h, n, line, group) for h, n, line, group in tx.query(
            "UPDATE sandbox_received SET status = ?, read_at = COALESCE(?, read_at), "
            "step = ?, due_at = ?, claimed_until = ? "
            f"WHERE handle IN ({', '.join('?' * len(chunk))}) AND step = ? "
            f"AND (handle, number, claimed_until) IN (VALUES {values}) "
            "RETURNING handle, number, line, group_id",
            (status, read_at, next_step, due_at, claimed_until,
             *(key[0] for key in chunk), step, *(value for key in chunk for value in key)))]
    return done


def contents(tx: Tx, handles: Sequence[str]) -> dict[str, str | None]:
    """The text of the messages `handles` (what an echoing phone says back)."""
    marks = ", ".join("?" * len(handles))
    return {handle: content for handle, content in tx.query(
        f"SELECT handle, content FROM messages WHERE handle IN ({marks})", handles)}


def save(tx: Tx, rows: Sequence[Received]) -> None:
    """Write back what the phones now know and do next."""
    tx.execute_many(
        "UPDATE sandbox_received SET status = ?, read_at = ?, step = ?, due_at = ?, "
        "claimed_until = ? WHERE handle = ? AND number = ?",
        [(r.status, r.read_at, r.step, r.due_at, r.claimed_until, r.handle, r.number)
         for r in rows])


def held(tx: Tx, number: str, line: str, account_id: int,
         statuses: Sequence[str]) -> list[Received]:
    """What `number` holds from `line` of `account_id`'s messages in `statuses`, oldest first,
    locked as `lock` does."""
    marks = ", ".join("?" * len(statuses))
    lock = " FOR UPDATE OF r" if tx.is_postgresql else ""
    rows = tx.query(
        f"SELECT {', '.join('r.' + c for c in _COLUMNS.split(', '))} "
        "FROM sandbox_received r JOIN messages m ON m.handle = r.handle "
        f"WHERE r.number = ? AND r.line = ? AND m.account_id = ? AND r.status IN ({marks}) "
        f"ORDER BY r.received_at, r.handle{lock}", (number, line, account_id, *statuses))
    return [Received(*row) for row in rows]


_CLAIM = (
    "UPDATE sandbox_received SET claimed_until = ? "
    "WHERE (handle, number) IN (SELECT handle, number FROM sandbox_received "
    "WHERE step IS NOT NULL AND claimed_until <= ? ORDER BY claimed_until LIMIT ?{lock}) "
    f"RETURNING {_COLUMNS}"
)


def claim_orphans(tx: Tx, now: int, lease_until: int, limit: int) -> list[Received]:
    """Take the steps whose lease ran out (their process died or let them go)."""
    sql = _CLAIM.format(lock=" FOR UPDATE SKIP LOCKED" if tx.is_postgresql else "")
    return [Received(*row) for row in tx.query(sql, (lease_until, now, limit))]


def release(tx: Tx, leases: Sequence[tuple[str, str, int]]) -> None:
    """Let (handle, number, token) go: claimable by any process once due."""
    tx.execute_many("UPDATE sandbox_received SET claimed_until = due_at "
                    "WHERE handle = ? AND number = ? AND claimed_until = ?", leases)


def expire_all(tx: Tx) -> None:
    """End every lease (a single-process store at start: their holder is gone)."""
    tx.execute_many("UPDATE sandbox_received SET claimed_until = 0 "
                    "WHERE step IS NOT NULL AND claimed_until > ?", [(0,)])


def of_handle(conn: Connection, handle: str) -> list[Received]:
    return [Received(*row) for row in conn.execute(text(
        f"SELECT {_COLUMNS} FROM sandbox_received WHERE handle = :handle ORDER BY number"),
        {"handle": handle})]


def set_typing(tx: Tx, number: str, line: str, side: str, is_typing: bool, at_ms: int) -> None:
    tx.execute_many(
        "INSERT INTO sandbox_typing (number, line, side, is_typing, at_ms) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (number, line, side) DO UPDATE SET "
        "is_typing = excluded.is_typing, at_ms = excluded.at_ms",
        [(number, line, side, is_typing, at_ms)])


# -- the phone's view (reads) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhoneReceived:
    handle: str
    line: str
    content: str | None
    media_url: str | None
    status: str
    received_at: int
    read_at: int | None
    group_id: str | None
    reply_to: str | None


@dataclass(frozen=True, slots=True)
class PhoneSentRow:
    line: str
    content: str | None
    media_url: str | None
    service: str | None
    at_ms: int
    group_id: str | None
    reply_to: str | None


def received_page(conn: Connection, account_id: int, number: str, lines: Sequence[str],
                  before: int | None, limit: int) -> list[PhoneReceived]:
    """The latest `limit` of `account_id`'s messages on `lines` that `number` received (before
    `before`, when given), newest first."""
    if not lines:
        return []
    got, message = sandbox_received.c, messages.c
    rows = conn.execute(
        select(got.handle, got.line, message.content, message.media_url, got.status,
               got.received_at, got.read_at, got.group_id, message.reply_to)
        .join_from(sandbox_received, messages, message.handle == got.handle)
        .where(got.number == number, got.line.in_(lines), message.account_id == account_id,
               got.received_at < _before(before))
        .order_by(got.received_at.desc(), got.handle.desc()).limit(limit))
    return [PhoneReceived(*row) for row in rows]


def sent_page(conn: Connection, account_id: int, number: str, lines: Sequence[str],
              before: int | None, limit: int) -> list[PhoneSentRow]:
    """The latest `limit` messages `number` sent that became `account_id`'s inbound messages
    on `lines` (before `before`, when given), newest first."""
    if not lines:
        return []
    message = messages.c
    rows = conn.execute(
        select(message.line, message.content, message.media_url, message.service,
               message.created_at, message.group_id, message.reply_to)
        .where(message.account_id == account_id, message.number == number,
               message.line.in_(lines), message.is_outbound.is_(False),
               message.created_at < _before(before))
        .order_by(message.created_at.desc(), message.id.desc()).limit(limit))
    return [PhoneSentRow(*row) for row in rows]


def typing_of(conn: Connection, number: str,
              lines: Sequence[str]) -> list[tuple[str, str, bool, int]]:
    """(line, side, is_typing, at) of `number`'s conversations with `lines`."""
    if not lines:
        return []
    typing = sandbox_typing.c
    rows = conn.execute(select(typing.line, typing.side, typing.is_typing, typing.at_ms)
                        .where(typing.number == number, typing.line.in_(lines)))
    return [(line, side, bool(is_typing), at) for line, side, is_typing, at in rows]


def _before(before: int | None) -> int:
    return before if before is not None else 2**62
