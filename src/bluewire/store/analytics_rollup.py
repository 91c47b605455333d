"""The analytics rollup: closed hours and UTC days summed once, read as a few rows each.

A span's rows hold what its outbound messages count (store/analytics.py's conditions), by line,
campaign, service and tag, with histograms of the times to deliver and to read. The same counts
are also kept summed over every line, campaign and service (NULL in those columns), and by one
of them alone: the percentiles come from histograms added up row by row, so a question that
neither filters nor groups by them reads one row per span instead of one per combination. A
span is used
only while analytics_spans has it and no hour inside it is marked in analytics_dirty
(analytics_dirty.py). Spans are summed again, and written with the marks they answer cleared, in
one writer transaction that first checks nothing changed since they were read: a span someone
else summed meanwhile, or a mark bumped meanwhile, leaves that span as it is.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, literal_column, null, or_, select

from ..domain.analytics import DAY_MS, HOUR_MS, BucketCounts, to_bin
from .analytics import AnalyticsFilter, driver_rows, hour_rows
from .schema import analytics_rollup
from .writer import Tx

# An advisory lock's key (with the account's id): one process at a time writes an account's
# spans on PostgreSQL, so the check before the write still holds when it is written.
_ROLLUP_LOCK = 0x616E6C79 << 31

# line, campaign, service (None: all of them), tag ('': all of them, None: the untagged)
RowKey = tuple[str | None, str | None, str | None, str | None]
Histograms = tuple[Counter[int], Counter[int]]


@dataclass(slots=True)
class Sums:
    counts: list[int]  # the numbers of BucketCounts, in its order
    to_deliver: Counter[int]
    to_read: Counter[int]


SpanRows = dict[RowKey, Sums]
Span = tuple[int, int]  # (span_ms, span_start)


@dataclass(frozen=True, slots=True)
class SpanState:
    spans: dict[Span, int]  # the summed spans: computed_at
    dirty: dict[int, int]  # the marked hours: version

    def valid(self, span_ms: int, start: int) -> bool:
        return (span_ms, start) in self.spans and not any(
            hour in self.dirty for hour in range(start, start + span_ms, HOUR_MS))

    def same(self, other: SpanState, span: Span) -> bool:
        """Whether `span`, and the marks of its hours, are as in `other`."""
        span_ms, start = span
        return self.spans.get(span) == other.spans.get(span) and all(
            self.dirty.get(hour) == other.dirty.get(hour)
            for hour in range(start, start + span_ms, HOUR_MS))


def _rows(conn: Connection | Tx, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
    if isinstance(conn, Tx):
        return conn.query(sql, parameters)
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, tuple(parameters))
        return cursor.fetchall()
    finally:
        cursor.close()


def span_state(conn: Connection | Tx, account_id: int, start: int, end: int) -> SpanState:
    """The summed spans starting in [start, end), and the marked hours in it."""
    spans = _rows(conn, "SELECT span_ms, span_start, computed_at FROM analytics_spans "
                        "WHERE account_id = ? AND span_start >= ? AND span_start < ?",
                  (account_id, start, end))
    dirty = _rows(conn, "SELECT hour_start, version FROM analytics_dirty "
                        "WHERE account_id = ? AND hour_start >= ? AND hour_start < ?",
                  (account_id, start, end))
    return SpanState({(row[0], row[1]): row[2] for row in spans},
                     {row[0]: row[1] for row in dirty})


def ranges(starts: Sequence[int], step: int) -> list[tuple[int, int]]:
    """Ascending span starts as the fewest [start, end) runs."""
    runs: list[tuple[int, int]] = []
    for start in sorted(starts):
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], start + step)
        else:
            runs.append((start, start + step))
    return runs


def hours_from_messages(conn: Connection, account_id: int, hours: Sequence[int]
                        ) -> dict[int, SpanRows]:
    """Each hour's rows, summed from its messages (an hour without messages has none)."""
    summed: dict[int, SpanRows] = {hour: {} for hour in hours}
    for start, end in ranges(hours, HOUR_MS):
        found = hour_rows(conn, account_id, start, end)
        for hour, line, campaign, service, tag, *counts in found.counts:
            summed[hour][(line, campaign, service, tag)] = Sums(
                [value or 0 for value in counts], Counter(), Counter())
        for hour, line, campaign, service, tag, deliver_ms, read_ms in found.times:
            sums = summed[hour][(line, campaign, service, tag)]
            sums.to_deliver[to_bin(deliver_ms)] += 1
            if read_ms is not None:
                sums.to_read[to_bin(read_ms)] += 1
    for rows in summed.values():
        add_rows(rows, _coarser(rows))
    return summed


