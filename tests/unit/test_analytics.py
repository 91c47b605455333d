"""The analytics' percentiles, rates and buckets, from the counts the store sums."""

from __future__ import annotations

from bluewire.domain.analytics import (
    BucketCounts,
    assemble,
    durations,
    histogram_durations,
    nearest_rank,
    to_bin,
)
from bluewire.domain.analytics_spans import split_window

DAY = 86_400_000
T0 = 1_765_000_000_000 - 1_765_000_000_000 % DAY  # 2025-12-06T00:00:00Z


def counts(key: object = None, *, messages: int = 6, recipients: int = 6, sent: int = 4,
           delivered: int = 2, read: int = 1, errored: int = 1, final_at_sent: int = 1,
           replied: int = 1) -> BucketCounts:
    return BucketCounts(key, messages, recipients, sent, delivered, read, errored,
                        final_at_sent, replied)


def test_nearest_rank_percentiles() -> None:
    assert nearest_rank([5], 50) == 5 and nearest_rank([5], 90) == 5
    values = list(range(1, 11))
    assert nearest_rank(values, 50) == 5 and nearest_rank(values, 90) == 9
    assert nearest_rank([1, 2, 3, 4], 50) == 2 and nearest_rank([1, 2, 3, 4], 90) == 4
    assert durations([3000, 1000, 2000]) == {"count": 3, "p50": 2.0, "p90": 3.0}
    assert durations([-20, 10]) == {"count": 2, "p50": 0.0, "p90": 0.01}
    assert durations([]) == {"count": 0, "p50": None, "p90": None}


def test_rates_pending_and_times_of_a_bucket() -> None:
    found = assemble(None, [counts()], [(None, 400, None), (None, 400, 2000)])
    assert len(found) == 1
    got = found[0]
    # pending: 6 recipients - 1 errored - 2 delivered - 1 SMS at SENT (its end)
    assert (got["key"], got["pending"]) == (None, 2)
    assert (got["delivery_rate"], got["read_rate"], got["reply_rate"], got["error_rate"]) == (
        0.5, 0.5, 0.25, 0.2)
    assert got["time_to_deliver"] == {"count": 2, "p50": 0.4, "p90": 0.4}
    assert got["time_to_read"] == {"count": 1, "p50": 2.0, "p90": 2.0}


def test_rates_are_null_without_a_denominator() -> None:
    found = assemble(None, [counts(messages=0, recipients=0, sent=0, delivered=0, read=0,
                                   errored=0, final_at_sent=0, replied=0)], [])
    assert [found[0][k] for k in ("delivery_rate", "read_rate", "reply_rate", "error_rate")] \
        == [None] * 4
    assert assemble(None, [], [])[0]["messages"] == 0  # no grouping: always one bucket
    assert assemble("campaign", [], []) == []


def test_buckets_are_ordered_by_key_the_null_key_last() -> None:
    found = assemble("tag", [counts(None), counts("b"), counts("a")], [("a", 5, 7)])
    assert [b["key"] for b in found] == ["a", "b", None]
    assert found[0]["time_to_read"]["count"] == 1 and found[1]["time_to_read"]["count"] == 0
    days = assemble("day", [counts(T0 + DAY), counts(T0)], [])
    assert [b["key"] for b in days] == ["2025-12-06T00:00:00.000Z", "2025-12-07T00:00:00.000Z"]


def test_durations_are_binned_to_two_significant_figures() -> None:
    assert [to_bin(v) for v in (0, 5, 87, 99, 100, 1_234, 1_299, 87_654, -40)] == [
        0, 5, 87, 99, 100, 1_200, 1_200, 87_000, 0]
    assert to_bin(3_599_999) == 3_500_000
    # exact for values of two significant figures, low by under 10% otherwise
    assert durations([1_200, 3_400, 5_600]) == {"count": 3, "p50": 3.4, "p90": 5.6}
    assert durations([1_999, 1_999, 2_500]) == {"count": 3, "p50": 1.9, "p90": 2.5}
    assert histogram_durations({100: 1, 50: 9}) == {"count": 10, "p50": 0.05, "p90": 0.05}
    assert histogram_durations({100: 2, 50: 8}) == {"count": 10, "p50": 0.05, "p90": 0.1}


def test_a_window_splits_into_ragged_ends_hours_and_days() -> None:
    hour = 3_600_000
    now = T0 + 3 * DAY + 5 * hour + 17 * 60_000  # 2025-12-09T05:17Z
    since = now - 3 * DAY  # 2025-12-06T05:17Z
    spans = split_window(since, now, now)
    assert spans.raw == [(since, T0 + 6 * hour), (T0 + 3 * DAY + 5 * hour, now)]
    assert spans.hours == [*range(T0 + 6 * hour, T0 + DAY, hour),
                           *range(T0 + 3 * DAY, T0 + 3 * DAY + 5 * hour, hour)]
    assert spans.days == [T0 + DAY, T0 + 2 * DAY]
    # only what ended by `closed_before` is summed ahead: the rest is read raw
    early = split_window(since, now, T0 + 3 * DAY + 30 * 60_000)
    assert early.raw[-1] == (T0 + 3 * DAY, now) and early.days == spans.days
    assert early.hours[-1] == T0 + DAY - hour
    # grouping by hour: whole hours only
    hours = split_window(since, now, now, days=False)
    assert hours.days == [] and len(hours.hours) == 3 * 24 - 1
    # nothing whole: all raw
    assert split_window(now - 20 * 60_000, now, now).raw == [(now - 20 * 60_000, now)]
    assert split_window(T0, T0 + DAY, T0 + DAY).days == [T0]
