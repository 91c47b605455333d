"""GET /api/v2/analytics/messages: what happened to outbound messages, bucket by bucket."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from .common import Line, Moment, ServiceName, Timestamp

GroupBy = Literal["line", "campaign", "tag", "service", "day", "hour"]


class AnalyticsQuery(msgspec.Struct, kw_only=True):
    """The window (messages created at or after `since` and before `until`; by default the 7
    days before now, at most 366 days), the filters (all optional) and the grouping."""

    since: Annotated[Moment | None, Meta(
        description="Start of the window (inclusive); default: `until` minus 7 days")] = None
    until: Annotated[Moment | None, Meta(
        description="End of the window (exclusive); default: now")] = None
    line: Annotated[Line | None, Meta(description="Only messages sent from this line")] = None
    campaign: Annotated[str | None, Meta(description="Only messages of this campaign")] = None
    tag: Annotated[str | None, Meta(description="Only messages with this tag")] = None
    service: Annotated[ServiceName | None, Meta(
        description="Only messages carried on this service")] = None
    group_by: Annotated[GroupBy | None, Meta(
        description="One bucket per line, campaign, tag (a message counts under each of its "
                    "tags), service, UTC day or UTC hour of creation; absent: one bucket")] = None


class Durations(msgspec.Struct, kw_only=True):
    """Nearest-rank percentiles, in seconds; null when `count` is 0."""

    count: int
    p50: float | None
    p90: float | None


class AnalyticsBucket(msgspec.Struct, kw_only=True):
    """Counts are of recipients (a group message counts once per participant), except
    `messages`. Rates are null when their denominator is 0."""

    key: Annotated[str | None, Meta(
        description="The line, campaign, tag, service, or the UTC day's or hour's start; null "
                    "for messages without one, and for the single bucket without `group_by`")]
    messages: int
    recipients: int
    sent: Annotated[int, Meta(description="Handed to the network and not failed: SENT, "
                                          "DELIVERED or READ")]
    delivered: Annotated[int, Meta(description="DELIVERED or READ")]
    read: int
    errored: Annotated[int, Meta(description="ERROR or DECLINED")]
    pending: Annotated[int, Meta(description="No outcome yet: not yet sent, or sent on "
                                             "iMessage/RCS and not yet delivered")]
    replied: Annotated[int, Meta(description="Sent, and the recipient wrote to the line "
                                             "within 24 hours")]
    delivery_rate: Annotated[float | None, Meta(description="delivered / sent")]
    read_rate: Annotated[float | None, Meta(description="read / delivered")]
    reply_rate: Annotated[float | None, Meta(description="replied / sent")]
    error_rate: Annotated[float | None, Meta(description="errored / (sent + errored)")]
    time_to_deliver: Annotated[Durations, Meta(description="delivered_at - sent_at")]
    time_to_read: Annotated[Durations, Meta(description="read_at - sent_at")]


class MessageAnalytics(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    since: Timestamp
    until: Timestamp
    group_by: GroupBy | None
    buckets: list[AnalyticsBucket]
