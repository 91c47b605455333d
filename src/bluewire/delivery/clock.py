"""Time, as the delivery worker sees it: real by default, controllable in tests."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from ..store.leases import lease_clock_ms

if TYPE_CHECKING:
    from ..store.writer import Tx


class Clock(Protocol):
    def now_ms(self) -> int: ...

    def claim_now_ms(self, tx: Tx) -> int:
        """Now, as a claim in `tx` judges due times and leases."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def claim_now_ms(self, tx: Tx) -> int:
        # The database's clock on PostgreSQL: a process whose clock was stepped back would
        # otherwise lease deliveries until a time the others see as past, and they would take
        # them too.
        return lease_clock_ms(tx)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = start_ms if start_ms is not None else SystemClock().now_ms()

    def now_ms(self) -> int:
        return self._now

    def claim_now_ms(self, tx: Tx) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += round(seconds * 1000)
