"""`bluewire stats`, `bluewire send --follow-up` and `bluewire follow-ups list|cancel` against a
real server (sandbox delays zero): the numbers the sandbox phones imply (…00 reads, …01 never
sends read receipts), a follow-up that fires, one cancelled, and a bad spec refused before
anything is sent."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def handle_of(output: str) -> str:
    found = re.search(r"[0-9a-f-]{36}", output)
    assert found, output
    return found.group(0)


def cells(table: str) -> list[list[str]]:
    """A printed table's body rows, cell by cell."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in table.splitlines() if line.startswith("│")]


def stats_json(server: ServerProcess, *args: str) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(server.cli("stats", "--json", *args).stdout)
    return answer


def messages_to(server: ServerProcess, number: str) -> list[dict[str, Any]]:
    listed = json.loads(server.cli("messages", "--number", number, "--json").stdout)
    return [row for row in listed["data"] if row["is_outbound"]]


def test_stats_prints_a_table_per_bucket_and_the_answer_with_json(server: ServerProcess) -> None:
    since = now_iso()
    for number in (phone(601, "00"), phone(602, "00"), phone(603, "01")):
        server.cli("send", number, "offer")

    def settled() -> dict[str, Any] | None:
        [bucket] = stats_json(server, "--since", since)["buckets"]
        return bucket if (bucket["read"], bucket["pending"]) == (2, 0) else None

    bucket = wait_for(settled)
    assert (bucket["sent"], bucket["delivered"], bucket["errored"]) == (3, 3, 0)
    assert bucket["read_rate"] == 0.6667

    table = server.cli("stats", "--since", since).stdout
    [row] = cells(table)
    assert row[:9] == ["all", "3", "3", "2", "0", "0", "100.0%", "66.7%", "0.0%"], table
    duration = r"\d+(ms|(\.\d)?s)"
    assert re.fullmatch(f"{duration} / {duration}", row[9]), table  # time to deliver
    assert re.fullmatch(f"{duration} / {duration}", row[10]), table  # time to read

    by_service = server.cli("stats", "--since", since, "--by", "service").stdout
    assert [row[:6] for row in cells(by_service)] == [["iMessage", "3", "3", "2", "0", "0"]]
    grouped = stats_json(server, "--since", since, "--by", "line")
    assert [b["key"] for b in grouped["buckets"]] == [SANDBOX_LINE]
    assert grouped["group_by"] == "line"

    by_day = server.cli("stats", "--since", "1h", "--by", "day").stdout
    assert datetime.now(UTC).strftime("%Y-%m-%d") in by_day, by_day


def test_stats_prints_the_apis_refusal_and_exits_1(server: ServerProcess) -> None:
    refused = server.cli("stats", "--service", "Fax", check=False)
    assert refused.returncode == 1
    assert "400" in refused.stderr and "service" in refused.stderr, refused.stderr
    backwards = server.cli("stats", "--since", "2026-01-02T00:00:00Z",
                           "--until", "2026-01-01T00:00:00Z", check=False)
    assert backwards.returncode == 1 and "since" in backwards.stderr, backwards.stderr


def test_a_follow_up_given_with_send_fires_and_is_listed(server: ServerProcess) -> None:
    number = phone(611, "01")  # never sends read receipts: not_read holds
    sent = server.cli("send", number, "first", "--follow-up", "not_read after 1s: ping")
    handle = handle_of(sent.stdout)
    assert re.search(r"follow-up fu_\w+: not_read after 1s → send: ping", sent.stdout), \
        sent.stdout

    def followed_up() -> list[dict[str, Any]] | None:
        rows = messages_to(server, number)
        return rows if len(rows) == 2 else None

    rows = followed_up() or wait_for(followed_up, timeout=15, interval=0.2)
    assert sorted(row["content"] for row in rows) == ["first", "ping"]
    ping = next(row for row in rows if row["content"] == "ping")

    listed = json.loads(server.cli("follow-ups", "list", "--message", handle, "--json").stdout)
    [item] = listed["data"]
    assert item["state"] == "fired"
    assert item["result_message_handle"] == ping["message_handle"]
    table = server.cli("follow-ups", "list", "--message", handle).stdout
    assert item["id"] in table and "fired" in table and ping["message_handle"] in table, table
    assert "send: ping" in table and "1 of 1" in table, table


