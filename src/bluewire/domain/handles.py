"""Message handles: time-ordered UUIDs (version 7, RFC 9562).

A handle is still a UUID and still unique (74 random bits), but handles made one after another
sort one after another, so each new message appends to the end of the handle index instead of
dirtying a random page of it.
"""

from __future__ import annotations

import os
import threading
import time

_BATCH = 10 * 4096


class _RandomPool(threading.local):
    """Random bytes drawn from the OS in large batches: one `os.urandom` call (which releases the
    GIL) per 4096 handles instead of one per handle. One pool per thread (the PostgreSQL writer
    makes ids in a thread of its own), so no two callers ever take the same bytes."""

    def __init__(self) -> None:
        self._buffer = b""
        self._offset = 0

    def take10(self) -> int:
        if self._offset + 10 > len(self._buffer):
            self._buffer = os.urandom(_BATCH)
            self._offset = 0
        start = self._offset
        self._offset = start + 10
        return int.from_bytes(self._buffer[start:start + 10])


_pool = _RandomPool()
_RAND_A_BITS = 12
_RAND_B_BITS = 62


def new_handle() -> str:
    random = _pool.take10()
    rand_a = random & ((1 << _RAND_A_BITS) - 1)
    rand_b = (random >> _RAND_A_BITS) & ((1 << _RAND_B_BITS) - 1)
    value = ((time.time_ns() // 1_000_000) << 80) | (0x7 << 76) | (rand_a << 64) \
        | (0b10 << 62) | rand_b
    digits = f"{value:032x}"  # what str(uuid.UUID(int=value)) gives, without its validation
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def new_event_id() -> str:
    """The public id of an event: the stream's event id and every webhook's `webhook-id`."""
    return "evt_" + new_handle().replace("-", "")


def event_time_ms(event_id: str) -> int | None:
    """When an event was recorded (epoch ms): the time in its UUIDv7 id; None if not one."""
    digits = event_id.removeprefix("evt_")[:12]
    try:
        return int(digits, 16) if len(digits) == 12 else None
    except ValueError:
        return None
