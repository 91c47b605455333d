"""Inline replies over real HTTP: `reply_to` on send-message and send-group-message answers a
message of the same conversation and line (anything else is a 400 that says so), it is in every
answer, row and webhook of the message, the sandbox phone sees it, and a phone's own inline
reply reaches the account saying which message it answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

ADMIN = "admin@bluewire.local"


def send(api: httpx.Client, number: str, content: str, **extra: Any) -> httpx.Response:
    return api.post("/api/send-message", json={"number": number, "content": content,
                                               "from_number": SANDBOX_LINE, **extra})


def sent(api: httpx.Client, number: str, content: str, **extra: Any) -> dict[str, Any]:
    answer = send(api, number, content, **extra)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_reply_names_the_message_it_answers_everywhere(api: httpx.Client) -> None:
    number = phone(501, "01")
    first = sent(api, number, "Which day suits you?")
    reply = sent(api, number, "Tuesday works too",
                 reply_to={"message_handle": first["message_handle"], "part_index": 0})
    expected = {"message_handle": first["message_handle"], "part_index": 0}
    assert reply["reply_to"] == expected
    assert first["reply_to"] is None
    one = api.get(f"/api/v2/messages/{reply['message_handle']}").json()["data"]
    assert one["reply_to"] == expected
    status = api.get("/api/status", params={"handle": reply["message_handle"]}).json()
    assert status["reply_to"] == expected

    def phone_has_it() -> dict[str, Any] | None:
        seen = api.get(f"/sandbox/phones/{number}").json()
        received = [m for c in seen["conversations"] for m in c["received"]
                    if m["message_handle"] == reply["message_handle"]]
        return received[0] if received else None

    assert wait_for(phone_has_it)["reply_to"] == first["message_handle"]


@pytest.mark.parametrize(("reply_to", "says"), [
    ({"message_handle": "no-such-message"}, "reply_to.message_handle"),
    ({"message_handle": ""}, "message_handle"),
    ({"part_index": 0}, "message_handle"),
    ({"message_handle": "x", "part_index": -1}, "part_index"),
    ("just-a-handle", "reply_to"),
])
def test_a_malformed_reply_is_refused_with_the_field(api: httpx.Client, reply_to: Any,
                                                     says: str) -> None:
    answer = send(api, phone(502, "01"), "hi", reply_to=reply_to)
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["message"]


def test_a_reply_must_answer_a_message_of_its_own_conversation(api: httpx.Client) -> None:
    elsewhere = sent(api, phone(503, "01"), "to someone else")
    answer = send(api, phone(503, "02"), "not yours",
                  reply_to={"message_handle": elsewhere["message_handle"]})
    assert answer.status_code == 400
    assert "is not a message of this conversation" in answer.json()["message"]
    assert api.get("/api/v2/messages", params={"number": phone(503, "02")}).json()["data"] == []


def test_a_group_reply_answers_a_message_of_the_group(api: httpx.Client) -> None:
    numbers = [phone(504, "01"), phone(504, "11")]
    first = api.post("/api/send-group-message", json={
        "numbers": numbers, "content": "Lunch?", "from_number": SANDBOX_LINE}).json()
    reply = api.post("/api/send-group-message", json={
        "group_id": first["group_id"], "content": "At noon", "from_number": SANDBOX_LINE,
        "reply_to": {"message_handle": first["message_handle"]}})
    assert reply.status_code == 200, reply.text
    assert reply.json()["reply_to"] == {"message_handle": first["message_handle"]}
    new_group = api.post("/api/send-group-message", json={
        "numbers": numbers, "content": "again", "from_number": SANDBOX_LINE,
        "reply_to": {"message_handle": first["message_handle"]}})
    assert new_group.status_code == 400 and "group_id" in new_group.json()["message"]
    one_to_one = sent(api, numbers[0], "just you")
    cross = api.post("/api/send-group-message", json={
        "group_id": first["group_id"], "content": "mixed", "from_number": SANDBOX_LINE,
        "reply_to": {"message_handle": one_to_one["message_handle"]}})
    assert cross.status_code == 400


def test_a_phones_inline_reply_says_what_it_answers(api: httpx.Client) -> None:
    number = phone(505, "01")
    ours = sent(api, number, "Can you confirm?")
    wait_for(lambda: api.get("/api/status", params={"handle": ours["message_handle"]}
                             ).json()["status"] == "DELIVERED")
    answer = api.post(f"/sandbox/phones/{number}/messages", json={
        "content": "Confirmed", "line": SANDBOX_LINE,
        "reply_to": {"message_handle": ours["message_handle"]}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["reply_to"] == ours["message_handle"]
    inbound = api.get("/api/v2/messages", params={"number": number, "is_outbound": "false"}
                      ).json()["data"]
    assert [m["reply_to"] for m in inbound] == [{"message_handle": ours["message_handle"]}]
    stranger = api.post(f"/sandbox/phones/{phone(505, '11')}/messages", json={
        "content": "Me too", "line": SANDBOX_LINE,
        "reply_to": {"message_handle": ours["message_handle"]}})
    assert stranger.status_code == 400
    assert "not a message between this phone" in stranger.json()["message"]


def test_a_line_that_cannot_send_inline_replies_refuses_them(server: ServerProcess,
                                                            api: httpx.Client) -> None:
    line = "+14155557001"
    server.cli("lines", "add", line, "--account", ADMIN, "--connector", "agent")
    answer = api.post("/api/send-message", json={
        "number": phone(506, "01"), "content": "hi", "from_number": line,
        "reply_to": {"message_handle": "anything"}})
    assert answer.status_code == 400
    assert "cannot send inline replies (replies)" in answer.json()["message"]
