"""New-contact limits: how many contacts a line may message for the first time, per hour and
per day.

A contact is *known* on a line when the account exchanged a 1:1 message with it there, either
way, within the lookback (30 days by default); otherwise a send to it is its *first contact*
and counts. A line may make at most `hourly` first contacts in any rolling hour and `daily`
between two daily resets, at 3 AM in New York (the carriers' day, DST included). Sandbox lines
have no limits unless the operator turns them on to rehearse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
RESET_ZONE = ZoneInfo("America/New_York")
RESET_AT = time(3, 0)


@dataclass(frozen=True, slots=True)
class NewContactLimits:
    hourly: int  # first contacts in any rolling hour
    daily: int  # first contacts between two daily resets (0: the line is paused)
    lookback_days: float  # days without a message before a contact counts as new again

    @property
    def lookback_ms(self) -> int:
        return round(self.lookback_days * DAY_MS)


def daily_window(now_ms: int) -> tuple[int, int]:
    """The daily window `now_ms` is in: (its last reset, its next reset), epoch ms."""
    local = datetime.fromtimestamp(now_ms / 1000, RESET_ZONE)
    start = datetime.combine(local.date(), RESET_AT, RESET_ZONE)
    if start > local:
        start = datetime.combine(local.date() - timedelta(days=1), RESET_AT, RESET_ZONE)
    end = datetime.combine(start.date() + timedelta(days=1), RESET_AT, RESET_ZONE)
    return round(start.timestamp() * 1000), round(end.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Window:
    """One limit's use: `used` first contacts of `limit`; `next_slot_at` (epoch ms) is when one
    more is free if none is now (the oldest leaves the rolling hour; the day resets)."""

    used: int
    limit: int
    next_slot_at: int | None

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass(frozen=True, slots=True)
class LineUsage:
    hourly: Window
    daily: Window
    resets_at: int  # the next daily reset

    @property
    def available_at(self) -> int | None:
        """When both windows have room again, if one is full now (assuming no more sends)."""
        full = [w.next_slot_at for w in (self.hourly, self.daily)
                if w.remaining == 0 and w.next_slot_at is not None]
        return max(full) if full else None


def line_usage(limits: NewContactLimits, now_ms: int, hour_times: list[int],
               day_count: int) -> LineUsage:
    """The usage of a line that made first contacts at `hour_times` (epoch ms, oldest first,
    those of the last hour) and `day_count` since the daily reset."""
    _, day_end = daily_window(now_ms)
    hour_next = None
    if 0 < limits.hourly <= len(hour_times):
        # The rolling hour frees a slot when enough of its oldest first contacts have left it.
        hour_next = hour_times[len(hour_times) - limits.hourly] + HOUR_MS
    day_next = day_end if day_count >= limits.daily else None
    return LineUsage(Window(len(hour_times), limits.hourly, hour_next),
                     Window(day_count, limits.daily, day_next), day_end)


def is_known(last_message_at: int | None, now_ms: int, limits: NewContactLimits) -> bool:
    return last_message_at is not None and now_ms - last_message_at < limits.lookback_ms
