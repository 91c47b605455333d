"""The sandbox's magic numbers, watched through GET /api/status over real HTTP.

One `bluewire serve` process runs with non-zero sandbox delays, so that every step of a status
sequence lasts long enough to be seen. The ten magic phones +1 415 555-0100 … 0109 are sent a
message at the same moment, each from its own thread, which then polls that message every
~20 ms until well past the slowest read (and until its expected final status, with a generous
deadline). The tests below judge what was seen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from ..databases import Engine
from ..server import SANDBOX_LINE, ServerProcess

DELIVER_MS = 500
READ_MS = 1000
SLOW_READ_MS = 3000
LEASE_MS = 1000  # the resolve timeout that ends 05 in ERROR 10002
SWEEP_MS = 100

POLL_S = 0.02
# Watch every message at least this long: past the slow read by a second, so "never READ"
# (01) and "stays SENT" (08) are judged long after a READ would have come.
HORIZON_S = (DELIVER_MS + SLOW_READ_MS + 1000) / 1000
# Final states are waited for up to this long (the machine may be slow; never flaky).
DEADLINE_S = 30.0
# Timers never fire early, but wall-clock milliseconds and the event loop's clock may differ
# by a little.
SLACK_MS = 50

RANK = {"QUEUED": 2, "SENT": 4, "DELIVERED": 5, "READ": 6, "ERROR": 9}

# suffix → (the statuses GET /api/status shows, in order; the service once known)
EXPECTED: dict[str, tuple[list[str], str | None]] = {
    "00": (["QUEUED", "SENT", "DELIVERED", "READ"], "iMessage"),
    "01": (["QUEUED", "SENT", "DELIVERED"], "iMessage"),
    "02": (["QUEUED", "SENT"], "SMS"),
    "03": (["QUEUED", "SENT", "DELIVERED", "READ"], "RCS"),
    "04": (["QUEUED", "ERROR"], None),
    "05": (["QUEUED", "ERROR"], None),
    "06": (["QUEUED", "SENT", "DELIVERED", "READ"], "iMessage"),
    "07": (["QUEUED", "SENT", "DELIVERED", "READ"], "iMessage"),
    "08": (["QUEUED", "SENT"], "iMessage"),
    "09": (["QUEUED", "SENT", "DELIVERED", "READ"], "iMessage"),
}
# What each phone answers (an inbound message) once it has the message.
REPLIES = {"06": "echo: {content}", "07": "STOP"}


def magic(suffix: str) -> str:
    return f"+141555501{suffix}"


def when(text: str) -> datetime:
    """A wire timestamp (ISO 8601, UTC, `Z`) as an aware datetime."""
    assert isinstance(text, str) and text.endswith("Z"), text
    return datetime.fromisoformat(text)


def ms(delta: timedelta) -> float:
    return delta / timedelta(milliseconds=1)


@dataclass
class Seen:
    at: float  # seconds since the message was sent
    body: dict[str, Any]

    @property
    def status(self) -> str:
        return self.body["status"]


@dataclass
class Watched:
    suffix: str
    number: str
    content: str
    sent: dict[str, Any]  # the answer of POST /api/send-message
    sent_at: float  # time.monotonic() when that answer arrived
    polls: list[Seen] = field(default_factory=list)

    @property
    def handle(self) -> str:
        return self.sent["message_handle"]

    @property
    def statuses(self) -> list[str]:
        """The distinct statuses seen, in the order they were seen (the send answer first)."""
        seen = [self.sent["status"]]
        for poll in self.polls:
            if poll.status != seen[-1]:
                seen.append(poll.status)
        return seen

    @property
    def last(self) -> dict[str, Any]:
        return self.polls[-1].body

    def first(self, status: str) -> Seen:
        return next(poll for poll in self.polls if poll.status == status)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory,
            engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("sandbox-numbers"), env={
        "BLUEWIRE_SANDBOX_DELIVER_MS": str(DELIVER_MS),
        "BLUEWIRE_SANDBOX_READ_MS": str(READ_MS),
        "BLUEWIRE_SANDBOX_SLOW_READ_MS": str(SLOW_READ_MS),
        "BLUEWIRE_DISPATCH_LEASE_MS": str(LEASE_MS),
        "BLUEWIRE_SWEEP_INTERVAL_MS": str(SWEEP_MS),
    }, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture
def api(network: ServerProcess) -> Iterator[httpx.Client]:
    """conftest's `api`, but on this module's server."""
    with network.client() as client:
        yield client


def _send_and_watch(network: ServerProcess, suffix: str, start: threading.Barrier) -> Watched:
    """Send `suffix`'s phone a message (when every phone's thread is ready) and poll its
    status until the horizon has passed and its expected final status is seen."""
    final = EXPECTED[suffix][0][-1]
    content = f"hello {suffix}"
    with network.client() as client:  # made before the barrier: making one takes a while
        start.wait(timeout=DEADLINE_S)
        answer = client.post("/api/send-message", json={
            "number": magic(suffix), "from_number": SANDBOX_LINE, "content": content,
        })
        assert answer.status_code == 200, answer.text
        watched = Watched(suffix, magic(suffix), content, answer.json(), time.monotonic())
        while True:
            answer = client.get("/api/status", params={"handle": watched.handle})
            assert answer.status_code == 200, answer.text
            elapsed = time.monotonic() - watched.sent_at
            watched.polls.append(Seen(elapsed, answer.json()))
            done = elapsed >= HORIZON_S and watched.polls[-1].status == final
            if done or elapsed >= DEADLINE_S:
                return watched
            time.sleep(POLL_S)


@pytest.fixture(scope="module")
def watched(network: ServerProcess) -> dict[str, Watched]:
    """One message to each magic phone, all sent at the same moment, each watched."""
    suffixes = sorted(EXPECTED)
    start = threading.Barrier(len(suffixes))
    with ThreadPoolExecutor(max_workers=len(suffixes)) as pool:
        futures = [pool.submit(_send_and_watch, network, suffix, start) for suffix in suffixes]
        return {suffix: future.result() for suffix, future in zip(suffixes, futures, strict=True)}


def _row(api: httpx.Client, handle: str) -> dict[str, Any]:
    answer = api.get(f"/api/v2/messages/{handle}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "OK"
    return answer.json()["data"]


def _inbound(api: httpx.Client, number: str) -> dict[str, Any]:
    answer = api.get("/api/v2/messages", params={"is_outbound": "false", "number": number})
    assert answer.status_code == 200, answer.text
    return answer.json()


# ---------------------------------------------------------------------------------------------
# every number


@pytest.mark.parametrize("suffix", sorted(EXPECTED))
def test_status_sequence(watched: dict[str, Watched], suffix: str) -> None:
    message = watched[suffix]
    assert message.sent["status"] == "QUEUED"
    assert message.sent["number"] == magic(suffix)
    assert message.statuses == EXPECTED[suffix][0], (
        f"{magic(suffix)}: saw {message.statuses} over {message.polls[-1].at:.1f}s")


@pytest.mark.parametrize("suffix", sorted(EXPECTED))
def test_status_never_goes_backwards(watched: dict[str, Watched], suffix: str) -> None:
    statuses = watched[suffix].statuses
    ranks = [RANK[status] for status in statuses]
    assert ranks == sorted(ranks) and len(set(statuses)) == len(statuses), statuses


@pytest.mark.parametrize("suffix", sorted(EXPECTED))
def test_date_updated_never_decreases(watched: dict[str, Watched], suffix: str) -> None:
    message = watched[suffix]
    created = when(message.sent["date_created"])
    stamps = [when(message.sent["date_updated"])]
    stamps += [when(poll.body["date_updated"]) for poll in message.polls]
    assert stamps == sorted(stamps)
    assert stamps[0] >= created
    # The creation time never moves, and date_updated moves exactly when the status does.
    assert {poll.body["date_created"] for poll in message.polls} == {message.sent["date_created"]}
    for before, after in zip(message.polls, message.polls[1:], strict=False):
        if before.status == after.status:
            assert before.body["date_updated"] == after.body["date_updated"]
        else:
            assert when(after.body["date_updated"]) >= when(before.body["date_updated"])


@pytest.mark.parametrize("suffix", sorted(EXPECTED))
def test_status_answers_name_the_message_and_its_service(watched: dict[str, Watched],
                                                         suffix: str) -> None:
    message = watched[suffix]
    service = EXPECTED[suffix][1]
    for poll in message.polls:
        body = poll.body
        assert body["message_handle"] == message.handle
        assert body["number"] == magic(suffix)
        assert body["from_number"] == SANDBOX_LINE
        assert body["content"] == message.content
        assert body["is_outbound"] is True
        if poll.status in ("SENT", "DELIVERED", "READ"):
            assert body["service"] == service, (poll.status, body)
        if poll.status != "ERROR":
            assert body["error_code"] is None and body["error_message"] is None


@pytest.mark.parametrize("suffix", sorted(EXPECTED))
def test_replies_only_from_the_replying_phones(watched: dict[str, Watched], api: httpx.Client,
                                              suffix: str) -> None:
    inbound = _inbound(api, magic(suffix))
    expected = REPLIES.get(suffix)
    if expected is None:
        assert inbound["data"] == [] and inbound["pagination"]["total"] == 0
    else:
        assert [row["content"] for row in inbound["data"]] == [
            expected.format(content=watched[suffix].content)]


# ---------------------------------------------------------------------------------------------
# number by number


def test_00_reads_with_timestamps(watched: dict[str, Watched], api: httpx.Client) -> None:
    message = watched["00"]
    assert message.last["service"] == "iMessage"
    assert message.last["was_downgraded"] is None
    row = _row(api, message.handle)
    assert row["status"] == "READ"
    assert row["service"] == "iMessage"
    sent, delivered, read = (when(row[key]) for key in ("date_sent", "date_delivered",
                                                         "date_read"))
    assert row["date_sent"] == message.sent["date_created"]
    assert ms(delivered - sent) >= DELIVER_MS - SLACK_MS
    assert ms(read - delivered) >= READ_MS - SLACK_MS
    assert when(row["date_updated"]) == read
    assert row["date_updated"] == message.last["date_updated"]


def test_01_ends_delivered_and_is_never_read(watched: dict[str, Watched],
                                             api: httpx.Client) -> None:
    message = watched["01"]
    delivered = message.first("DELIVERED")
    # Watched for far longer than a read would have taken.
    assert message.polls[-1].at - delivered.at >= (READ_MS + 1000) / 1000
    assert all(poll.status != "READ" for poll in message.polls)
    row = _row(api, message.handle)
    assert row["status"] == "DELIVERED"
    assert row["date_delivered"] is not None
    assert row["date_read"] is None
    assert when(row["date_updated"]) == when(row["date_delivered"])
    assert ms(when(row["date_delivered"]) - when(row["date_sent"])) >= DELIVER_MS - SLACK_MS


def test_02_is_sms_sent_and_downgraded(watched: dict[str, Watched], api: httpx.Client) -> None:
    message = watched["02"]
    assert message.polls[-1].at >= HORIZON_S
    for poll in message.polls:
        if poll.status == "SENT":
            assert poll.body["service"] == "SMS"
            assert poll.body["was_downgraded"] is True
    row = _row(api, message.handle)
    assert (row["status"], row["service"], row["was_downgraded"]) == ("SENT", "SMS", True)
    assert row["date_delivered"] is None and row["date_read"] is None
    sms = api.get("/api/v2/messages", params={"number": magic("02"), "service": "SMS"}).json()
    assert [r["message_handle"] for r in sms["data"]] == [message.handle]


def test_03_is_rcs_delivered_then_read(watched: dict[str, Watched], api: httpx.Client) -> None:
    message = watched["03"]
    assert message.first("DELIVERED").body["service"] == "RCS"
    assert message.first("READ").body["service"] == "RCS"
    assert message.last["was_downgraded"] is None
    row = _row(api, message.handle)
    assert (row["status"], row["service"]) == ("READ", "RCS")
    delivered, read = when(row["date_delivered"]), when(row["date_read"])
    assert ms(read - delivered) >= READ_MS - SLACK_MS
    assert when(row["date_updated"]) == read


def test_04_send_fails_with_10001(watched: dict[str, Watched], api: httpx.Client) -> None:
    message = watched["04"]
    error = message.last
    assert error["status"] == "ERROR"
    assert error["error_code"] == 10001
    assert error["error_message"]
    assert error["service"] is None
    row = _row(api, message.handle)
    assert (row["status"], row["error_code"]) == ("ERROR", 10001)
    assert row["date_delivered"] is None and row["date_read"] is None


def test_05_is_unresolved_after_the_lease(watched: dict[str, Watched],
                                          api: httpx.Client) -> None:
    message = watched["05"]
    error = message.first("ERROR")
    assert error.body["error_code"] == 10002
    assert error.body["error_message"] == "failed to resolve message status"
    # It stayed QUEUED until the lease ran out, and only then failed.
    last_queued = [poll for poll in message.polls if poll.status == "QUEUED"][-1]
    assert last_queued.at >= LEASE_MS / 2 / 1000
    waited = when(error.body["date_updated"]) - when(message.sent["date_created"])
    assert ms(waited) >= LEASE_MS - SLACK_MS
    assert message.last["status"] == "ERROR" and message.last["error_code"] == 10002
    row = _row(api, message.handle)
    assert (row["status"], row["error_code"]) == ("ERROR", 10002)
    assert row["date_delivered"] is None and row["date_read"] is None


@pytest.mark.parametrize("suffix", ["06", "07"])
def test_06_07_reply_after_delivery(watched: dict[str, Watched], api: httpx.Client,
                                    suffix: str) -> None:
    message = watched[suffix]
    inbound = _inbound(api, magic(suffix))
    assert inbound["pagination"]["total"] == 1
    reply = inbound["data"][0]
    assert reply["content"] == REPLIES[suffix].format(content=message.content)
    assert reply["is_outbound"] is False
    assert reply["status"] == "RECEIVED"
    assert reply["number"] == magic(suffix)
    assert reply["from_number"] == magic(suffix)
    assert reply["to_number"] == SANDBOX_LINE
    assert reply["message_handle"] != message.handle
    row = _row(api, message.handle)
    assert row["status"] == "READ"
    # The phone answers once it has the message: at delivery, before reading it.
    assert when(row["date_delivered"]) <= when(reply["date_sent"]) <= when(row["date_read"])
    both = api.get("/api/v2/messages", params={"number": magic(suffix),
                                               "order_by": "createdAt",
                                               "order_direction": "asc"}).json()
    assert [r["is_outbound"] for r in both["data"]] == [True, False]


def test_08_manual_stays_sent(watched: dict[str, Watched], api: httpx.Client) -> None:
    message = watched["08"]
    sent = message.first("SENT")
    # Through several leases' worth of re-resolution, it never moved past SENT.
    assert message.polls[-1].at - sent.at >= 3 * LEASE_MS / 1000
    assert message.last["status"] == "SENT"
    assert message.last["date_updated"] == sent.body["date_updated"]
    row = _row(api, message.handle)
    assert (row["status"], row["service"]) == ("SENT", "iMessage")
    assert row["date_delivered"] is None and row["date_read"] is None
    assert row["error_code"] is None


def test_09_reads_only_after_the_slow_delay(watched: dict[str, Watched],
                                           api: httpx.Client) -> None:
    fast, slow = watched["00"], watched["09"]
    # 00 and 09 were sent together; when 00 was first seen READ, 09 was still DELIVERED
    # and stayed so for a while.
    fast_read_at = fast.sent_at + fast.first("READ").at
    still_delivered = [poll for poll in slow.polls if poll.status == "DELIVERED"
                       and slow.sent_at + poll.at >= fast_read_at]
    assert still_delivered, "09 was already READ when 00 was"
    assert slow.sent_at + slow.first("READ").at > fast_read_at
    row = _row(api, slow.handle)
    assert row["status"] == "READ"
    delivered, read = when(row["date_delivered"]), when(row["date_read"])
    assert ms(read - delivered) >= SLOW_READ_MS - SLACK_MS
    fast_row = _row(api, fast.handle)
    assert read > when(fast_row["date_read"])


def test_list_filters_by_final_status(watched: dict[str, Watched], api: httpx.Client) -> None:
    def handles(status: str) -> set[str]:
        answer = api.get("/api/v2/messages", params={"status": status, "is_outbound": "true",
                                                     "limit": 100})
        assert answer.status_code == 200, answer.text
        return {row["message_handle"] for row in answer.json()["data"]}

    def of(*suffixes: str) -> set[str]:
        return {watched[suffix].handle for suffix in suffixes}

    assert handles("READ") == of("00", "03", "06", "07", "09")
    assert handles("DELIVERED") == of("01")
    assert handles("SENT") == of("02", "08")
    assert handles("ERROR") == of("04", "05")
    assert handles("QUEUED") == set()
