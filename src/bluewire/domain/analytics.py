"""What happened to outbound messages, counted per bucket (GET /api/v2/analytics/messages).

Everything is counted per recipient: a 1:1 message has one, a group message one per
participant (each participant's delivery and read come from its own receipt). For each
recipient of an outbound message created in the window:

- `sent`: the message was handed to the network and did not fail (SENT, DELIVERED or READ);
- `delivered`: it reached the recipient (DELIVERED or READ; a group participant's receipt);
- `read`: the recipient read it (READ; a group participant's receipt);
- `errored`: it failed (ERROR or DECLINED);
- `pending`: no outcome yet: not yet handed to the network (QUEUED and before), or SENT on a
  service that reports deliveries (iMessage, RCS) and not yet delivered. An SMS ends at SENT
  (no delivery reports), so it is sent and never pending;
- `replied`: sent, and the recipient wrote to the same line within 24 hours after the
  message was created.

Rates (null when their denominator is 0): `delivery_rate` = delivered / sent, `read_rate` =
read / delivered, `reply_rate` = replied / sent, `error_rate` = errored / (sent + errored).
Durations, in seconds, as nearest-rank percentiles (the smallest value with at least p% of
the values at or below it), computed here from the stored times, so every store answers the
same: `time_to_deliver` = delivered_at - sent_at of the delivered, `time_to_read` = read_at -
sent_at of the read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .payloads import iso
from .statuses import Service, Status

GROUP_BY = ("line", "campaign", "tag", "service", "day", "hour")
REPLY_WINDOW_MS = 24 * 3600 * 1000
DEFAULT_WINDOW_MS = 7 * 24 * 3600 * 1000
MAX_WINDOW_DAYS = 366
MAX_WINDOW_MS = MAX_WINDOW_DAYS * 24 * 3600 * 1000
PERCENTILES = (50, 90)

_SENT = frozenset({Status.SENT.value, Status.DELIVERED.value, Status.READ.value})
_DELIVERED = frozenset({Status.DELIVERED.value, Status.READ.value})
_ERRORED = frozenset({Status.ERROR.value, Status.DECLINED.value})
_DAY_MS = 24 * 3600 * 1000
_HOUR_MS = 3600 * 1000


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient of an outbound message, as the store reads it. For a group message,
    `delivered_at` and `read_at` are the participant's own (its receipt); otherwise the
    message's, and `receipt` is False."""

    message_id: int
    line: str
    campaign: str | None
    tags: str | None  # the message's JSON list
    service: str | None
    created_at: int
    status: str
    sent_at: int | None
    delivered_at: int | None
    read_at: int | None
    replied: bool
    receipt: bool = False


@dataclass(slots=True)
class Bucket:
    key: str | None
    messages: set[int] = field(default_factory=set)
    recipients: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    errored: int = 0
    pending: int = 0
    replied: int = 0
    to_deliver: list[int] = field(default_factory=list)
    to_read: list[int] = field(default_factory=list)

    def add(self, r: Recipient) -> None:
        self.messages.add(r.message_id)
        self.recipients += 1
        status = r.status
        errored = status in _ERRORED
        sent = status in _SENT
        if r.receipt:
            delivered = not errored and (r.delivered_at is not None or r.read_at is not None)
            read = not errored and r.read_at is not None
        else:
            delivered = status in _DELIVERED
            read = status == Status.READ.value
        if errored:
            self.errored += 1
        if sent:
            self.sent += 1
            if r.replied:
                self.replied += 1
        if delivered:
            self.delivered += 1
            at = r.delivered_at if r.delivered_at is not None else r.read_at
            if r.sent_at is not None and at is not None:
                self.to_deliver.append(max(0, at - r.sent_at))
        if read:
            self.read += 1
            if r.sent_at is not None and r.read_at is not None:
                self.to_read.append(max(0, r.read_at - r.sent_at))
        final_at_sent = status == Status.SENT.value and r.service == Service.SMS.value
        if not errored and not delivered and not final_at_sent:
            self.pending += 1

    def answer(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "messages": len(self.messages),
            "recipients": self.recipients,
            "sent": self.sent,
            "delivered": self.delivered,
            "read": self.read,
            "errored": self.errored,
            "pending": self.pending,
            "replied": self.replied,
            "delivery_rate": rate(self.delivered, self.sent),
            "read_rate": rate(self.read, self.delivered),
            "reply_rate": rate(self.replied, self.sent),
            "error_rate": rate(self.errored, self.sent + self.errored),
            "time_to_deliver": durations(self.to_deliver),
            "time_to_read": durations(self.to_read),
        }


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def nearest_rank(ordered: Sequence[int], percent: int) -> int:
    """The nearest-rank percentile of a non-empty ascending sequence."""
    rank = max(1, math.ceil(percent * len(ordered) / 100))
    return ordered[rank - 1]


def durations(values_ms: list[int]) -> dict[str, Any]:
    ordered = sorted(values_ms)
    answer: dict[str, Any] = {"count": len(ordered)}
    for percent in PERCENTILES:
        answer[f"p{percent}"] = (nearest_rank(ordered, percent) / 1000) if ordered else None
    return answer


def bucket_keys(r: Recipient, group_by: str | None) -> Iterable[str | None]:
    """The buckets a recipient counts in: one, except by tag (each of the message's tags; none:
    the null bucket)."""
    if group_by is None:
        return (None,)
    if group_by == "line":
        return (r.line,)
    if group_by == "campaign":
        return (r.campaign,)
    if group_by == "service":
        return (r.service,)
    if group_by == "day":
        return (iso(r.created_at - r.created_at % _DAY_MS),)
    if group_by == "hour":
        return (iso(r.created_at - r.created_at % _HOUR_MS),)
    tags = json.loads(r.tags) if r.tags else []
    return tags or (None,)


def aggregate(recipients: Iterable[Recipient], group_by: str | None) -> list[dict[str, Any]]:
    """The buckets of `recipients`, ordered by key (the null key last). Without `group_by`
    there is always exactly one bucket."""
    buckets: dict[str | None, Bucket] = {}
    if group_by is None:
        buckets[None] = Bucket(None)
    for recipient in recipients:
        for key in bucket_keys(recipient, group_by):
            bucket = buckets.get(key)
            if bucket is None:
                bucket = buckets[key] = Bucket(key)
            bucket.add(recipient)
    ordered = sorted(buckets.values(), key=lambda b: (b.key is None, b.key or ""))
    return [bucket.answer() for bucket in ordered]
