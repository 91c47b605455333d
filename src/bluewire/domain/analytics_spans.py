"""How an analytics window splits into spans summed ahead of time and ragged ends read raw.

[since, until) becomes: a raw head up to the first hour boundary; whole hours up to the first
day boundary; whole UTC days; whole hours after the last day boundary; and a raw tail. Only a
span that ended before `closed_before` (an hour boundary, or earlier) is summed ahead of time:
the newest hour still changes with every send, and stays raw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .analytics import DAY_MS, HOUR_MS


@dataclass(frozen=True, slots=True)
class WindowSpans:
    raw: list[tuple[int, int]] = field(default_factory=list)  # [start, end) read raw
    hours: list[int] = field(default_factory=list)  # starts of whole hours
    days: list[int] = field(default_factory=list)  # starts of whole UTC days


def _ceil(moment: int, unit: int) -> int:
    return -(-moment // unit) * unit


def split_window(since: int, until: int, closed_before: int, *, days: bool = True
                 ) -> WindowSpans:
    """The spans of [since, until); without `days`, whole hours only (grouping by hour)."""
    first = _ceil(since, HOUR_MS)
    last = min(until, closed_before) // HOUR_MS * HOUR_MS
    if first >= last:
        return WindowSpans(raw=[(since, until)])
    raw = [(since, first)] if since < first else []
    if last < until:
        raw.append((last, until))
    day_first, day_last = _ceil(first, DAY_MS), last // DAY_MS * DAY_MS
    if not days or day_first >= day_last:
        return WindowSpans(raw=raw, hours=list(range(first, last, HOUR_MS)))
    hours = [*range(first, day_first, HOUR_MS), *range(day_last, last, HOUR_MS)]
    return WindowSpans(raw=raw, hours=hours, days=list(range(day_first, day_last, DAY_MS)))
