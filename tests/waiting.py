"""Waiting, in async tests, for something the code under test does in its own time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def eventually(check: Callable[[], bool], within_s: float = 15.0) -> None:
    """Return once `check()` is true; AssertionError if it is not within `within_s`."""
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
