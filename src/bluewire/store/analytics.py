"""The recipients of an account's outbound messages in a time window, for the analytics."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, exists, select

from ..domain.analytics import REPLY_WINDOW_MS, Recipient
from .schema import message_receipts, message_tags, messages


@dataclass(frozen=True, slots=True)
class AnalyticsFilter:
    account_id: int
    since: int  # created at or after (epoch ms)
    until: int  # created before
    line: str | None = None
    campaign: str | None = None
    tag: str | None = None
    service: str | None = None


def recipients(conn: Connection, flt: AnalyticsFilter) -> list[Recipient]:
    """Every recipient of the outbound messages `flt` selects: a 1:1 message's number, each
    participant of a group message, with whether they wrote back within 24 hours."""
    m = messages.c
    conditions = [m.account_id == flt.account_id, m.is_outbound.is_(True),
                  m.created_at >= flt.since, m.created_at < flt.until]
    if flt.line is not None:
        conditions.append(m.line == flt.line)
    if flt.campaign is not None:
        conditions.append(m.campaign == flt.campaign)
    if flt.service is not None:
        conditions.append(m.service == flt.service)
    if flt.tag is not None:
        t = message_tags.c
        conditions.append(m.id.in_(
            select(t.message_id).where(t.account_id == flt.account_id, t.tag == flt.tag,
                                       t.created_at >= flt.since, t.created_at < flt.until)))
    common = (m.id, m.line, m.campaign, m.tags, m.service, m.created_at, m.status, m.sent_at)

    def replied(number):  # type: ignore[no-untyped-def]
        i = messages.alias("inbound").c
        return exists().where(
            i.account_id == m.account_id, i.number == number, i.line == m.line,
            i.is_outbound.is_(False), i.created_at > m.created_at,
            i.created_at <= m.created_at + REPLY_WINDOW_MS,
        )

    one_to_one = select(*common, m.delivered_at, m.read_at, replied(m.number)).where(
        and_(*conditions, m.group_id.is_(None)))
    r = message_receipts.c
    grouped = (
        select(*common, r.delivered_at, r.read_at, replied(r.number))
        .select_from(messages.join(message_receipts, r.message_id == m.id))
        .where(and_(*conditions, m.group_id.is_not(None)))
    )
    found = [Recipient(*row[:10], bool(row[10])) for row in conn.execute(one_to_one)]
    found += [Recipient(*row[:10], bool(row[10]), receipt=True) for row in conn.execute(grouped)]
    return found
