"""Each of an account's lines as its owner sees it: the connector serving it, whether that
connector reaches it now, and its send rate limit. The API (GET /api/v2/lines/state) and the
console's Lines page both answer from here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from ..domain.line_health import DEGRADED, OFFLINE, ONLINE, Health
from ..store.database import now_ms
from .lines import ConnectorRegistry, LineDirectory


@dataclass(frozen=True, slots=True)
class LineStatus:
    number: str
    connector: str
    online: bool
    shared: bool
    rate_limit: float | None  # sends a second; None: unlimited (sandbox lines by default)
    rate_limit_is_default: bool  # the line has no limit of its own: the connector's applies
    # ONLINE, OFFLINE, or DEGRADED: online, but its agent keeps reconnecting
    # (domain/line_health.py); when it took that status, and since when it is degraded, where
    # this process saw it happen (None otherwise).
    status: str = ONLINE
    status_changed_at: int | None = None
    degraded_since: int | None = None


async def line_states(lines: LineDirectory, registry: ConnectorRegistry,
                      account_id: int) -> list[LineStatus]:
    """The account's lines, by number."""
    known = [line for number in lines.numbers_of(account_id)
             if (line := lines.line(number)) is not None]
    online: set[str] = set()
    health: dict[str, Health] = {}
    for name, connector in registry.connectors.items():
        numbers = [line.number for line in known if line.connector == name]
        # A connector that can be away (the agent's) says which lines are served; others
        # always serve.
        online_of: Callable[[list[str]], Awaitable[set[str]]] | None = getattr(
            connector, "online", None)
        online |= set(numbers) if online_of is None else await online_of(numbers)
        # And how steadily, where it can say (the agent's: per process).
        health_of: Callable[[str], Health | None] | None = getattr(connector, "health", None)
        if health_of is not None:
            health |= {n: h for n in numbers if (h := health_of(n)) is not None}
    return [_status(LineStatus(line.number, line.connector, line.number in online, line.shared,
                               lines.rate_limit_of(line), line.rate_limit is None),
                    health.get(line.number)) for line in known]


def _status(line: LineStatus, health: Health | None) -> LineStatus:
    """The line's status: OFFLINE when its connector cannot reach it; DEGRADED when this
    process saw its agent reconnect often lately; else ONLINE. When it took that status is
    known only where this process saw it (not for a line served by another process)."""
    seen = health.status if health is not None else None
    status = OFFLINE if not line.online else DEGRADED if seen == DEGRADED else ONLINE
    if health is None or seen != status:
        return replace(line, status=status)
    return replace(line, status=status, status_changed_at=health.changed_at,
                   degraded_since=health.degraded_since)


@dataclass(frozen=True, slots=True)
class LineSnapshot:
    taken_at: int  # epoch ms: when the states were read
    lines: list[LineStatus]


async def line_snapshot(lines: LineDirectory, registry: ConnectorRegistry,
                        account_id: int) -> LineSnapshot:
    taken_at = now_ms()
    return LineSnapshot(taken_at, await line_states(lines, registry, account_id))
