"""GET /api/v2/analytics/messages on a real server: every count and rate is what the sandbox
phones the messages went to imply (…00 reads, …01 never sends read receipts, …02 is SMS only,
…04 refuses every message, …06 echoes a reply), by campaign, service, tag and day, with group
messages counted per participant; bad parameters are a 400 naming the parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

PATH = "/api/v2/analytics/messages"
COUNTS = ("messages", "recipients", "sent", "delivered", "read", "errored", "pending",
          "replied", "delivery_rate", "read_rate", "reply_rate", "error_rate")


def send(api: httpx.Client, number: str, campaign: str, tags: list[str]) -> str:
    answer = api.post("/api/send-message", json={
        "from_number": SANDBOX_LINE, "number": number, "content": "offer",
        "campaign": campaign, "tags": tags})
    assert answer.status_code == 200, answer.text
    return answer.json()["message_handle"]


def status_of(api: httpx.Client, handle: str) -> str:
    return api.get("/api/status", params={"handle": handle}).json()["status"]


def analytics(api: httpx.Client, **params: str) -> dict[str, Any]:
    answer = api.get(PATH, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def counts(api: httpx.Client, **params: str) -> dict[str | None, dict[str, Any]]:
    """Each bucket's counts and rates, by key."""
    return {bucket["key"]: {name: bucket[name] for name in COUNTS}
            for bucket in analytics(api, **params)["buckets"]}


def bucket(messages: int, recipients: int, sent: int, delivered: int, read: int, errored: int,
           pending: int, replied: int) -> dict[str, Any]:
    def rate(part: int, whole: int) -> float | None:
        return None if whole == 0 else round(part / whole, 4)

    return {"messages": messages, "recipients": recipients, "sent": sent,
            "delivered": delivered, "read": read, "errored": errored, "pending": pending,
            "replied": replied, "delivery_rate": rate(delivered, sent),
            "read_rate": rate(read, delivered), "reply_rate": rate(replied, sent),
            "error_rate": rate(errored, sent + errored)}


def settled(api: httpx.Client, expected: dict[str | None, dict[str, Any]],
            **params: str) -> dict[str | None, dict[str, Any]]:
    """The buckets once they are what is expected (statuses and replies arrive after the
    sends are answered), else the assertion that shows the difference."""
    try:
        return wait_for(lambda: counts(api, **params) == expected and expected)
    except AssertionError:
        assert counts(api, **params) == expected
        raise


@pytest.fixture(scope="module")
def campaigns(server: ServerProcess) -> dict[str, str]:
    """alpha: …00, …01, …02, …04; beta: …06 and …00 (other area codes); each at its end."""
    with server.client() as api:
        handles = {
            "alpha-read": send(api, phone(341, "00"), "alpha", ["t1"]),
            "alpha-delivered": send(api, phone(341, "01"), "alpha", ["t1"]),
            "alpha-sms": send(api, phone(341, "02"), "alpha", ["t1"]),
            "alpha-fails": send(api, phone(341, "04"), "alpha", ["t1"]),
            "beta-echo": send(api, phone(342, "06"), "beta", ["t1", "t2"]),
            "beta-read": send(api, phone(342, "00"), "beta", ["t1", "t2"]),
        }
        final = {"alpha-read": "READ", "alpha-delivered": "DELIVERED", "alpha-sms": "SENT",
                 "alpha-fails": "ERROR", "beta-echo": "READ", "beta-read": "READ"}
        wait_for(lambda: all(status_of(api, handles[name]) == status
                             for name, status in final.items()))
    return handles


ALPHA = bucket(messages=4, recipients=4, sent=3, delivered=2, read=1, errored=1, pending=0,
               replied=0)
BETA = bucket(messages=2, recipients=2, sent=2, delivered=2, read=2, errored=0, pending=0,
              replied=1)


