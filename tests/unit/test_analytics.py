"""The analytics' counting rules and percentiles, recipient by recipient."""

from __future__ import annotations

from bluewire.domain.analytics import Recipient, aggregate, durations, nearest_rank

T0 = 1_765_000_000_000


def recipient(status: str, *, service: str | None = "iMessage", sent: int | None = 0,
              delivered: int | None = None, read: int | None = None, replied: bool = False,
              receipt: bool = False, message_id: int = 1, tags: str | None = None,
              created: int = T0) -> Recipient:
    return Recipient(message_id, "+14155550199", None, tags, service, created, status,
                     None if sent is None else T0 + sent,
                     None if delivered is None else T0 + delivered,
                     None if read is None else T0 + read, replied, receipt)


def test_nearest_rank_percentiles() -> None:
    assert nearest_rank([5], 50) == 5 and nearest_rank([5], 90) == 5
    values = list(range(1, 11))
    assert nearest_rank(values, 50) == 5 and nearest_rank(values, 90) == 9
    assert nearest_rank([1, 2, 3, 4], 50) == 2 and nearest_rank([1, 2, 3, 4], 90) == 4
    assert durations([3000, 1000, 2000]) == {"count": 3, "p50": 2.0, "p90": 3.0}
    assert durations([]) == {"count": 0, "p50": None, "p90": None}


def test_each_status_counts_where_it_belongs() -> None:
    found = aggregate([
        recipient("QUEUED", service=None, sent=None),  # pending: not yet sent
        recipient("SENT", message_id=2),  # pending: iMessage, not yet delivered
        recipient("SENT", service="SMS", message_id=3),  # sent; SMS ends there
        recipient("DELIVERED", delivered=400, message_id=4, replied=True),
        recipient("READ", delivered=400, read=2000, message_id=5),
        recipient("ERROR", service=None, sent=None, message_id=6),
    ], None)
    assert len(found) == 1
    got = found[0]
    assert {k: got[k] for k in ("messages", "recipients", "sent", "delivered", "read",
                                "errored", "pending", "replied")} == {
        "messages": 6, "recipients": 6, "sent": 4, "delivered": 2, "read": 1, "errored": 1,
        "pending": 2, "replied": 1}
    assert (got["delivery_rate"], got["read_rate"], got["reply_rate"], got["error_rate"]) == (
        0.5, 0.5, 0.25, 0.2)
    assert got["time_to_deliver"] == {"count": 2, "p50": 0.4, "p90": 0.4}
    assert got["time_to_read"] == {"count": 1, "p50": 2.0, "p90": 2.0}


def test_group_participants_count_by_their_own_receipts() -> None:
    found = aggregate([
        recipient("DELIVERED", delivered=100, read=900, receipt=True),
        recipient("DELIVERED", delivered=300, receipt=True),
        recipient("DELIVERED", receipt=True),  # the message reached others, not this one
    ], None)[0]
    assert (found["messages"], found["recipients"], found["sent"], found["delivered"],
            found["read"], found["pending"]) == (1, 3, 3, 2, 1, 1)


def test_rates_are_null_without_a_denominator() -> None:
    found = aggregate([], None)
    assert found == [{**found[0], "key": None}]
    assert [found[0][k] for k in ("delivery_rate", "read_rate", "reply_rate", "error_rate")] \
        == [None] * 4
    assert aggregate([], "campaign") == []


def test_a_message_counts_under_each_tag_and_untagged_last() -> None:
    found = aggregate([recipient("READ", delivered=1, read=2, tags='["b", "a"]'),
                       recipient("SENT", message_id=2)], "tag")
    assert [(b["key"], b["messages"]) for b in found] == [("a", 1), ("b", 1), (None, 1)]
    days = aggregate([recipient("SENT", created=T0), recipient("SENT", created=T0 + 86_400_000,
                                                                message_id=2)], "day")
    assert [b["key"] for b in days] == ["2025-12-06T00:00:00.000Z", "2025-12-07T00:00:00.000Z"]