def test_a_scheduled_follow_up_is_cancelled(server: ServerProcess) -> None:
    number = phone(612, "01")
    sent = server.cli("send", number, "hello", "--json",
                      "--follow-up", "not_read after 1h: still there?",
                      "--follow-up", "not_replied after P1D: notify")
    answer = json.loads(sent.stdout)
    later, notify = answer["follow_ups"]
    assert (later["condition"], later["after"], later["state"]) == ("not_read", 3600, "scheduled")
    assert later["action"] == {"send": {"content": "still there?"}}
    assert (notify["after"], notify["action"]) == (86400, {"notify": {}})

    scheduled = server.cli("follow-ups", "list", "--message", answer["message_handle"],
                           "--state", "scheduled").stdout
    assert later["id"] in scheduled and notify["id"] in scheduled, scheduled
    assert "1h" in scheduled and "1d" in scheduled and "notify" in scheduled, scheduled

    cancelled = server.cli("follow-ups", "cancel", later["id"]).stdout
    assert "cancelled" in cancelled and later["id"] in cancelled, cancelled
    listed = json.loads(server.cli("follow-ups", "list", "--message", answer["message_handle"],
                                   "--state", "cancelled", "--json").stdout)
    assert [item["id"] for item in listed["data"]] == [later["id"]]

    again = server.cli("follow-ups", "cancel", later["id"], check=False)
    assert again.returncode == 1 and "409" in again.stderr, again.stderr
    unknown = server.cli("follow-ups", "cancel", "fu_nope", check=False)
    assert unknown.returncode == 1 and "404" in unknown.stderr, unknown.stderr
    server.cli("follow-ups", "cancel", notify["id"])
    assert len(messages_to(server, number)) == 1


def test_a_bad_follow_up_spec_is_refused_before_anything_is_sent(
        server: ServerProcess) -> None:
    number = phone(613, "00")
    for spec, problem in (("seen after 2h: hi", "unknown condition"),
                          ("not_read after soon: hi", "not a duration"),
                          ("not_read after 2h", "not of the form"),
                          ("not_read after 2h:  ", "empty"),
                          ("not_read after 45d: hi", "at most 30 days")):
        refused = server.cli("send", number, "hello", "--follow-up", "read after 1h: fine",
                             "--follow-up", spec, check=False)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert problem in refused.stderr and "Syntax:" in refused.stderr, refused.stderr
        assert "<condition> after <duration>: <text>" in refused.stderr
        assert refused.stdout == ""
    assert messages_to(server, number) == []


def test_follow_ups_the_server_refuses_leave_nothing_sent(server: ServerProcess) -> None:
    number = phone(614, "00")
    eleven = [arg for index in range(11)
              for arg in ("--follow-up", f"not_read after {index + 1}h: ping {index}")]
    refused = server.cli("send", number, "hello", *eleven, check=False)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "400" in refused.stderr and "at most 10" in refused.stderr, refused.stderr
    assert messages_to(server, number) == []


def test_a_group_send_takes_follow_ups_too(server: ServerProcess) -> None:
    numbers = (phone(621, "01"), phone(622, "01"))
    sent = server.cli("send-group", *numbers, "hello both", "--from", SANDBOX_LINE,
                      "--follow-up", "not_read after 1s: anyone?")
    handle = handle_of(sent.stdout)
    assert "not_read after 1s → send: anyone?" in sent.stdout, sent.stdout

    def fired() -> dict[str, Any] | None:
        listed = json.loads(server.cli("follow-ups", "list", "--message", handle,
                                       "--json").stdout)
        [item] = listed["data"]
        return item if item["state"] == "fired" else None

    item = wait_for(fired, timeout=15, interval=0.2)
    assert item["group_id"] and item["result_message_handle"]
    status = server.cli("status", item["result_message_handle"], "--json").stdout
    assert json.loads(status)["content"] == "anyone?"
