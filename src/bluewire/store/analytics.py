"""What happened to an account's outbound messages of a time window, summed by the store.

A scan of the window's messages that reads ix_messages_outcomes alone, each joined to its
group receipts (a group message: one row per participant) and, grouped by tag, to its tags. The
counts are summed in SQL; the times to deliver and to read come back as values, for the
percentiles to be computed the same way whatever the store (domain/analytics.py). The same
conditions, grouped by hour, line, campaign, service and tag, make the rollup's rows
(analytics_rollup.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal_column, not_, null, or_, select

from ..domain.analytics import DAY_MS, HOUR_MS, BucketCounts
from .schema import message_receipts, message_tags, messages

_SENT = ("SENT", "DELIVERED", "READ")
_DELIVERED = ("DELIVERED", "READ")
_ERRORED = ("ERROR", "DECLINED")


@dataclass(frozen=True, slots=True)
class AnalyticsFilter:
    account_id: int
    since: int  # created at or after (epoch ms)
    until: int  # created before
    line: str | None = None
    campaign: str | None = None
    tag: str | None = None
    service: str | None = None
    group_by: str | None = None


def summarize(conn: Connection, flt: AnalyticsFilter
              ) -> tuple[list[BucketCounts], list[tuple[Any, int, int | None]]]:
    """Each bucket's counts, and (bucket key, ms to deliver, ms to read or None) of every
    delivered recipient whose message has a sent time."""
    m, r, t = messages.c, message_receipts.c, message_tags.c
    conditions = [m.account_id == flt.account_id, m.is_outbound.is_(True),
                  m.created_at >= flt.since, m.created_at < flt.until]
    if flt.line is not None:
        conditions.append(m.line == flt.line)
    if flt.campaign is not None:
        conditions.append(m.campaign == flt.campaign)
    if flt.service is not None:
        conditions.append(m.service == flt.service)
    source: Any = messages
    if flt.tag is not None:  # read from the tag's index: the few messages it names
        alias = message_tags.alias("tagged")
        tagged = alias.c
        source = source.join(alias, and_(
            tagged.message_id == m.id, tagged.account_id == flt.account_id,
            tagged.tag == flt.tag, tagged.created_at >= flt.since,
            tagged.created_at < flt.until))
    source = source.outerjoin(message_receipts, r.message_id == m.id)
    if flt.group_by == "tag":
        source = source.outerjoin(message_tags, t.message_id == m.id)
    key = {
        None: null(),
        "line": m.line,
        "campaign": m.campaign,
        "service": m.service,
        "tag": t.tag,
        "day": m.created_at - m.created_at % DAY_MS,
        "hour": m.created_at - m.created_at % HOUR_MS,
    }[flt.group_by].label("key")

    o = _outcomes()
    totals = select(key, *o.counts).select_from(source).where(*conditions)
    if flt.group_by is not None:
        totals = totals.group_by(key)
    buckets = [BucketCounts(row[0], *(value or 0 for value in row[1:]))
               for row in conn.execute(totals)]

    times = select(key, *o.times).select_from(source).where(*conditions, *o.timed)
    return buckets, driver_rows(conn, times)


@dataclass(frozen=True, slots=True)
class _Outcomes:
    counts: tuple[Any, ...]  # the columns of BucketCounts after its key
    times: tuple[Any, ...]  # ms to deliver, ms to read or NULL
    timed: tuple[Any, ...]  # the conditions of a row with times


def _outcomes() -> _Outcomes:
    """What each recipient row (a message joined to its receipts) counts as."""
    m, r = messages.c, message_receipts.c
    # A 1:1 message has no receipt rows; a group message one per participant, whose delivery,
    # read and reply are its own.
    one, group = r.message_id.is_(None), r.message_id.is_not(None)
    errored = m.status.in_(_ERRORED)
    sent = m.status.in_(_SENT)
    delivered = and_(not_(errored), or_(
        and_(one, m.status.in_(_DELIVERED)),
        and_(group, or_(r.delivered_at.is_not(None), r.read_at.is_not(None)))))
    read = and_(not_(errored), or_(and_(one, m.status == "READ"),
                                   and_(group, r.read_at.is_not(None))))
    replied = and_(sent, or_(and_(one, m.replied_at.is_not(None)),
                             and_(group, r.replied_at.is_not(None))))
    final_at_sent = and_(m.status == "SENT", m.service == "SMS")

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    # A group message's `number` is its first participant: exactly one of its rows has it.
    first = or_(one, r.number == m.number)
    delivered_at = case((group, r.delivered_at), else_=m.delivered_at)
    read_at = case((group, r.read_at), else_=m.read_at)
    return _Outcomes(
        counts=(count(first), func.count(), count(sent), count(delivered), count(read),
                count(errored), count(final_at_sent), count(replied)),
        times=(func.coalesce(delivered_at, read_at) - m.sent_at,
               case((read, read_at - m.sent_at), else_=None)),
        timed=(delivered, m.sent_at.is_not(None)))


@dataclass(frozen=True, slots=True)
class HourRows:
    """One hour's counts by (line, campaign, service, tag), the tag '' the total over all
    tags and None the messages without one; and the times of its delivered recipients, by
    the same key."""

    counts: list[tuple[Any, ...]]  # (hour, line, campaign, service, tag, *BucketCounts)
    times: list[tuple[Any, ...]]  # (hour, line, campaign, service, tag, deliver, read)


def hour_rows(conn: Connection, account_id: int, start: int, end: int) -> HourRows:
    """What the outbound messages of the whole hours in [start, end) count, by hour."""
    m, t = messages.c, message_tags.c
    o = _outcomes()
    none = literal_column("''")
    keys = ((m.created_at - m.created_at % HOUR_MS).label("k_hour"), m.line.label("k_line"),
            func.coalesce(m.campaign, none).label("k_campaign"),
            func.coalesce(m.service, none).label("k_service"))
    conditions = (m.account_id == account_id, m.is_outbound.is_(True),
                  m.created_at >= start, m.created_at < end)
    plain = messages.outerjoin(message_receipts, message_receipts.c.message_id == m.id)
    tagged = plain.outerjoin(message_tags, t.message_id == m.id)
    counts: list[tuple[Any, ...]] = []
    times: list[tuple[Any, ...]] = []
    tag = t.tag.label("k_tag")
    for source, columns, grouped in ((plain, (*keys, none.label("k_tag")), keys),
                                     (tagged, (*keys, tag), (*keys, tag))):
        counts.extend(driver_rows(conn, select(*columns, *o.counts).select_from(source)
                                   .where(*conditions).group_by(*grouped)))
        times.extend(driver_rows(conn, select(*columns, *o.times).select_from(source)
                                  .where(*conditions, *o.timed)))
    return HourRows(counts, times)


def driver_rows(conn: Connection, statement: Any) -> list[tuple[Any, ...]]:
    """The rows of `statement` as the database driver gives them: tens of thousands of rows
    come back twice as fast as through SQLAlchemy's result rows."""
    compiled = statement.compile(dialect=conn.dialect,
                                 compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        return cursor.fetchall()
    finally:
        cursor.close()
