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
the values at or below it) of their histogram: `time_to_deliver` = delivered_at - sent_at of
the delivered, `time_to_read` = read_at - sent_at of the read. A duration in milliseconds (a
negative one, from clocks that disagree, counts as 0) is counted in the bin of its value
rounded down to two significant figures (1 234 -> 1 200, 87 -> 87), so a percentile is exact
when the value has two significant figures and otherwise low by less than 10%. Histograms add
up, so the hours and days summed ahead of time (the rollup) and the messages read for the
window's ragged ends answer the same way, whatever the store.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
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


def to_bin(value_ms: int) -> int:
    """The histogram bin of a duration: rounded down to two significant figures, 0 if
    negative."""
    if value_ms < 100:
        return max(0, value_ms)
    scale = 10 ** (len(str(value_ms)) - 2)
    return value_ms - value_ms % scale


def histogram(values_ms: Iterable[int]) -> Counter[int]:
    return Counter(to_bin(value) for value in values_ms)


def histogram_percentile(bins: Mapping[int, int], total: int, percent: int) -> int:
    """The nearest-rank percentile of a non-empty histogram (bin -> count)."""
    rank = max(1, math.ceil(percent * total / 100))
    seen = 0
    for value in sorted(bins):
        seen += bins[value]
        if seen >= rank:
            return value
    raise ValueError("the rank is beyond the histogram's count")


def histogram_durations(bins: Mapping[int, int]) -> dict[str, Any]:
    """Count and nearest-rank percentiles, in seconds, of a histogram of milliseconds."""
    total = sum(bins.values())
    answer: dict[str, Any] = {"count": total}
    for percent in PERCENTILES:
        answer[f"p{percent}"] = (histogram_percentile(bins, total, percent) / 1000
                                 if total else None)
    return answer


def durations(values_ms: Iterable[int]) -> dict[str, Any]:
    """Count and nearest-rank percentiles, in seconds, of durations in milliseconds, binned
    as every part of the window is."""
    return histogram_durations(histogram(values_ms))


def bucket_answer(counts: BucketCounts, key: str | None, to_deliver: Mapping[int, int],
                  to_read: Mapping[int, int]) -> dict[str, Any]:
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
        "time_to_deliver": histogram_durations(to_deliver),
        "time_to_read": histogram_durations(to_read),
    }


def wire_key(raw: Any, group_by: str | None) -> str | None:
    """A bucket's key as answered: a day or hour as the ISO 8601 time it starts."""
    if raw is None:
        return None
    if group_by in ("day", "hour"):
        return iso(int(raw))
    return str(raw)


def add_times(histograms: dict[Any, tuple[Counter[int], Counter[int]]],
              times: Iterable[tuple[Any, int, int | None]]) -> None:
    """Count (bucket key, ms to deliver, ms to read or None) into each key's histograms."""
    for key, deliver_ms, read_ms in times:
        pair = histograms.get(key)
        if pair is None:
            pair = histograms[key] = (Counter(), Counter())
        pair[0][to_bin(deliver_ms)] += 1
        if read_ms is not None:
            pair[1][to_bin(read_ms)] += 1


def add_counts(total: dict[Any, BucketCounts], counts: Iterable[BucketCounts]) -> None:
    """Sum bucket counts by key."""
    for item in counts:
        known = total.get(item.key)
        total[item.key] = item if known is None else BucketCounts(
            item.key, *(a + b for a, b in zip(_numbers(known), _numbers(item), strict=True)))


def _numbers(counts: BucketCounts) -> tuple[int, ...]:
    return (counts.messages, counts.recipients, counts.sent, counts.delivered, counts.read,
            counts.errored, counts.final_at_sent, counts.replied)


def assemble(group_by: str | None, counts: Iterable[BucketCounts],
             times: Iterable[tuple[Any, int, int | None]],
             histograms: dict[Any, tuple[Counter[int], Counter[int]]] | None = None,
             ) -> list[dict[str, Any]]:
    """The answer's buckets, ordered by key (the null key last). Without `group_by` there is
    exactly one, with zeros if nothing was sent. `times` are counted into `histograms`."""
    histograms = {} if histograms is None else histograms
    add_times(histograms, times)
    empty: tuple[Counter[int], Counter[int]] = (Counter(), Counter())
    found = [c for c in counts if c.recipients or group_by is None]
    if group_by is None and not found:
        found = [BucketCounts(None, 0, 0, 0, 0, 0, 0, 0, 0)]
    found.sort(key=lambda c: (c.key is None, c.key if c.key is not None else 0))
    return [bucket_answer(c, wire_key(c.key, group_by), *histograms.get(c.key, empty))
            for c in found]