def test_by_campaign(api: httpx.Client, campaigns: dict[str, str]) -> None:
    found = settled(api, {"alpha": ALPHA, "beta": BETA}, group_by="campaign", tag="t1")
    assert found["alpha"]["delivery_rate"] == 0.6667 and found["alpha"]["error_rate"] == 0.25
    assert found["beta"]["reply_rate"] == 0.5
    answer = analytics(api, group_by="campaign", tag="t1")
    assert answer["group_by"] == "campaign"
    for item in answer["buckets"]:
        to_read, to_deliver = item["time_to_read"], item["time_to_deliver"]
        assert to_read["count"] == item["read"] and to_deliver["count"] == item["delivered"]
        assert 0 <= to_read["p50"] <= to_read["p90"] < 60
        assert 0 <= to_deliver["p50"] <= to_deliver["p90"] < 60
    # one campaign alone, and no grouping: a single bucket with a null key
    assert counts(api, campaign="beta") == {None: BETA}


def test_by_service_with_a_tag_filter(api: httpx.Client, campaigns: dict[str, str]) -> None:
    # …00 twice, …01 (delivered, never read) and …06 (replied); …02's SMS ends at SENT (not
    # pending, never delivered); …04 failed before any service carried it
    imessage = bucket(messages=4, recipients=4, sent=4, delivered=4, read=3, errored=0,
                      pending=0, replied=1)
    sms = bucket(messages=1, recipients=1, sent=1, delivered=0, read=0, errored=0, pending=0,
                 replied=0)
    failed = bucket(messages=1, recipients=1, sent=0, delivered=0, read=0, errored=1,
                    pending=0, replied=0)
    found = counts(api, group_by="service", tag="t1")
    assert found == {"iMessage": imessage, "SMS": sms, None: failed}
    assert counts(api, group_by="service", tag="t2") == {"iMessage": BETA}
    assert counts(api, group_by="service", tag="t1", service="SMS") == {"SMS": sms}
    assert counts(api, tag="none-such") == {None: bucket(0, 0, 0, 0, 0, 0, 0, 0)}


def test_by_tag_and_by_day(api: httpx.Client, campaigns: dict[str, str]) -> None:
    # a message counts under each of its tags
    assert counts(api, group_by="tag", campaign="beta") == {"t1": BETA, "t2": BETA}
    both = counts(api, group_by="day", tag="t1", line=SANDBOX_LINE)
    today = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00.000Z")
    assert list(both) == [today]
    assert both[today]["messages"] == 6 and both[today]["read"] == 3
    hours = analytics(api, group_by="hour", tag="t1")["buckets"]
    assert [item["key"][13:] for item in hours] == [":00:00.000Z"] * len(hours)
    assert sum(item["messages"] for item in hours) == 6


def test_a_group_message_counts_each_participant(api: httpx.Client) -> None:
    for numbers in ([phone(343, "00"), phone(344, "00")], [phone(345, "00"), phone(345, "01")]):
        answer = api.post("/api/send-group-message", json={
            "from_number": SANDBOX_LINE, "numbers": numbers, "content": "hello group",
            "campaign": "gamma"})
        assert answer.status_code == 200, answer.text
    # two readers in the first group, one reader and one who never sends receipts in the other
    expected = bucket(messages=2, recipients=4, sent=4, delivered=4, read=3, errored=0,
                      pending=0, replied=0)
    settled(api, {None: expected}, campaign="gamma")
    item = analytics(api, campaign="gamma")["buckets"][0]
    assert item["time_to_read"]["count"] == 3


def test_replies_in_the_conversation_count(api: httpx.Client) -> None:
    members, single = [phone(346, "00"), phone(346, "01")], phone(347, "01")
    group = api.post("/api/send-group-message", json={
        "from_number": SANDBOX_LINE, "numbers": members, "content": "news",
        "campaign": "delta"}).json()
    send(api, single, "delta", [])
    settled(api, {None: bucket(messages=2, recipients=3, sent=3, delivered=3, read=1,
                               errored=0, pending=0, replied=0)}, campaign="delta")
    # one participant answers in the group, the other contact 1:1
    for number, body in ((members[1], {"group_id": group["group_id"]}), (single, {})):
        answer = api.post(f"/sandbox/phones/{number}/messages",
                          json={"line": SANDBOX_LINE, "content": "sure", **body})
        assert answer.status_code == 200, answer.text
    settled(api, {None: bucket(messages=2, recipients=3, sent=3, delivered=3, read=1,
                               errored=0, pending=0, replied=2)}, campaign="delta")


