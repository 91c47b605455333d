"""Follow-ups given with the message they follow up (`follow_ups` on send-message and
send-group-message): scheduled in the transaction that accepts it, checked before anything is
sent, and chained, a follow-up's message carrying follow-ups of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ..databases import Engine
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

FOLLOW_UPS = "/api/v2/follow-ups"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("sequences"), env={
        "BLUEWIRE_SANDBOX_READ_MS": "1500", "BLUEWIRE_SWEEP_INTERVAL_MS": "200",
    }, engine=engine).start()
    yield process
    process.stop()


def send(api: httpx.Client, body: dict[str, Any], path: str = "/api/send-message",
         **headers: str) -> httpx.Response:
    return api.post(path, json={"from_number": SANDBOX_LINE, "content": "first", **body},
                    headers=headers)


def follow_ups_of(api: httpx.Client, handle: str) -> list[dict[str, Any]]:
    answer = api.get(FOLLOW_UPS, params={"message": handle})
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def fired(api: httpx.Client, handle: str) -> dict[str, Any]:
    """The one follow-up of `handle`, once it has fired."""
    def check() -> dict[str, Any] | None:
        found = follow_ups_of(api, handle)
        return found[0] if found and found[0]["state"] == "fired" else None

    result: dict[str, Any] = wait_for(check, timeout=20, interval=0.1)
    return result


def messages_to(api: httpx.Client, number: str) -> list[dict[str, Any]]:
    answer = api.get("/api/v2/messages", params={
        "number": number, "is_outbound": "true", "order_by": "createdAt",
        "order_direction": "asc"})
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def test_a_send_with_follow_ups_schedules_them_with_the_message(api: httpx.Client) -> None:
    number = phone(561, "01")  # never sends read receipts: not_read holds
    answer = send(api, {"number": number, "follow_ups": [
        {"condition": "not_read", "after": 1,
         "action": {"send": {"content": "Did you see this?"}}},
        {"condition": "read", "after": "PT1H", "action": {"notify": {"task": "thank"}}},
    ]})
    assert answer.status_code == 200, answer.text
    parent = answer.json()["message_handle"]
    scheduled = follow_ups_of(api, parent)
    assert sorted(f["condition"] for f in scheduled) == ["not_read", "read"]
    wait_for(lambda: len(messages_to(api, number)) == 2, timeout=20)
    child = messages_to(api, number)[1]
    assert child["content"] == "Did you see this?"
    states = {f["condition"]: f["state"] for f in follow_ups_of(api, parent)}
    assert states == {"not_read": "fired", "read": "scheduled"}


def test_a_sequence_chains_through_the_follow_ups_messages(api: httpx.Client) -> None:
    number = phone(562, "01")
    answer = send(api, {"number": number, "content": "A", "follow_ups": [
        {"condition": "not_read", "after": 1, "action": {"send": {
            "content": "B", "follow_ups": [
                {"condition": "not_replied", "after": 1,
                 "action": {"send": {"content": "C"}}}]}}}]})
    assert answer.status_code == 200, answer.text
    first = fired(api, answer.json()["message_handle"])
    second = fired(api, first["result_message_handle"])
    wait_for(lambda: [m["content"] for m in messages_to(api, number)] == ["A", "B", "C"],
             timeout=20)
    assert second["condition"] == "not_replied"


def test_a_group_send_takes_follow_ups(api: httpx.Client) -> None:
    numbers = [phone(563, "01"), phone(564, "01")]
    answer = send(api, {"numbers": numbers, "follow_ups": [
        {"condition": "not_replied", "after": 1,
         "action": {"send": {"content": "anyone?"}}}]}, path="/api/send-group-message")
    assert answer.status_code == 200, answer.text
    done = fired(api, answer.json()["message_handle"])
    child = api.get(f"/api/v2/messages/{done['result_message_handle']}").json()["data"]
    assert child["group_id"] == answer.json()["group_id"] and child["content"] == "anyone?"


@pytest.mark.parametrize(("follow_ups", "field"), [
    ([{"condition": "not_read", "after": 1, "action": {"notify": {}}}] * 11, "follow_ups"),
    ([{"condition": "soon", "after": 1, "action": {"notify": {}}}], "condition"),
    ([{"condition": "read", "after": "two hours", "action": {"notify": {}}}], "after"),
    ([{"condition": "read", "after": 1, "action": {}}], "action"),
])
def test_bad_follow_ups_refuse_the_send_and_send_nothing(api: httpx.Client,
                                                         follow_ups: list[Any],
                                                         field: str) -> None:
    number = phone(565, "01")
    answer = send(api, {"number": number, "follow_ups": follow_ups})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == 4000 and field in answer.json()["message"]
    assert messages_to(api, number) == []


def test_a_sequence_nested_too_deep_is_refused(api: httpx.Client) -> None:
    action: dict[str, Any] = {"send": {"content": "last"}}
    for _ in range(6):
        action = {"send": {"content": "next", "follow_ups": [
            {"condition": "not_read", "after": 60, "action": action}]}}
    answer = send(api, {"number": phone(566, "01"), "follow_ups": [
        {"condition": "not_read", "after": 60, "action": action}]})
    assert answer.status_code == 400, answer.text
    assert "nest at most" in answer.json()["message"]


def test_a_retried_send_schedules_its_follow_ups_once(api: httpx.Client) -> None:
    key = str(uuid.uuid4())
    body = {"number": phone(567, "01"), "follow_ups": [
        {"condition": "not_read", "after": 3600, "action": {"notify": {}}}]}
    first = send(api, body, **{"Idempotency-Key": key})
    again = send(api, body, **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 200
    assert first.json()["message_handle"] == again.json()["message_handle"]
    assert len(follow_ups_of(api, first.json()["message_handle"])) == 1
