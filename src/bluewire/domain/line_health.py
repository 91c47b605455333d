"""How steadily each agent line stays connected: ONLINE, OFFLINE, or DEGRADED when its agent
keeps reconnecting (a Mac whose network or agent keeps dropping), with when its status last
changed and since when it is degraded.

Kept per process, in memory, from the connections this process has seen: a line's agent is
served by one process at a time (the line's lease, store/leases.py), and nothing of these
connections is written to the database. A process that has not seen a line's agent connect
(it is served by another, or this one restarted) knows no history of it: GET
/api/v2/lines/state then says ONLINE or OFFLINE from the leases alone, without
`status_changed_at`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

ONLINE, OFFLINE, DEGRADED = "ONLINE", "OFFLINE", "DEGRADED"
# This many connections of a line's agent within the window make the line DEGRADED; it is
# again ONLINE once fewer than that remain in the window (the oldest ages out of it).
DEGRADED_CONNECTS = 3
DEGRADED_WINDOW_MS = 10 * 60_000


@dataclass(frozen=True, slots=True)
class Health:
    status: str  # ONLINE, OFFLINE, DEGRADED
    changed_at: int | None  # epoch ms: when the line took this status
    degraded_since: int | None  # epoch ms, while DEGRADED: since when it is


@dataclass(slots=True)
class _Line:
    connects: deque[int] = field(default_factory=deque)  # within the window, oldest first
    status: str = OFFLINE
    changed_at: int | None = None
    # Since when the connections in the window have been many enough (kept through a
    # disconnection: a line back after a drop is still as unsteady as before it).
    unsteady_since: int | None = None


class LineHealth:
    def __init__(self, *, connects: int = DEGRADED_CONNECTS,
                 window_ms: int = DEGRADED_WINDOW_MS) -> None:
        self._connects = connects
        self._window_ms = window_ms
        self._lines: dict[str, _Line] = {}

    def connected(self, line: str, at: int) -> None:
        entry = self._settled(line, at)
        entry.connects.append(at)
        if entry.unsteady_since is None and len(entry.connects) >= self._connects:
            entry.unsteady_since = at
        _take(entry, ONLINE if entry.unsteady_since is None else DEGRADED, at)

    def disconnected(self, line: str, at: int) -> None:
        _take(self._settled(line, at), OFFLINE, at)

    def of(self, line: str, at: int) -> Health | None:
        """The line's health as of `at`; None when this process never saw its agent."""
        if line not in self._lines:
            return None
        entry = self._settled(line, at)
        return Health(entry.status, entry.changed_at,
                      entry.unsteady_since if entry.status == DEGRADED else None)

    def _settled(self, line: str, at: int) -> _Line:
        """The line's entry with the window moved on to `at`: an unsteady spell ends when the
        connection that made it unsteady ages out (at that moment, not at `at`)."""
        entry = self._lines.setdefault(line, _Line())
        if entry.unsteady_since is not None:
            ends = (entry.connects[-self._connects] + self._window_ms
                    if len(entry.connects) >= self._connects else at)
            if ends <= at:
                entry.unsteady_since = None
                if entry.status == DEGRADED:
                    _take(entry, ONLINE, ends)
        while entry.connects and entry.connects[0] + self._window_ms <= at:
            entry.connects.popleft()
        return entry


def _take(entry: _Line, status: str, at: int) -> None:
    if entry.status != status or entry.changed_at is None:
        entry.status, entry.changed_at = status, at