def test_the_window(api: httpx.Client, campaigns: dict[str, str]) -> None:
    answer = analytics(api, campaign="alpha")
    since, until = (datetime.fromisoformat(answer[k]) for k in ("since", "until"))
    assert until - since == timedelta(days=7)
    assert abs(until - datetime.now(UTC)) < timedelta(minutes=1)
    assert answer["buckets"][0]["messages"] == 4
    earlier = datetime.now(UTC) - timedelta(days=30)
    past = analytics(api, campaign="alpha", since=earlier.isoformat(),
                     until=(earlier + timedelta(days=1)).isoformat())
    assert past["buckets"][0]["messages"] == 0
    later = analytics(api, campaign="alpha",
                      since=(datetime.now(UTC) - timedelta(days=365)).isoformat())
    assert later["buckets"][0]["messages"] == 4


@pytest.mark.parametrize(
    ("params", "mention"),
    [
        ({"group_by": "week"}, "`group_by`"),
        ({"since": "yesterday"}, "`since`"),
        ({"until": "2026-13-01T00:00:00Z"}, "`until`"),
        ({"since": "2026-01-01T00:00:00"}, "`since`"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "`since`"),
        ({"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "`since`"),
        ({"since": "2024-01-01T00:00:00Z", "until": "2025-01-02T00:00:00Z"}, "366 days"),
        ({"service": "Telegram"}, "`service`"),
        ({"line": "not a line"}, "`line`"),
    ],
)
def test_bad_parameters_are_refused_naming_them(api: httpx.Client, params: dict[str, str],
                                                mention: str) -> None:
    answer = api.get(PATH, params=params)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["status"] == "ERROR" and error["error_code"] == 4000
    assert mention in error["message"], error["message"]


def test_authenticated_and_documented(server: ServerProcess) -> None:
    assert httpx.get(server.url + PATH).status_code == 401
    document = httpx.get(server.url + "/openapi.json").json()
    operation = document["paths"][PATH]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"since", "until", "line", "campaign", "tag", "service", "group_by"} <= names


HOUR_MS = 3_600_000


def shift_back(server: ServerProcess, campaign: str, numbers: list[str], hours: int) -> None:
    """Move the campaign's messages to these numbers, and their receipts, `hours` into the
    past (every time of theirs alike, so each duration stays what it was). This goes around
    the write paths, so what the rollup summed before is dropped, as if never asked."""
    ms = hours * HOUR_MS
    for number in numbers:
        ids = [row["id"] for row in server.sql(
            "SELECT id FROM messages WHERE campaign = ? AND number = ?", campaign, number)]
        assert ids, number
        for message_id in ids:
            server.sql("UPDATE messages SET created_at = created_at - ?, "
                       "updated_at = updated_at - ?, sent_at = sent_at - ?, "
                       "delivered_at = delivered_at - ?, read_at = read_at - ? WHERE id = ?",
                       ms, ms, ms, ms, ms, message_id)
            server.sql("UPDATE message_receipts SET delivered_at = delivered_at - ?, "
                       "read_at = read_at - ? WHERE message_id = ?", ms, ms, message_id)
    server.sql("DELETE FROM analytics_rollup")
    server.sql("DELETE FROM analytics_spans")


def totals(api: httpx.Client, **params: str) -> dict[str, Any]:
    """The counts summed over every bucket of the answer."""
    found = analytics(api, **params)["buckets"]
    return {name: sum(item[name] for item in found)
            for name in ("messages", "recipients", "sent", "delivered", "read", "errored",
                         "pending", "replied")}


def test_closed_hours_answer_as_the_messages_do_and_follow_their_changes(
        server: ServerProcess, api: httpx.Client) -> None:
    # …08 waits to be told it was delivered and read; …01 never sends read receipts
    manual, quiet = phone(361, "08"), phone(362, "01")
    group_manual, group_reader = phone(363, "08"), phone(364, "00")
    send(api, manual, "epsilon", ["e1"])
    send(api, quiet, "epsilon", ["e1", "e2"])
    answer = api.post("/api/send-group-message", json={
        "from_number": SANDBOX_LINE, "numbers": [group_manual, group_reader],
        "content": "hello group", "campaign": "epsilon", "tags": ["e2"]})
    assert answer.status_code == 200, answer.text
    settled(api, {None: bucket(messages=3, recipients=4, sent=4, delivered=2, read=1,
                               errored=0, pending=2, replied=0)}, campaign="epsilon")
    # read from the messages: all of them are of the current hour
    raw = analytics(api, campaign="epsilon")["buckets"]
    questions: list[dict[str, str]] = [
        {}, {"group_by": "campaign"}, {"group_by": "service"}, {"group_by": "line"},
        {"group_by": "tag"}, {"service": "iMessage"}, {"tag": "e2"},
        {"tag": "e1", "group_by": "campaign"}, {"campaign": "epsilon", "group_by": "tag"},
        {"line": SANDBOX_LINE, "group_by": "service"}]
    answers = [analytics(api, **params)["buckets"] for params in questions]

    # into closed hours: two days back (a whole UTC day of the window), and three hours back
    # (the reply below must come within 24 hours)
    shift_back(server, "epsilon", [manual, group_manual], 50)
    shift_back(server, "epsilon", [quiet], 3)
    assert analytics(api, campaign="epsilon")["buckets"] == raw
    spans = server.sql("SELECT span_ms, span_start FROM analytics_spans")
    assert {row["span_ms"] for row in spans} == {HOUR_MS, 24 * HOUR_MS}
    assert analytics(api, campaign="epsilon")["buckets"] == raw  # from the rollup alone
    for params, answer in zip(questions, answers, strict=True):
        assert analytics(api, **params)["buckets"] == answer, params
    by_hour = analytics(api, campaign="epsilon", group_by="hour")["buckets"]
    assert len(by_hour) == 2 and sum(item["recipients"] for item in by_hour) == 4

    # their statuses, receipts and replies change through the real paths
    for number in (manual, group_manual):
        answer = api.post(f"/sandbox/phones/{number}/deliver", json={"line": SANDBOX_LINE})
        assert answer.status_code == 200 and answer.json()["delivered"] == 1, answer.text
    answer = api.post(f"/sandbox/phones/{manual}/read", json={"line": SANDBOX_LINE})
    assert answer.status_code == 200 and answer.json()["receipts_reported"], answer.text
    answer = api.post(f"/sandbox/phones/{quiet}/messages",
                      json={"line": SANDBOX_LINE, "content": "thanks"})
    assert answer.status_code == 200, answer.text
    changed = bucket(messages=3, recipients=4, sent=4, delivered=4, read=2, errored=0,
                     pending=0, replied=1)
    settled(api, {None: changed}, campaign="epsilon")
    item = analytics(api, campaign="epsilon")["buckets"][0]
    assert item["time_to_deliver"]["count"] == 4 and item["time_to_read"]["count"] == 2
    # delivered and read now, 50 hours after they were sent: the slowest
    assert item["time_to_read"]["p90"] >= 49 * 3600
    expected = {name: changed[name] for name in ("messages", "recipients", "sent",
                                                 "delivered", "read", "errored", "pending",
                                                 "replied")}
    for group_by in ("hour", "day", "campaign"):
        assert totals(api, campaign="epsilon", group_by=group_by) == expected, group_by
