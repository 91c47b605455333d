"""Tapbacks over real HTTP: POST /api/send-reaction (Sendblue's reactions docs) puts one on a
message of a conversation of the line, or takes it off (`-love`), and the sandbox phone sees it;
a sandbox phone's own tapback reaches the account as a `reaction.received` event and `receive`
webhook naming the message, never as a text message; each account sees only its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bluewire.domain.wire.reactions import PhoneReacted, ReactionAnswer

from ..answers import assert_answer
from ..databases import Engine
from ..receiver import ReceiverProcess
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

OTHER_EMAIL = "react-other@example.com"
OTHER_KEY, OTHER_SECRET = "react-other-key", "react-other-secret"
INVALID = "Invalid reaction. Must be one of: love, like, dislike, laugh, emphasize, question"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, engine: Engine,
           receiver: ReceiverProcess) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("reactions"), env={
        "BLUEWIRE_SANDBOX_DELIVER_MS": "0", "BLUEWIRE_SANDBOX_READ_MS": "600000",
    }, engine=engine).start()
    with process.client() as client:
        answer = client.post("/api/account/webhooks", json={
            "type": "receive", "webhooks": [receiver.url_for("/react-receive")]})
        assert answer.status_code == 200, answer.text
    yield process
    process.stop()


@pytest.fixture(scope="module")
def other(server: ServerProcess) -> Iterator[httpx.Client]:
    """A second account granted the shared sandbox line."""
    server.cli("accounts", "create", OTHER_EMAIL)
    server.cli("keys", "create", "--account", OTHER_EMAIL, "--key-id", OTHER_KEY,
               "--secret", OTHER_SECRET)
    server.cli("lines", "add", SANDBOX_LINE, "--account", OTHER_EMAIL)
    with server.client(OTHER_KEY, OTHER_SECRET) as client:
        yield client


def send(api: httpx.Client, number: str, content: str = "hello") -> str:
    """Send `content` to `number`, wait until the phone has it (DELIVERED); its handle."""
    answer = api.post("/api/send-message", json={"number": number, "content": content,
                                                  "from_number": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text
    handle = answer.json()["message_handle"]
    wait_for(lambda: api.get("/api/status", params={"handle": handle}).json()["status"]
             == "DELIVERED")
    return handle


def react(api: httpx.Client, handle: str, reaction: str, **extra: Any) -> httpx.Response:
    return api.post("/api/send-reaction", json={
        "from_number": SANDBOX_LINE, "message_handle": handle, "reaction": reaction, **extra})


def phone_reacts(api: httpx.Client, number: str, handle: str, reaction: str,
                 **extra: Any) -> httpx.Response:
    return api.post(f"/sandbox/phones/{number}/reactions",
                    json={"message_handle": handle, "reaction": reaction, **extra})


def seen_reactions(api: httpx.Client, number: str) -> list[dict[str, Any]]:
    view = api.get(f"/sandbox/phones/{number}")
    assert view.status_code == 200, view.text
    return [r for c in view.json()["conversations"] for r in c["reactions"]]


def reaction_hooks(receiver: ReceiverProcess, handle: str) -> list[dict[str, Any]]:
    return [r.json for r in receiver.received("/react-receive")
            if r.json.get("message_type") == "reaction" and r.json.get("reacted_to") == handle]


def test_a_reaction_reaches_the_phone_and_its_removal_too(api: httpx.Client,
                                                          server: ServerProcess) -> None:
    number = phone(611, "01")
    handle = send(api, number, "Dinner at eight?")
    answer = react(api, handle, "love")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "OK", "message": "Reaction request sent",
                             "message_handle": handle, "reaction": "love"}
    assert_answer(answer.json(), ReactionAnswer)
    seen = wait_for(lambda: seen_reactions(api, number))
    assert [(r["message_handle"], r["reaction"], r["removed"], r["part_index"],
             r["from_phone"]) for r in seen] == [(handle, "love", False, 0, False)]

    removal = react(api, handle, "-love", part_index=0)
    assert removal.status_code == 200, removal.text
    assert removal.json()["reaction"] == "-love"
    seen = wait_for(lambda: len(seen_reactions(api, number)) == 2 and seen_reactions(api, number))
    assert [(r["reaction"], r["removed"]) for r in seen] == [("love", False), ("-love", True)]
    created = server.sql("SELECT data FROM events WHERE type = 'reaction.created' "
                         "ORDER BY id")
    mine = [json.loads(row["data"]) for row in created
            if json.loads(row["data"])["reacted_to"] == handle]
    assert [(e["reaction"], e["removed"], e["is_outbound"]) for e in mine] == [
        ("love", False, True), ("-love", True, True)]


def test_a_reaction_goes_on_a_phones_own_message(api: httpx.Client) -> None:
    number = phone(612, "01")
    send(api, number, "Tell me when you land")
    sent = api.post(f"/sandbox/phones/{number}/messages",
                    json={"content": "Landed", "line": SANDBOX_LINE})
    assert sent.status_code == 200, sent.text
    inbound = sent.json()["message_handles"][0]
    assert react(api, inbound, "like").status_code == 200
    seen = wait_for(lambda: seen_reactions(api, number))
    assert [(r["message_handle"], r["reaction"]) for r in seen] == [(inbound, "like")]


@pytest.mark.parametrize(("body", "says"), [
    ({"reaction": "hug"}, INVALID),
    ({"reaction": ""}, INVALID),
    ({"reaction": "--love"}, INVALID),
    ({"reaction": "love", "part_index": -1}, "part_index"),
    ({"reaction": "love", "part_index": "first"}, "part_index"),
    ({"reaction": "love", "part_index": 1.5}, "part_index"),
    ({"reaction": "love", "message_handle": ""}, "message_handle"),
    ({"reaction": "love", "from_number": "+14155550000"}, "is not a line of this account"),
    ({"reaction": "love", "from_number": None}, "from_number"),
])
def test_a_bad_reaction_is_refused_saying_what_to_fix(api: httpx.Client, body: dict[str, Any],
                                                      says: str) -> None:
    handle = send(api, phone(613, "01"))
    answer = api.post("/api/send-reaction", json={
        "from_number": SANDBOX_LINE, "message_handle": handle, **body})
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["message"]
    assert answer.json()["error_code"] == 4000


def test_a_message_that_is_not_the_accounts_is_not_found(api: httpx.Client,
                                                        other: httpx.Client) -> None:
    assert react(api, "no-such-message", "love").status_code == 404
    theirs = send(other, phone(614, "01"), "the other account's")
    answer = react(api, theirs, "love")
    assert answer.status_code == 404, answer.text
    assert "No message with handle" in answer.json()["message"]
    mine = send(api, phone(614, "11"), "mine")
    assert react(other, mine, "love").status_code == 404
    assert seen_reactions(api, phone(614, "11")) == []


def test_a_line_that_cannot_react_says_so(server: ServerProcess, api: httpx.Client) -> None:
    line = "+14155557011"
    server.cli("lines", "add", line, "--account", "admin@bluewire.local", "--connector", "agent")
    answer = api.post("/api/send-reaction", json={
        "from_number": line, "message_handle": "anything", "reaction": "love"})
    assert answer.status_code == 400, answer.text
    assert "cannot send reactions (reactions)" in answer.json()["message"]


def test_a_repeated_idempotency_key_answers_the_same_without_a_second_reaction(
        server: ServerProcess, api: httpx.Client) -> None:
    number = phone(615, "01")
    handle = send(api, number)
    headers = {"Idempotency-Key": f"react-{handle}"}
    first = api.post("/api/send-reaction", headers=headers, json={
        "from_number": SANDBOX_LINE, "message_handle": handle, "reaction": "laugh"})
    again = api.post("/api/send-reaction", headers=headers, json={
        "from_number": SANDBOX_LINE, "message_handle": handle, "reaction": "laugh"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert again.headers.get("idempotent-replayed") == "true"
    rows = server.sql("SELECT reaction FROM reactions WHERE message_handle = ?", handle)
    assert [row["reaction"] for row in rows] == ["laugh"]
    other_body = api.post("/api/send-reaction", headers=headers, json={
        "from_number": SANDBOX_LINE, "message_handle": handle, "reaction": "like"})
    assert other_body.status_code == 422


def test_a_phones_reaction_is_a_receive_webhook_not_a_message(
        api: httpx.Client, server: ServerProcess, receiver: ReceiverProcess) -> None:
    number = phone(616, "01")
    handle = send(api, number, "Are we still on for Friday?")
    answer = phone_reacts(api, number, handle, "emphasize", line=SANDBOX_LINE)
    assert answer.status_code == 200, answer.text
    assert_answer(answer.json(), PhoneReacted)
    body = answer.json()
    assert (body["message_handle"], body["reaction"], body["removed"]) == (
        handle, "emphasize", False)
    assert body["reaction_handle"]
    hook = wait_for(lambda: reaction_hooks(receiver, handle))[0]
    assert hook["reaction"] == "emphasize" and hook["removed"] is False
    assert hook["associated_message_handle"] == handle
    assert hook["message_handle"] == body["reaction_handle"]
    assert (hook["from_number"], hook["to_number"], hook["is_outbound"]) == (
        number, SANDBOX_LINE, False)
    assert hook["content"] is None
    listed = api.get("/api/v2/messages", params={"number": number}).json()["data"]
    assert [m["message_handle"] for m in listed] == [handle]  # no text message came of it

    removal = phone_reacts(api, number, handle, "-emphasize")
    assert removal.status_code == 200, removal.text
    hooks = wait_for(lambda: len(reaction_hooks(receiver, handle)) == 2
                     and reaction_hooks(receiver, handle))
    assert [(h["reaction"], h["removed"]) for h in hooks] == [
        ("emphasize", False), ("-emphasize", True)]
    seen = seen_reactions(api, number)
    assert [(r["reaction"], r["from_phone"]) for r in seen] == [
        ("emphasize", True), ("-emphasize", True)]
    events = server.sql("SELECT data FROM events WHERE type = 'reaction.received'")
    assert sum(json.loads(e["data"])["reacted_to"] == handle for e in events) == 2


def test_a_phone_reacts_only_to_what_the_account_sent_it(api: httpx.Client,
                                                         other: httpx.Client,
                                                         server: ServerProcess) -> None:
    number, elsewhere = phone(617, "01"), phone(617, "11")
    handle = send(api, number, "only for 617-01")
    not_received = phone_reacts(api, elsewhere, handle, "like")
    assert not_received.status_code == 404, not_received.text
    # The other account sharing the line cannot make the phone react to this account's message.
    assert phone_reacts(other, number, handle, "like").status_code == 404
    assert phone_reacts(api, number, "no-such-message", "like").status_code == 404
    bad = phone_reacts(api, number, handle, "wave")
    assert bad.status_code == 400 and INVALID in bad.json()["message"]
    assert phone_reacts(api, number, handle, "like", part_index=-2).status_code == 400
    theirs = send(other, phone(617, "21"), "the other account's")
    assert phone_reacts(other, phone(617, "21"), theirs, "love").status_code == 200
    assert seen_reactions(api, phone(617, "21")) == []
    other_id = server.sql("SELECT id FROM accounts WHERE email = ?", OTHER_EMAIL)[0]["id"]
    mine = server.sql("SELECT account_id FROM reactions WHERE message_handle = ?", theirs)
    assert [row["account_id"] for row in mine] == [other_id]


def test_an_sms_phone_has_no_tapbacks(api: httpx.Client) -> None:
    number = phone(618, "02")
    answer = api.post("/api/send-message", json={"number": number, "content": "sms",
                                                  "from_number": SANDBOX_LINE})
    handle = answer.json()["message_handle"]
    wait_for(lambda: api.get("/api/status", params={"handle": handle}).json()["status"]
             == "SENT")
    refused = phone_reacts(api, number, handle, "love")
    assert refused.status_code == 400 and "SMS" in refused.json()["message"]


def test_a_reaction_left_queued_by_a_process_that_died_is_handed_over(
        api: httpx.Client, server: ServerProcess) -> None:
    number = phone(619, "01")
    handle = send(api, number, "still there?")
    account = server.sql("SELECT account_id FROM messages WHERE handle = ?", handle)[0]
    # As a process leaves it when it dies between committing a reaction and handing it over:
    # queued, its lease run out.
    server.sql("INSERT INTO reactions (handle, account_id, line, number, message_handle, "
               "part_index, reaction, removed, is_outbound, state, due_at, attempts, "
               "created_at) VALUES (?, ?, ?, ?, ?, 0, 'question', ?, ?, 'queued', 1, 1, 1)",
               f"left-{handle}", account["account_id"], SANDBOX_LINE, number, handle, False,
               True)
    seen = wait_for(lambda: seen_reactions(api, number))
    assert [(r["message_handle"], r["reaction"]) for r in seen] == [(handle, "question")]
    [row] = server.sql("SELECT state, attempts FROM reactions WHERE handle = ?",
                       f"left-{handle}")
    assert (row["state"], row["attempts"]) == ("sent", 2)


def test_a_phone_reacts_to_a_group_message(api: httpx.Client, server: ServerProcess) -> None:
    numbers = [phone(620, "01"), phone(620, "11")]
    created = api.post("/api/send-group-message", json={
        "numbers": numbers, "content": "Team lunch Friday?", "from_number": SANDBOX_LINE})
    assert created.status_code == 200, created.text
    handle, group_id = created.json()["message_handle"], created.json()["group_id"]
    wait_for(lambda: api.get("/api/status", params={"handle": handle}).json()["status"]
             == "DELIVERED")
    answer = phone_reacts(api, numbers[1], handle, "love")
    assert answer.status_code == 200, answer.text
    events = server.sql("SELECT data FROM events WHERE type = 'reaction.received'")
    [event] = [d for e in events if (d := json.loads(e["data"]))["reacted_to"] == handle]
    assert (event["group_id"], event["from_number"]) == (group_id, numbers[1])
    assert react(api, handle, "like").status_code == 200

    def ours(number: str) -> list[tuple[str, str]]:
        return [(r["message_handle"], r["reaction"]) for r in seen_reactions(api, number)
                if not r["from_phone"]]

    for number in numbers:  # every member of the group sees the line's tapback
        wait_for(lambda number=number: ours(number) == [(handle, "like")])
