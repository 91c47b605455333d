"""The analytics of a window: its closed hours and days from the rollup, summed first where
missing or changed, and its ragged ends (and whatever could not be summed) from the messages."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from ..domain.analytics import DAY_MS, HOUR_MS, BucketCounts, add_counts, add_times
from ..domain.analytics_spans import WindowSpans, split_window
from ..store import analytics as raw
from ..store import analytics_rollup as rollup
from ..store.analytics import AnalyticsFilter
from ..store.database import Database
from ..store.writer import Writer

# A span is summed only once it ended this long ago: a write that began before the hour closed
# (and so marked nothing) has committed by then, in this process or another.
CLOSED_AFTER_MS = 2 * 60_000

Answer = tuple[list[BucketCounts], dict[Any, tuple[Counter[int], Counter[int]]]]


def window_spans(flt: AnalyticsFilter, now: int) -> WindowSpans:
    if flt.tag is not None and flt.group_by == "tag":
        # by the other tags of one tag's messages: pairs of tags the rollup does not hold; the
        # tag's index reads just its messages
        return WindowSpans(raw=[(flt.since, flt.until)])
    return split_window(flt.since, flt.until, now - CLOSED_AFTER_MS,
                        days=flt.group_by != "hour")


class RolledUpAnalytics:
    def __init__(self, database: Database, writer: Writer) -> None:
        self._database = database
        self._writer = writer

    async def summarize(self, flt: AnalyticsFilter, now: int) -> Answer:
        spans = window_spans(flt, now)
        if spans.hours or spans.days:
            await self._sum_missing(flt.account_id, spans, now)
        return await self._database.read_async(lambda conn: _answer(conn, flt, spans))

    async def _sum_missing(self, account_id: int, spans: WindowSpans, now: int) -> None:
        first, end = _extent(spans)
        state = await self._database.read_async(
            lambda conn: rollup.span_state(conn, account_id, first, end))
        days = [day for day in spans.days if not state.valid(DAY_MS, day)]
        hours = {hour for hour in spans.hours if not state.valid(HOUR_MS, hour)}
        kept: set[int] = set()  # hours of those days whose summed rows are still good
        for day in days:
            for hour in range(day, day + DAY_MS, HOUR_MS):
                (kept if state.valid(HOUR_MS, hour) else hours).add(hour)
        if not hours and not days:
            return

        # a day at a time, each summed in a reader thread (seconds at a million messages: the
        # loop goes on serving meanwhile) and written in one writer transaction
        for day in sorted({hour - hour % DAY_MS for hour in hours} | set(days)):
            in_day = sorted(hour for hour in hours if day <= hour < day + DAY_MS)
            whole = day in days
            summed = await self._database.read_long(
                lambda conn, in_day=in_day, whole=whole, day=day: _sum_day(
                    conn, account_id, day, in_day, whole, kept))
            await self._writer.submit(
                lambda tx, summed=summed: rollup.save_spans(tx, account_id, state, summed, now))


def _sum_day(conn: Any, account_id: int, day: int, hours: list[int], whole: bool,
             kept: set[int]) -> dict[rollup.Span, rollup.SpanRows]:
    """The spans of `hours` of `day` summed from their messages, and the day itself if
    `whole`, from those and the `kept` hours' rows."""
    summed = rollup.hours_from_messages(conn, account_id, hours)
    spans: dict[rollup.Span, rollup.SpanRows] = {
        (HOUR_MS, hour): rows for hour, rows in summed.items()}
    if whole:
        summed.update(rollup.hours_from_rollup(
            conn, account_id, [hour for hour in range(day, day + DAY_MS, HOUR_MS)
                               if hour in kept]))
        total: rollup.SpanRows = {}
        for hour in range(day, day + DAY_MS, HOUR_MS):
            rollup.add_rows(total, summed[hour])
        spans[(DAY_MS, day)] = total
    return spans


def _extent(spans: WindowSpans) -> tuple[int, int]:
    starts = [*spans.hours, *spans.days]
    ends = [*(hour + HOUR_MS for hour in spans.hours), *(day + DAY_MS for day in spans.days)]
    return min(starts), max(ends)


def _answer(conn: Any, flt: AnalyticsFilter, spans: WindowSpans) -> Answer:
    """The rollup's sums of the valid spans, plus the messages of the rest."""
    ragged = list(spans.raw)
    hours: list[int] = []
    days: list[int] = []
    if spans.hours or spans.days:
        state = rollup.span_state(conn, flt.account_id, *_extent(spans))
        for span_ms, starts, valid in ((HOUR_MS, spans.hours, hours),
                                       (DAY_MS, spans.days, days)):
            for start in starts:
                if state.valid(span_ms, start):
                    valid.append(start)
                else:  # summed meanwhile by someone else, or changed since: read raw
                    ragged.append((start, start + span_ms))
    counts, histograms = rollup.sum_spans(conn, flt, hours, days)
    total: dict[Any, BucketCounts] = {}
    add_counts(total, counts)
    for since, until in _merged(ragged):
        found, times = raw.summarize(conn, replace(flt, since=since, until=until))
        add_counts(total, found)
        add_times(histograms, times)
    return list(total.values()), histograms


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs
