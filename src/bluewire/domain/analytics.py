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
- `replied`: sent, and the recipient wrote back in the conversation (1:1 on that line, or in
  the group) within 24 hours after the message was created.

Rates (null when their denominator is 0): `delivery_rate` = delivered / sent, `read_rate` =
read / delivered, `reply_rate` = replied / sent, `error_rate` = errored / (sent + errored).
Durations, in seconds, as nearest-rank percentiles (the smallest value with at least p% of
the values at or below it), computed here from the stored times, so every store answers the
same: `time_to_deliver` = delivered_at - sent_at of the delivered, `time_to_read` = read_at -
sent_at of the read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .payloads import iso

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
REPLY_WINDOW_MS = DAY_MS
DEFAULT_WINDOW_MS = 7 * DAY_MS
MAX_WINDOW_DAYS = 366
MAX_WINDOW_MS = MAX_WINDOW_DAYS * DAY_MS
PERCENTILES = (50, 90)


@dataclass(frozen=True, slots=True)
class BucketCounts:
    """One bucket's counts as the store sums them (store/analytics.py). `key` is a line,
    campaign, tag or service, the start of a day or hour (epoch ms), or None."""

    key: Any
    messages: int
    recipients: int
    sent: int
    delivered: int
    read: int
    errored: int
    final_at_sent: int  # SMS messages at SENT: their outcome is final there
    replied: int

    @property
    def pending(self) -> int:
        return self.recipients - self.errored - self.delivered - self.final_at_sent


def rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def nearest_rank(ordered: Sequence[int], percent: int) -> int:
    """The nearest-rank percentile of a non-empty ascending sequence: the smallest value with
    at least `percent`% of the values at or below it."""
    rank = max(1, math.ceil(percent * len(ordered) / 100))
    return ordered[rank - 1]


def durations(values_ms: Iterable[int]) -> dict[str, Any]:
    """Count and nearest-rank percentiles, in seconds, of durations in milliseconds (a
    negative one, from clocks that disagree, counts as 0)."""
    ordered = sorted(values_ms)
    if ordered and ordered[0] < 0:
        ordered = [max(0, value) for value in ordered]
    answer: dict[str, Any] = {"count": len(ordered)}
    for percent in PERCENTILES:
        answer[f"p{percent}"] = (nearest_rank(ordered, percent) / 1000) if ordered else None
    return answer


def bucket_answer(counts: BucketCounts, key: str | None, to_deliver: Iterable[int],
                  to_read: Iterable[int]) -> dict[str, Any]:
    return {
        "key": key,
        "messages": counts.messages,
        "recipients": counts.recipients,
        "sent": counts.sent,
        "delivered": counts.delivered,
        "read": counts.read,
        "errored": counts.errored,
        "pending": counts.pending,
        "replied": counts.replied,
        "delivery_rate": rate(counts.delivered, counts.sent),
        "read_rate": rate(counts.read, counts.delivered),
        "reply_rate": rate(counts.replied, counts.sent),
        "error_rate": rate(counts.errored, counts.sent + counts.errored),
        "time_to_deliver": durations(to_deliver),
        "time_to_read": durations(to_read),
    }


def wire_key(raw: Any, group_by: str | None) -> str | None:
    """A bucket's key as answered: a day or hour as the ISO 8601 time it starts."""
    if raw is None:
        return None
    if group_by in ("day", "hour"):
        return iso(int(raw))
    return str(raw)


def assemble(group_by: str | None, counts: Iterable[BucketCounts],
             times: Iterable[tuple[Any, int, int | None]]) -> list[dict[str, Any]]:
    """The answer's buckets, ordered by key (the null key last). Without `group_by` there is
    exactly one, with zeros if nothing was sent."""
    to_deliver: dict[Any, list[int]] = {}
    to_read: dict[Any, list[int]] = {}
    for key, deliver_ms, read_ms in times:
        to_deliver.setdefault(key, []).append(deliver_ms)
        if read_ms is not None:
            to_read.setdefault(key, []).append(read_ms)
    found = [c for c in counts if c.recipients or group_by is None]
    if group_by is None and not found:
        found = [BucketCounts(None, 0, 0, 0, 0, 0, 0, 0, 0)]
    found.sort(key=lambda c: (c.key is None, c.key if c.key is not None else 0))
    return [bucket_answer(c, wire_key(c.key, group_by), to_deliver.get(c.key, ()),
                          to_read.get(c.key, ())) for c in found]
