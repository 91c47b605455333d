"""The sandbox as a phone: /sandbox/phones/… and `bluewire sandbox`, over real HTTP.

The server of this module delivers at once but never reads by itself (the read delay is ten
minutes), so a message stays DELIVERED until a test makes its phone read it. Every test talks
to its own phones (a distinct area code per test), so the tests do not see each other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bluewire.domain.wire.sandbox import (
    PhoneDelivered,
    PhoneRead,
    PhoneSent,
    PhoneTyped,
    PhoneView,
)

from ..answers import assert_answer
from ..databases import Engine
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

OTHER_EMAIL = "phone-other@example.com"
OTHER_KEY, OTHER_SECRET = "phone-other-key", "phone-other-secret"
LONELY_EMAIL = "phone-lonely@example.com"
LONELY_KEY, LONELY_SECRET = "phone-lonely-key", "phone-lonely-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("sandbox-phone"), env={
        "BLUEWIRE_SANDBOX_DELIVER_MS": "0", "BLUEWIRE_SANDBOX_READ_MS": "600000",
    }, engine=engine).start()
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


@pytest.fixture(scope="module")
def lonely(server: ServerProcess) -> Iterator[httpx.Client]:
    """An account with no line at all."""
    server.cli("accounts", "create", LONELY_EMAIL)
    server.cli("keys", "create", "--account", LONELY_EMAIL, "--key-id", LONELY_KEY,
               "--secret", LONELY_SECRET)
    with server.client(LONELY_KEY, LONELY_SECRET) as client:
        yield client


def send(api: httpx.Client, number: str, content: str, until: str = "DELIVERED") -> str:
    """Send `content` to `number` and wait until the message is `until`; its handle."""
    answer = api.post("/api/send-message", json={"number": number, "content": content,
                                                  "from_number": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text
    handle = answer.json()["message_handle"]
    wait_for(lambda: status(api, handle) == until)
    return handle


def status(api: httpx.Client, handle: str) -> str:
    return api.get("/api/status", params={"handle": handle}).json()["status"]


def inbound(api: httpx.Client, number: str) -> list[dict[str, Any]]:
    answer = api.get("/api/v2/messages", params={"is_outbound": "false", "number": number,
                                                 "order_by": "createdAt",
                                                 "order_direction": "asc"})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def view(api: httpx.Client, number: str) -> dict[str, Any]:
    answer = api.get(f"/sandbox/phones/{number}")
    assert answer.status_code == 200, answer.text
    assert_answer(answer.json(), PhoneView)
    return answer.json()


def conversation(api: httpx.Client, number: str) -> dict[str, Any]:
    conversations = view(api, number)["conversations"]
    assert [c["line"] for c in conversations] == [SANDBOX_LINE]
    return conversations[0]


def events(server: ServerProcess, type_: str, number: str) -> list[tuple[int, dict[str, Any]]]:
    """(account, data) of the `type_` events about `number`, oldest first, from the store."""
    rows = server.sql("SELECT account_id, data FROM events WHERE type = ? ORDER BY id", type_)
    found = [(row["account_id"], json.loads(row["data"])) for row in rows]
    return [(account, data) for account, data in found if data.get("number") == number]


def assert_validation_error(answer: httpx.Response, field: str) -> None:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["status"] == "ERROR" and body["error_code"] == 4000, body
    assert f"`{field}`" in body["message"], body


# -- the phone sends ------------------------------------------------------------------------


def test_a_phone_reply_is_an_inbound_message_of_the_account_that_wrote_to_it(
    api: httpx.Client,
) -> None:
    number = phone(201)
    send(api, number, "hello phone")
    answer = api.post(f"/sandbox/phones/{number}/messages", json={"content": "hello line"})
    assert answer.status_code == 200, answer.text
    sent = answer.json()
    assert_answer(sent, PhoneSent)
    assert sent["number"] == number and sent["line"] == SANDBOX_LINE
    assert sent["content"] == "hello line" and sent["service"] == "iMessage"
    assert sent["media_urls"] == [] and sent["sent_at"].endswith("Z")
    assert len(sent["message_handles"]) == 1
    # The answer comes once the message is recorded: it is listed at once.
    [message] = inbound(api, number)
    assert message["message_handle"] == sent["message_handles"][0]
    assert message["content"] == "hello line" and message["is_outbound"] is False
    assert message["status"] == "RECEIVED" and message["service"] == "iMessage"
    assert message["from_number"] == number and message["to_number"] == SANDBOX_LINE


def test_text_with_several_media_is_one_inbound_recorded_in_parts(api: httpx.Client) -> None:
    number = phone(202)
    send(api, number, "send me pictures")
    urls = ["https://cdn.example.com/a.png", "https://cdn.example.com/b.jpg"]
    sent = api.post(f"/sandbox/phones/{number}/messages",
                    json={"content": "two pictures", "media_urls": urls}).json()
    assert sent["media_urls"] == urls and len(sent["message_handles"]) == 2
    parts = inbound(api, number)
    assert [p["message_handle"] for p in parts] == sent["message_handles"]
    assert parts[0]["content"] == "two pictures" and parts[0]["media_url"] == urls[0]
    assert parts[1]["media_url"] == urls[1]
    assert len({p["date_sent"] for p in parts}) == 1  # one message, sent at one moment
    only_media = api.post(f"/sandbox/phones/{number}/messages",
                          json={"media_url": "https://cdn.example.com/c.mov"}).json()
    assert only_media["content"] is None and len(only_media["message_handles"]) == 1
    assert_answer(only_media, PhoneSent)


@pytest.mark.parametrize(("suffix", "service"), [("02", "SMS"), ("03", "RCS"), ("01", "iMessage")])
def test_a_phone_sends_on_its_own_service(api: httpx.Client, suffix: str, service: str) -> None:
    number = phone(203, suffix)
    send(api, number, "which service?", until="SENT" if suffix == "02" else "DELIVERED")
    sent = api.post(f"/sandbox/phones/{number}/messages", json={"content": "this one"}).json()
    assert sent["service"] == service
    [message] = inbound(api, number)
    assert message["service"] == service


def test_a_stranger_phone_reaches_no_account(api: httpx.Client) -> None:
    number = phone(204)
    sent = api.post(f"/sandbox/phones/{number}/messages", json={"content": "who is this?"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["message_handles"] == []
    assert inbound(api, number) == []
    assert view(api, number)["conversations"] == []


def test_echo_and_stop_phones_reply_by_themselves(api: httpx.Client) -> None:
    echo, stop = phone(205, "06"), phone(205, "07")
    send(api, echo, "ping")
    send(api, stop, "offer")
    wait_for(lambda: [m["content"] for m in inbound(api, echo)] == ["echo: ping"])
    wait_for(lambda: [m["content"] for m in inbound(api, stop)] == ["STOP"])
    assert [s["content"] for s in conversation(api, echo)["sent"]] == ["echo: ping"]


# -- the phone reads ------------------------------------------------------------------------


def test_reading_turns_our_delivered_messages_read(api: httpx.Client) -> None:
    number = phone(210)
    first, second = send(api, number, "one"), send(api, number, "two")
    answer = api.post(f"/sandbox/phones/{number}/read")
    assert answer.status_code == 200, answer.text
    read = answer.json()
    assert_answer(read, PhoneRead)
    assert read == {"status": "OK", "number": number, "line": SANDBOX_LINE, "read": 2,
                    "receipts_reported": True, "message_handles": [first, second],
                    "read_receipts": True}
    assert status(api, first) == status(api, second) == "READ"
    again = api.post(f"/sandbox/phones/{number}/read", json={"line": SANDBOX_LINE}).json()
    assert again["read"] == 0 and again["receipts_reported"] is False
    received = conversation(api, number)["received"]
    assert [(m["content"], m["status"]) for m in received] == [("one", "READ"), ("two", "READ")]
    assert all(m["read_at"] for m in received)


def test_a_read_message_emits_its_update(server: ServerProcess, api: httpx.Client) -> None:
    number = phone(211)
    handle = send(api, number, "watch me")
    api.post(f"/sandbox/phones/{number}/read")
    updated = [data for _, data in events(server, "message.updated", number)
               if data.get("message_handle") == handle]
    assert [data["status"] for data in updated][-1] == "READ"


@pytest.mark.parametrize(("suffix", "until"), [("01", "DELIVERED"), ("02", "SENT")])
def test_no_receipt_from_a_phone_with_receipts_off_or_on_sms(api: httpx.Client, suffix: str,
                                                             until: str) -> None:
    number = phone(212, suffix)
    handle = send(api, number, "did you read this?", until=until)
    read = api.post(f"/sandbox/phones/{number}/read").json()
    assert read["read"] == 1 and read["message_handles"] == [handle]
    assert read["receipts_reported"] is False and read["read_receipts"] is False
    assert status(api, handle) == until
    # … but the phone itself has read it.
    [message] = conversation(api, number)["received"]
    assert message["status"] == "READ" and message["read_at"]
    assert view(api, number)["read_receipts"] is False


def test_a_manual_phone_is_delivered_and_read_by_hand(api: httpx.Client) -> None:
    number = phone(213, "08")
    handle = send(api, number, "by hand", until="SENT")
    assert view(api, number)["manual"] is True
    assert api.post(f"/sandbox/phones/{number}/read").json()["read"] == 0  # not there yet
    delivered = api.post(f"/sandbox/phones/{number}/deliver").json()
    assert_answer(delivered, PhoneDelivered)
    assert delivered == {"status": "OK", "number": number, "line": SANDBOX_LINE,
                         "delivered": 1, "message_handles": [handle]}
    assert status(api, handle) == "DELIVERED"
    assert api.post(f"/sandbox/phones/{number}/deliver").json()["delivered"] == 0
    assert api.post(f"/sandbox/phones/{number}/read").json()["receipts_reported"] is True
    assert status(api, handle) == "READ"


def test_only_a_manual_phone_is_delivered_by_hand(api: httpx.Client) -> None:
    answer = api.post(f"/sandbox/phones/{phone(214)}/deliver")
    assert_validation_error(answer, "number")
    assert "manual" in answer.json()["message"]


# -- typing ---------------------------------------------------------------------------------


def test_typing_is_a_typing_changed_event(server: ServerProcess, api: httpx.Client) -> None:
    number = phone(220)
    send(api, number, "are you there?")
    started = api.post(f"/sandbox/phones/{number}/typing", json={})
    assert started.status_code == 200, started.text
    assert_answer(started.json(), PhoneTyped)
    assert started.json()["is_typing"] is True and started.json()["reported"] is True
    stopped = api.post(f"/sandbox/phones/{number}/typing", json={"typing": False}).json()
    assert stopped["is_typing"] is False
    seen = [data for _, data in events(server, "typing.changed", number)]
    assert [(d["is_typing"], d["sendblue_number"]) for d in seen] == [
        (True, SANDBOX_LINE), (False, SANDBOX_LINE)]
    assert conversation(api, number)["phone_typing"]["is_typing"] is False


def test_an_sms_phone_types_unseen(server: ServerProcess, api: httpx.Client) -> None:
    number = phone(221, "02")
    send(api, number, "sms", until="SENT")
    assert api.post(f"/sandbox/phones/{number}/typing").json()["reported"] is False
    assert events(server, "typing.changed", number) == []


# -- the phone's view -----------------------------------------------------------------------


def test_the_view_shows_both_sides_and_what_our_line_sent_the_phone(api: httpx.Client) -> None:
    number = phone(230)
    handle = send(api, number, "hi, it is us")
    api.post(f"/sandbox/phones/{number}/messages", json={"content": "hi, it is me"})
    seen = view(api, number)
    assert seen["number"] == number and seen["service"] == "iMessage"
    assert seen["read_receipts"] is True and seen["manual"] is False
    [chat] = seen["conversations"]
    [received] = chat["received"]
    assert received["message_handle"] == handle and received["content"] == "hi, it is us"
    assert received["status"] == "DELIVERED" and received["line"] == SANDBOX_LINE
    [sent] = chat["sent"]
    assert sent["content"] == "hi, it is me" and sent["read_at"] is None
    assert chat["read_receipts"] == [] and chat["typing"] is None

    # We mark the conversation read and type: the phone sees both.
    marked = api.post("/api/mark-read", json={"number": number, "from_number": SANDBOX_LINE})
    assert marked.status_code == 200, marked.text
    typing = api.post("/api/send-typing-indicator", json={"number": number})
    assert typing.status_code == 200, typing.text
    chat = wait_for(lambda: (c := conversation(api, number))["read_receipts"]
                    and c["typing"] and c)
    assert chat["read_receipts"][0]["line"] == SANDBOX_LINE
    assert chat["read_receipts"][0]["received_at"].endswith("Z")
    assert chat["sent"][0]["read_at"] == chat["read_receipts"][0]["received_at"]
    assert chat["typing"]["is_typing"] is True


def test_the_view_pages_back_through_a_long_conversation(api: httpx.Client) -> None:
    number = phone("319", "00")
    handles = [send(api, number, f"page {n}") for n in range(5)]
    reply = api.post(f"/sandbox/phones/{number}/messages", json={"content": "and back"})
    assert reply.status_code == 200, reply.text
    pages: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        answer = api.get(f"/sandbox/phones/{number}",
                         params={"limit": 2, **({"before": before} if before else {})})
        assert answer.status_code == 200, answer.text
        assert_answer(answer.json(), PhoneView)
        pages.append(answer.json())
        before = answer.json()["next_before"]
        if before is None:
            break
    seen = [(m.get("message_handle") or m["content"])
            for page in reversed(pages) for chat in page["conversations"]
            for m in chat["received"] + chat["sent"]]
    # Newest first page by page, each page in time order: every message once.
    assert sorted(seen) == sorted([*handles, "and back"])
    assert [len([m for c in p["conversations"] for m in c["received"] + c["sent"]])
            for p in pages] == [2, 2, 2]
    assert pages[0]["conversations"][0]["sent"][0]["content"] == "and back"


@pytest.mark.parametrize("limit", ["0", "501", "many"])
def test_a_bad_view_page_is_refused(api: httpx.Client, limit: str) -> None:
    answer = api.get(f"/sandbox/phones/{phone('319', '00')}", params={"limit": limit})
    assert answer.status_code == 400, answer.text
    assert "limit" in answer.json()["message"]


def test_a_phone_never_used_has_an_empty_view(api: httpx.Client) -> None:
    seen = view(api, phone(231, "03"))
    assert seen["conversations"] == [] and seen["service"] == "RCS"


def test_the_view_is_scoped_to_the_account(api: httpx.Client, other: httpx.Client,
                                           lonely: httpx.Client) -> None:
    number = phone(232)
    mine, theirs = send(api, number, "from me"), send(other, number, "from them")
    assert [m["message_handle"] for m in conversation(api, number)["received"]] == [mine]
    assert [m["message_handle"] for m in conversation(other, number)["received"]] == [theirs]
    assert view(lonely, number)["conversations"] == []

    # The phone's reply, driven through an account, reaches that account: only it sees it.
    api.post(f"/sandbox/phones/{number}/messages", json={"content": "to whom?"})
    assert [m["content"] for m in inbound(api, number)] == ["to whom?"]
    assert inbound(other, number) == []
    assert [s["content"] for s in conversation(api, number)["sent"]] == ["to whom?"]
    assert conversation(other, number)["sent"] == []

    # Reading through one account reads that account's messages only.
    read = other.post(f"/sandbox/phones/{number}/read").json()
    assert read["message_handles"] == [theirs] and read["read"] == 1
    assert status(other, theirs) == "READ"
    assert status(api, mine) == "DELIVERED"


# -- a shared line: one account cannot act on another's conversations --------------------------


def test_a_phone_driven_by_another_account_does_not_reach_the_one_it_knows(
    server: ServerProcess, api: httpx.Client, other: httpx.Client,
) -> None:
    number = phone(240, "06")  # an echo phone that only the first account wrote to
    send(api, number, "hello")
    wait_for(lambda: [m["content"] for m in inbound(api, number)] == ["echo: hello"])
    answer = other.post(f"/sandbox/phones/{number}/messages",
                        json={"content": "injected", "line": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text
    assert answer.json()["message_handles"] == []  # kept unrouted: a stranger to `other`
    assert [m["content"] for m in inbound(api, number)] == ["echo: hello"]
    assert [a for a, d in events(server, "message.received", number)
            if d.get("content") == "injected"] == []


def test_another_account_cannot_deliver_read_or_type_into_a_conversation(
    server: ServerProcess, api: httpx.Client, other: httpx.Client,
) -> None:
    manual = phone(241, "08")
    handle = send(api, manual, "held by the phone", until="SENT")
    delivered = other.post(f"/sandbox/phones/{manual}/deliver", json={"line": SANDBOX_LINE})
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["message_handles"] == [] and delivered.json()["delivered"] == 0
    assert status(api, handle) == "SENT"

    reader = phone(241, "00")
    mine = send(api, reader, "not yours to read")
    read = other.post(f"/sandbox/phones/{reader}/read", json={"line": SANDBOX_LINE})
    assert read.status_code == 200, read.text
    assert read.json()["read"] == 0
    assert status(api, mine) == "DELIVERED"

    typed = other.post(f"/sandbox/phones/{reader}/typing", json={"line": SANDBOX_LINE})
    assert typed.status_code == 200, typed.text
    wait_for(lambda: api.get(f"/sandbox/phones/{reader}").status_code == 200)
    assert events(server, "typing.changed", reader) == []

    # Through its own account the same actions work.
    assert api.post(f"/sandbox/phones/{manual}/deliver").json()["message_handles"] == [handle]
    api.post(f"/sandbox/phones/{reader}/typing")
    wait_for(lambda: [d["is_typing"] for _, d in events(server, "typing.changed", reader)]
             == [True])


def test_mark_read_needs_a_conversation_of_the_account(api: httpx.Client,
                                                       other: httpx.Client) -> None:
    number = phone(242, "01")
    send(api, number, "ours")
    refused = other.post("/api/mark-read", json={"number": number, "from_number": SANDBOX_LINE})
    assert refused.status_code == 404, refused.text
    assert f"No conversation with {number}" in refused.json()["message"]
    assert api.post("/api/mark-read", json={"number": number, "from_number": SANDBOX_LINE}
                    ).status_code == 200
    # The phone shows the second account nothing of the first's receipt.
    assert view(other, number)["conversations"] == []


def test_the_view_shows_an_account_only_its_own_receipts_and_typing(
    api: httpx.Client, other: httpx.Client,
) -> None:
    number = phone(243, "00")
    send(api, number, "first account")
    send(other, number, "second account")  # it wrote last: the line's typing is its
    assert api.post("/api/mark-read", json={"number": number, "from_number": SANDBOX_LINE}
                    ).status_code == 200
    assert other.post("/api/send-typing-indicator",
                      json={"number": number, "from_number": SANDBOX_LINE}).status_code == 200
    mine = wait_for(lambda: (c := conversation(api, number))["read_receipts"] and c)
    assert len(mine["read_receipts"]) == 1 and mine["typing"] is None
    theirs = wait_for(lambda: (c := conversation(other, number))["typing"] and c)
    assert theirs["read_receipts"] == []


def test_an_account_without_a_line_cannot_act_as_a_phone(lonely: httpx.Client) -> None:
    number = phone(233)
    for action, body in (("messages", {"content": "hi"}), ("read", {}), ("typing", {}),
                         ("deliver", {})):
        answer = lonely.post(f"/sandbox/phones/{number}/{action}", json=body)
        assert_validation_error(answer, "line")
    answer = lonely.post(f"/sandbox/phones/{number}/messages",
                         json={"content": "hi", "line": SANDBOX_LINE})
    assert_validation_error(answer, "line")
    assert "not a line of this account" in answer.json()["message"]


# -- numbers and errors ---------------------------------------------------------------------


def test_a_number_may_be_written_with_a_literal_plus_or_percent_2b(api: httpx.Client) -> None:
    number = phone(240)
    send(api, number, "spelled two ways")
    literal = api.get(f"/sandbox/phones/{number}").json()
    encoded = api.get(f"/sandbox/phones/%2B{number[1:]}").json()
    assert literal == encoded and literal["number"] == number
    assert len(literal["conversations"][0]["received"]) == 1


@pytest.mark.parametrize("number", [SANDBOX_LINE, "%2B14155550199"])
def test_a_line_is_not_a_phone(api: httpx.Client, number: str) -> None:
    for method, path, body in (("GET", "", None), ("POST", "/messages", {"content": "hi"}),
                               ("POST", "/read", {}), ("POST", "/typing", {})):
        answer = api.request(method, f"/sandbox/phones/{number}{path}", json=body)
        assert_validation_error(answer, "number")
        assert "one of our lines" in answer.json()["message"]


@pytest.mark.parametrize("number", ["14155550100", "not-a-number", "911", "%2B1"])
def test_a_bad_number_is_refused(api: httpx.Client, number: str) -> None:
    assert_validation_error(api.get(f"/sandbox/phones/{number}"), "number")
    answer = api.post(f"/sandbox/phones/{number}/messages", json={"content": "hi"})
    assert_validation_error(answer, "number")


@pytest.mark.parametrize(("body", "field"), [
    ({}, "content"),
    ({"content": ""}, "content"),
    ({"content": 5}, "content"),
    ({"content": "hi", "line": "+1 415"}, "line"),
    ({"content": "hi", "line": "+14155550123"}, "line"),
    ({"media_urls": ["ftp://example.com/a.png"]}, "media_urls[0]"),
    ({"media_urls": "https://example.com/a.png"}, "media_urls"),
    ({"media_url": "https://example.com/a.png", "media_urls": ["https://example.com/b.png"]},
     "media_url"),
    ({"media_url": "nope"}, "media_url"),
])
def test_a_bad_message_is_refused_naming_the_field(api: httpx.Client, body: dict[str, Any],
                                                  field: str) -> None:
    answer = api.post(f"/sandbox/phones/{phone(241)}/messages", json=body)
    assert_validation_error(answer, field)


def test_other_bad_bodies_are_refused(api: httpx.Client) -> None:
    number = phone(242)
    assert_validation_error(api.post(f"/sandbox/phones/{number}/typing",
                                     json={"typing": "yes"}), "typing")
    assert_validation_error(api.post(f"/sandbox/phones/{number}/read",
                                     json={"line": 12}), "line")
    answer = api.post(f"/sandbox/phones/{number}/messages", content=b"[1, 2]")
    assert answer.status_code == 400 and answer.json()["error_code"] == 4000


def test_the_sandbox_api_needs_the_key_pair(server: ServerProcess) -> None:
    number = phone(243)
    for method, path in (("GET", ""), ("POST", "/messages"), ("POST", "/read"),
                         ("POST", "/typing"), ("POST", "/deliver")):
        answer = httpx.request(method, f"{server.url}/sandbox/phones/{number}{path}",
                               json={"content": "hi"})
        assert answer.status_code == 401, (method, path, answer.text)


def test_the_openapi_document_describes_the_sandbox_phones(server: ServerProcess) -> None:
    document = httpx.get(server.url + "/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    for action in ("messages", "read", "typing", "deliver"):
        operation = paths[f"/sandbox/phones/{{number}}/{action}"]["post"]
        [number] = operation["parameters"]
        assert number["in"] == "path" and number["schema"]["pattern"].startswith("^\\+")
        assert "security" not in operation  # the account's key pair
        # Only a message needs a body; the other actions default to the first sandbox line.
        assert operation["requestBody"]["required"] is (action == "messages")
    sends = schemas["PhoneSends"]["properties"]
    assert sends["media_urls"]["maxItems"] == 10
    assert schemas["PhoneTypes"]["properties"]["typing"]["default"] is True
    behaviour = schemas["PhoneView"]["properties"]["behaviour"]["enum"]
    assert "manual" in behaviour and "SMS only" in behaviour


# -- the CLI --------------------------------------------------------------------------------


def test_the_phone_through_the_cli(server: ServerProcess, api: httpx.Client) -> None:
    number = phone(250)
    handle = send(api, number, "cli hello")
    replied = server.cli("sandbox", "reply", number, "cli answer",
                         "--media", "https://cdn.example.com/cli.png").stdout
    assert "cli answer" in replied and "received as" in replied
    parts = inbound(api, number)
    assert [(m["content"], m["media_url"]) for m in parts] == [
        ("cli answer", "https://cdn.example.com/cli.png")]

    typed = server.cli("sandbox", "type", number).stdout
    assert "is typing" in typed
    assert "stopped typing" in server.cli("sandbox", "type", number, "--stop").stdout

    read = server.cli("sandbox", "read", number, "--line", SANDBOX_LINE).stdout
    assert "read 1 message" in read and "read receipts sent" in read
    assert status(api, handle) == "READ"

    shown = server.cli("sandbox", "show", number).stdout
    assert number in shown and SANDBOX_LINE in shown
    assert "cli hello" in shown and "READ" in shown
    assert "cli answer" in shown and "https://cdn.example.com/cli.png" in shown
    assert "read receipts from" in shown


def test_manual_delivery_and_errors_through_the_cli(server: ServerProcess,
                                                    api: httpx.Client) -> None:
    number = phone(251, "08")
    handle = send(api, number, "cli manual", until="SENT")
    assert "delivered 1 message" in server.cli("sandbox", "deliver", number).stdout
    assert status(api, handle) == "DELIVERED"
    refused = server.cli("sandbox", "read", SANDBOX_LINE, check=False)
    assert refused.returncode == 1
    assert "4000" in refused.stderr and "one of our lines" in refused.stderr
    stranger = server.cli("sandbox", "reply", phone(252), "hello?").stdout
    assert "not received by this account" in stranger


def test_without_a_line_the_phone_answers_the_line_it_last_talked_with(tmp_path: Path) -> None:
    """An account with two sandbox lines: the phone's last message says which one it talks to,
    whichever of them the account got last."""
    own = ServerProcess(tmp_path, env={"BLUEWIRE_SANDBOX_READ_MS": "600000"}).start()
    second = "+14155550198"
    number = phone(253)
    try:
        own.cli("lines", "add", second, "--account", "admin@bluewire.local")
        with own.client() as api:
            for line in (SANDBOX_LINE, second, SANDBOX_LINE):
                answer = api.post("/api/send-message", json={
                    "number": number, "content": f"from {line}", "from_number": line})
                assert answer.status_code == 200, answer.text
                handle = answer.json()["message_handle"]
                wait_for(lambda handle=handle: status(api, handle) == "DELIVERED")
                replied = own.cli("sandbox", "reply", number, f"to {line}").stdout
                assert f"→ {line}" in replied, replied
                assert inbound(api, number)[-1]["sendblue_number"] == line
                # The phone's own reply is now its last message: the same line again.
                read = own.cli("sandbox", "read", number).stdout
                assert f"from {line}" in read and "read 1 message" in read, read
                assert status(api, handle) == "READ"
    finally:
        own.stop()