def _coarser(rows: SpanRows) -> SpanRows:
    """The rows summed over every line, campaign and service, and by each of them alone; the
    tags' rows over every line, campaign and service."""
    coarser: SpanRows = {}
    for (line, campaign, service, tag), sums in rows.items():
        keys: tuple[RowKey, ...] = (
            ((None, None, None, ""), (line, None, None, ""), (None, campaign, None, ""),
             (None, None, service, "")) if tag == "" else ((None, None, None, tag),))
        for key in keys:
            add_rows(coarser, {key: sums})
    return coarser


def hours_from_rollup(conn: Connection, account_id: int, hours: Sequence[int]
                      ) -> dict[int, SpanRows]:
    """Each hour's rows as the rollup holds them."""
    summed: dict[int, SpanRows] = {hour: {} for hour in hours}
    for start, end in ranges(hours, HOUR_MS):
        for row in _rows(conn, "SELECT span_start, line, campaign, service, tag, messages, "
                               "recipients, sent, delivered, read, errored, final_at_sent, "
                               "replied, to_deliver, to_read FROM analytics_rollup "
                               "WHERE account_id = ? AND span_ms = ? AND span_start >= ? "
                               "AND span_start < ?", (account_id, HOUR_MS, start, end)):
            summed[row[0]][(row[1], row[2], row[3], row[4])] = Sums(
                list(row[5:13]), _decode(row[13]), _decode(row[14]))
    return summed


def add_rows(total: SpanRows, rows: SpanRows) -> None:
    for key, sums in rows.items():
        known = total.get(key)
        if known is None:
            total[key] = Sums(list(sums.counts), Counter(sums.to_deliver),
                              Counter(sums.to_read))
        else:
            known.counts = [a + b for a, b in zip(known.counts, sums.counts, strict=True)]
            known.to_deliver.update(sums.to_deliver)
            known.to_read.update(sums.to_read)


def _encode(bins: Counter[int]) -> str:
    return json.dumps({str(value): bins[value] for value in sorted(bins)}, separators=(",", ":"))


def _decode(text: str) -> Counter[int]:
    return Counter({int(value): count for value, count in json.loads(text).items()})


_INSERT = (
    "INSERT INTO analytics_rollup (account_id, span_start, span_ms, line, campaign, service, "
    "tag, messages, recipients, sent, delivered, read, errored, final_at_sent, replied, "
    "to_deliver, to_read) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_SPAN = (
    "INSERT INTO analytics_spans (account_id, span_ms, span_start, computed_at) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (account_id, span_ms, span_start) "
    "DO UPDATE SET computed_at = excluded.computed_at"
)
_DELETE_ROWS = ("DELETE FROM analytics_rollup "
                "WHERE account_id = ? AND span_ms = ? AND span_start = ?")
_DELETE_SPAN = ("DELETE FROM analytics_spans "
                "WHERE account_id = ? AND span_ms = ? AND span_start = ?")
_CLEAR_MARK = ("DELETE FROM analytics_dirty "
               "WHERE account_id = ? AND hour_start = ? AND version = ?")


