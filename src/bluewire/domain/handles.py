"""Message handles: time-ordered UUIDs (version 7, RFC 9562).

A handle is still a UUID and still unique (74 random bits), but handles made one after another
sort one after another, so each new message appends to the end of the handle index instead of
dirtying a random page of it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

_BATCH = 4096  # handles' worth of random bits drawn at once


class _RandomPool(threading.local):
    """Random bits drawn from the OS in large batches, as hex: one `os.urandom` call (which
    releases the GIL) per 4096 handles instead of one per handle. One pool per thread (the
    PostgreSQL writer makes ids in a thread of its own), so no two callers ever take the same
    bits."""

    def __init__(self) -> None:
        self.chunks: Iterator[str] = iter(())

    def refill(self) -> str:
        digits = os.urandom(10 * _BATCH).hex()
        self.chunks = iter([digits[i:i + 20] for i in range(0, len(digits), 20)])
        return next(self.chunks)


_pool = _RandomPool()
# The variant nibble: binary 10xx, its two low bits random (any hex digit picks one of four).
_VARIANT = "89ab" * 4


def new_handle() -> str:
    """A UUIDv7: 48 bits of epoch milliseconds, the version, 12 random bits, the variant and 62
    random bits, formatted as str(uuid.UUID(...)) would (built as text: this runs for every
    message and event)."""
    pool = _pool
    random = next(pool.chunks, None) or pool.refill()
    millis = f"{time.time_ns() // 1_000_000:012x}"
    return (f"{millis[:8]}-{millis[8:]}-7{random[:3]}-{_VARIANT[int(random[3], 16)]}"
            f"{random[4:7]}-{random[7:19]}")


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
