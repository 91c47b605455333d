"""Waiting, in async tests, for what the code under test does in its own time, and counting
what its workers claim meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


async def eventually(check: Callable[[], bool], within_s: float = 15.0) -> None:
    """Return once `check()` is true; AssertionError if it is not within `within_s`."""
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def count_taken(claim: Callable[..., list[Any]]) -> tuple[Callable[..., list[Any]], list[int]]:
    """`claim` wrapped to note how many items each call took, and the list it notes them in:
    put the wrapper where the worker looks its claim up."""
    taken: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> list[Any]:
        found = claim(*args, **kwargs)
        taken.append(len(found))
        return found
    return counted, taken