def save_spans(tx: Tx, account_id: int, read: SpanState, summed: dict[Span, SpanRows],
               now: int) -> int:
    """Write the spans summed from what `read` saw, unless they or their hours' marks changed
    since; clear the marks they answer. The number of spans written."""
    if not summed:
        return 0
    if tx.is_postgresql:
        tx.query(f"SELECT pg_advisory_xact_lock({_ROLLUP_LOCK + account_id})")
    first = min(span_start for _, span_start in summed)
    end = max(span_start + span_ms for span_ms, span_start in summed)
    current = span_state(tx, account_id, first, end)
    written = [span for span in summed if current.same(read, span)]
    cleared = [(account_id, start, read.dirty[start]) for span_ms, start in written
               if span_ms == HOUR_MS and start in read.dirty]
    # A day holding a cleared hour is stale unless it is written now: it is summed again later.
    stale = {hour - hour % DAY_MS for _, hour, _ in cleared} - {
        start for span_ms, start in written if span_ms == DAY_MS}
    tx.execute_many(_DELETE_ROWS, [(account_id, DAY_MS, day) for day in sorted(stale)])
    tx.execute_many(_DELETE_SPAN, [(account_id, DAY_MS, day) for day in sorted(stale)])
    tx.execute_many(_CLEAR_MARK, cleared)
    tx.execute_many(_UPSERT_SPAN, [(account_id, span_ms, start, now)
                                   for span_ms, start in written])
    tx.execute_many(_DELETE_ROWS, [(account_id, span_ms, start) for span_ms, start in written])
    tx.execute_many(_INSERT, [
        (account_id, start, span_ms, *key, *sums.counts, _encode(sums.to_deliver),
         _encode(sums.to_read))
        for span_ms, start in written for key, sums in summed[(span_ms, start)].items()])
    return len(written)


def sum_spans(conn: Connection, flt: AnalyticsFilter, hours: Sequence[int],
              days: Sequence[int]) -> tuple[list[BucketCounts], dict[Any, Histograms]]:
    """The buckets of `flt` over the rollup's rows of these hours and days: the counts summed
    in SQL, the histograms added up here."""
    a = analytics_rollup.c
    spans = [and_(a.span_ms == span_ms, a.span_start >= start, a.span_start < end)
             for span_ms, starts in ((HOUR_MS, hours), (DAY_MS, days))
             for start, end in ranges(starts, span_ms)]
    if not spans:
        return [], {}
    conditions = [a.account_id == flt.account_id, or_(*spans)]
    wanted = {"line": flt.line, "campaign": flt.campaign, "service": flt.service}
    kept = {name for name, value in wanted.items() if value is not None or flt.group_by == name}
    by_tag = flt.tag is not None or flt.group_by == "tag"
    every = len(kept) > (0 if by_tag else 1)  # the rows of each line, campaign and service
    for name, value in wanted.items():
        column = a[name]
        if every or name in kept:
            conditions.append(column.is_not(None) if value is None else column == value)
        else:
            conditions.append(column.is_(None))
    if flt.tag is not None:
        conditions.append(a.tag == flt.tag)
    elif flt.group_by == "tag":  # each tag's rows, and the untagged messages' (NULL)
        conditions.append(or_(a.tag.is_(None), a.tag != ""))
    else:
        conditions.append(a.tag == "")
    none = literal_column("''")
    key = {
        None: null(),
        "line": a.line,
        "campaign": func.nullif(a.campaign, none),
        "service": func.nullif(a.service, none),
        "tag": a.tag,
        "day": a.span_start - a.span_start % DAY_MS,
        "hour": a.span_start,
    }[flt.group_by].label("key")
    totals = select(key, *(func.sum(column) for column in (
        a.messages, a.recipients, a.sent, a.delivered, a.read, a.errored, a.final_at_sent,
        a.replied))).where(*conditions)
    if flt.group_by is not None:
        totals = totals.group_by(key)
    counts = [BucketCounts(row[0], *(int(value or 0) for value in row[1:]))
              for row in driver_rows(conn, totals)]
    merged: dict[Any, tuple[dict[str, int], dict[str, int]]] = {}
    for found, deliver, read in driver_rows(conn, select(key, a.to_deliver, a.to_read)
                                            .where(*conditions)):
        pair = merged.get(found)
        if pair is None:
            pair = merged[found] = ({}, {})
        for into, text in ((pair[0], deliver), (pair[1], read)):
            if len(text) > 2:
                for value, count in json.loads(text).items():
                    into[value] = into.get(value, 0) + count
    histograms = {found: (Counter({int(v): c for v, c in pair[0].items()}),
                          Counter({int(v): c for v, c in pair[1].items()}))
                  for found, pair in merged.items()}
    return counts, histograms
