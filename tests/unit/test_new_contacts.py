"""New-contact limits: the daily window (3 AM in New York, through DST) and when a full window
frees a slot."""

from __future__ import annotations

from datetime import UTC, datetime

from bluewire.domain.new_contacts import (
    HOUR_MS,
    NewContactLimits,
    daily_window,
    is_known,
    line_usage,
)

LIMITS = NewContactLimits(hourly=3, daily=5, lookback_days=30)


def ms(text: str) -> int:
    return round(datetime.fromisoformat(text).astimezone(UTC).timestamp() * 1000)


def test_the_day_resets_at_3_am_new_york_time_in_winter_and_summer() -> None:
    # EST (UTC-5): 3 AM is 08:00 UTC; EDT (UTC-4): 07:00 UTC.
    assert daily_window(ms("2026-01-15T12:00:00+00:00")) == (
        ms("2026-01-15T08:00:00+00:00"), ms("2026-01-16T08:00:00+00:00"))
    assert daily_window(ms("2026-07-15T06:59:00+00:00")) == (
        ms("2026-07-14T07:00:00+00:00"), ms("2026-07-15T07:00:00+00:00"))


def test_the_day_the_clocks_change_is_23_hours_long() -> None:
    # DST begins at 2 AM on 8 March: the day from 3 AM EST on the 7th to 3 AM EDT on the 8th.
    start, end = daily_window(ms("2026-03-08T05:00:00+00:00"))
    assert (start, end) == (ms("2026-03-07T08:00:00+00:00"), ms("2026-03-08T07:00:00+00:00"))
    assert end - start == 23 * HOUR_MS


def test_a_full_hour_frees_a_slot_when_its_oldest_first_contact_leaves_it() -> None:
    now = ms("2026-01-15T12:00:00+00:00")
    times = [now - 50 * 60_000, now - 20 * 60_000, now - 5 * 60_000]
    usage = line_usage(LIMITS, now, times, day_count=3)
    assert (usage.hourly.used, usage.hourly.remaining) == (3, 0)
    assert usage.hourly.next_slot_at == times[0] + HOUR_MS
    assert usage.daily.remaining == 2 and usage.daily.next_slot_at is None
    assert usage.available_at == times[0] + HOUR_MS


def test_a_full_day_frees_slots_at_the_reset() -> None:
    now = ms("2026-01-15T12:00:00+00:00")
    usage = line_usage(LIMITS, now, [now - 1000], day_count=5)
    assert usage.daily.remaining == 0
    assert usage.daily.next_slot_at == usage.resets_at == ms("2026-01-16T08:00:00+00:00")
    assert usage.available_at == usage.resets_at


def test_a_lowered_limit_waits_for_enough_first_contacts_to_leave_the_hour() -> None:
    now = ms("2026-01-15T12:00:00+00:00")
    times = [now - 40 * 60_000, now - 30 * 60_000, now - 20 * 60_000, now - 10 * 60_000]
    usage = line_usage(LIMITS, now, times, day_count=4)  # 4 used of 3
    assert usage.hourly.remaining == 0
    assert usage.hourly.next_slot_at == times[1] + HOUR_MS


def test_a_contact_is_known_within_the_lookback_only() -> None:
    now = ms("2026-01-15T12:00:00+00:00")
    assert is_known(now - 29 * 24 * HOUR_MS, now, LIMITS)
    assert not is_known(now - 30 * 24 * HOUR_MS, now, LIMITS)
    assert not is_known(None, now, LIMITS)
