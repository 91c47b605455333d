"""Each of an account's lines as its owner sees it: the connector serving it, whether that
connector reaches it now, and its send rate limit. The API (GET /api/v2/lines/state) and the
console's Lines page both answer from here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

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


async def line_states(lines: LineDirectory, registry: ConnectorRegistry,
                      account_id: int) -> list[LineStatus]:
    """The account's lines, by number."""
    known = [line for number in lines.numbers_of(account_id)
             if (line := lines.line(number)) is not None]
    online: set[str] = set()
    for name, connector in registry.connectors.items():
        numbers = [line.number for line in known if line.connector == name]
        # A connector that can be away (the agent's) says which lines are served; others
        # always serve.
        online_of: Callable[[list[str]], Awaitable[set[str]]] | None = getattr(
            connector, "online", None)
        online |= set(numbers) if online_of is None else await online_of(numbers)
    return [LineStatus(line.number, line.connector, line.number in online, line.shared,
                       lines.rate_limit_of(line), line.rate_limit is None) for line in known]


@dataclass(frozen=True, slots=True)
class LineSnapshot:
    taken_at: int  # epoch ms: when the states were read
    lines: list[LineStatus]


async def line_snapshot(lines: LineDirectory, registry: ConnectorRegistry,
                        account_id: int) -> LineSnapshot:
    taken_at = now_ms()
    return LineSnapshot(taken_at, await line_states(lines, registry, account_id))
