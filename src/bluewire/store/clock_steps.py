"""A step back of the wall clock under a single-process (SQLite) store.

An NTP correction may step the wall clock back. What was stored by the old clock as due, or
leased, until later (a webhook's first attempt or a retry, a dispatch lease, a follow-up) would
then wait the step's length on top: an hour's step held a webhook written just before it for an
hour. The store's writer asks `StepWatch` before each transaction, and a step it notices is
undone on those times (`move_back`) ahead of anything the new clock writes.

On PostgreSQL leases and due times are judged by the database's clock (`leases.lease_clock_ms`):
there, one process's step is not the others'.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .writer import Tx

# The wall clock's offset from CLOCK_MONOTONIC drifts by far less between two transactions; a
# step back of less than this is not worth a write.
_STEP_MS = 1000


def _offset_ms() -> int:
    return (time.time_ns() - time.monotonic_ns()) // 1_000_000


class StepWatch:
    """Notices the wall clock stepped back, against CLOCK_MONOTONIC (which steps leave alone)."""

    def __init__(self) -> None:
        self._offset = _offset_ms()
        self._seen = self._offset

    def stepped_back_ms(self) -> int:
        """How far the wall clock was stepped back since the last step `moved()` (0: not
        noticeably)."""
        self._seen = _offset_ms()
        step = self._offset - self._seen
        if step < 0:  # forward: nothing stored waits longer for it
            self._offset = self._seen
        return step if step >= _STEP_MS else 0

    @property
    def offset_ms(self) -> int:
        """The wall clock's offset from CLOCK_MONOTONIC when last asked: a transaction reads
        its clock as CLOCK_MONOTONIC plus this, so a step in the middle of it is not half
        seen (its times, by the clock before the step, are moved back with the rest)."""
        return self._seen

    def moved(self) -> None:
        """The step last noticed was undone in the store (committed)."""
        self._offset = self._seen


_MOVE_BACK = (
    "UPDATE deliveries SET next_attempt_at = next_attempt_at - ? "
    "WHERE state = 'pending' AND next_attempt_at > ?",
    "UPDATE deliveries SET claimed_until = claimed_until - ? "
    "WHERE state = 'pending' AND claimed_until > ?",
    "UPDATE messages SET claimed_until = claimed_until - ? WHERE claimed_until > ?",
    "UPDATE follow_ups SET due_at = due_at - ? WHERE state = 'scheduled' AND due_at > ?",
    "UPDATE follow_ups SET claimed_until = claimed_until - ? "
    "WHERE state = 'scheduled' AND claimed_until > ?",
    "UPDATE reactions SET due_at = due_at - ? WHERE state = 'queued' AND due_at > ?",
)


def move_back(tx: Tx, step_ms: int) -> None:
    """The clock was stepped back `step_ms`: what was stored as due (or leased) until later is
    due that much sooner, as if the new clock had written it."""
    now = time.time_ns() // 1_000_000
    for statement in _MOVE_BACK:
        tx.execute_many(statement, [(step_ms, now)])
