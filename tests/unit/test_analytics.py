"""The analytics' percentiles, rates and buckets, from the counts the store sums."""

from __future__ import annotations

from bluewire.domain.analytics import BucketCounts, assemble, durations, nearest_rank

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
