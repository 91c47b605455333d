"""Inbound messages, routing by contacts, opt-out, and the read receipts and typing indicators
we send: over real HTTP, against a real server and a real webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ..databases import Engine
from ..receiver import ReceiverProcess
from ..server import SANDBOX_LINE, ServerProcess, wait_for

RECEIVE_KEYS = {"accountEmail", "content", "media_url", "is_outbound", "status", "error_code",
                 "error_message", "message_handle", "date_sent", "date_updated", "from_number",
                 "number", "to_number", "was_downgraded", "plan"}


@pytest.fixture(scope="module")
def hooked(server: ServerProcess, receiver: ReceiverProcess) -> ServerProcess:
    with server.client() as client:
        answer = client.post("/api/account/webhooks", json={
            "type": "receive", "webhooks": [receiver.url_for("/receive")]})
        assert answer.status_code == 200, answer.text
    return server


def send(client: httpx.Client, number: str, content: str = "hello") -> dict:
    answer = client.post("/api/send-message", json={"number": number, "content": content,
                                                    "from_number": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text
    return answer.json()


def inbound_rows(client: httpx.Client, number: str) -> list[dict]:
    return client.get("/api/v2/messages", params={"is_outbound": "false", "number": number}
                      ).json()["data"]


def test_a_reply_from_a_contact_arrives_as_a_receive_webhook_with_every_field_sendblue_sends(
    hooked: ServerProcess, receiver: ReceiverProcess, api: httpx.Client,
) -> None:
    sent = send(api, "+12125550106", "ping")  # 06 echoes after delivery
    echo = wait_for(lambda: [r for r in receiver.received("/receive")
                             if r.json["number"] == "+12125550106"])[0].json
    assert echo.keys() >= RECEIVE_KEYS
    assert echo["content"] == "echo: ping"
    assert (echo["status"], echo["is_outbound"]) == ("RECEIVED", False)
    assert echo["from_number"] == echo["number"] == "+12125550106"
    assert echo["to_number"] == SANDBOX_LINE
    assert echo["accountEmail"] == sent["account_email"]
    assert echo["error_code"] is None and echo["was_downgraded"] is False
    row = inbound_rows(api, "+12125550106")[0]
    assert row["message_handle"] == echo["message_handle"]
    assert row["status"] == "RECEIVED"
    # GET /api/status says the same of it as the list does.
    status = api.get("/api/status", params={"handle": echo["message_handle"]}).json()
    assert (status["status"], status["is_outbound"]) == ("RECEIVED", False)


def test_sending_to_a_number_makes_it_a_contact(hooked: ServerProcess,
                                                api: httpx.Client) -> None:
    send(api, "+13105550100")
    rows = hooked.sql("SELECT number, sendblue_number FROM contacts WHERE number = ?",
                      "+13105550100")
    assert rows == [{"number": "+13105550100", "sendblue_number": SANDBOX_LINE}]


def test_stop_opts_out_and_start_opts_back_in(hooked: ServerProcess, api: httpx.Client,
                                              receiver: ReceiverProcess) -> None:
    send(api, "+14085550107", "hi")  # 07 answers STOP after delivery
    stop = wait_for(lambda: [r for r in receiver.received("/receive")
                             if r.json["number"] == "+14085550107"])[0].json
    assert stop["content"] == "STOP" and stop["opted_out"] is True

    def refused() -> httpx.Response | None:
        answer = api.post("/api/send-message", json={
            "number": "+14085550107", "content": "again", "from_number": SANDBOX_LINE})
        return answer if answer.status_code == 400 else None

    answer = wait_for(refused).json()
    assert (answer["error_code"], answer["error_key"]) == (4002, "OPTED_OUT")
    assert "+14085550107" in answer["message"] and "START" in answer["message"]
    assert hooked.sql("SELECT opted_out FROM contacts WHERE number = ?",
                      "+14085550107") == [{"opted_out": True}]


def test_opted_out_is_the_same_in_the_webhook_and_the_message_api(
    hooked: ServerProcess, api: httpx.Client, receiver: ReceiverProcess,
) -> None:
    number = "+15035550107"  # 07 answers STOP after delivery

    def heard(content: str) -> dict:
        return wait_for(lambda: [r.json for r in receiver.received("/receive")
                                 if r.json["number"] == number
                                 and r.json["content"] == content])[0]

    def shown(handle: str) -> tuple[bool, bool, bool]:
        row = next(r for r in inbound_rows(api, number) if r["message_handle"] == handle)
        one = api.get(f"/api/v2/messages/{handle}").json()["data"]
        status = api.get("/api/status", params={"handle": handle}).json()
        return row["opted_out"], one["opted_out"], status["opted_out"]

    send(api, number, "hi")
    stop = heard("STOP")
    assert stop["opted_out"] is True
    assert shown(stop["message_handle"]) == (True, True, True)

    answer = api.post(f"/sandbox/phones/{number}/messages",
                      json={"line": SANDBOX_LINE, "content": "START"})
    assert answer.status_code == 200, answer.text
    start = heard("START")
    assert start["opted_out"] is False
    assert shown(start["message_handle"]) == (False, False, False)


def test_two_accounts_on_the_shared_line_never_see_each_others_inbound(
    hooked: ServerProcess, api: httpx.Client,
) -> None:
    hooked.cli("accounts", "create", "second@example.com")
    hooked.cli("keys", "create", "--account", "second@example.com", "--key-id", "second",
               "--secret", "second-secret")
    hooked.cli("lines", "add", SANDBOX_LINE, "--account", "second@example.com")
    with hooked.client("second", "second-secret") as second:
        send(second, "+16465550106", "theirs")
        send(api, "+17185550106", "mine")
        theirs = wait_for(lambda: inbound_rows(second, "+16465550106"))
        mine = wait_for(lambda: inbound_rows(api, "+17185550106"))
        assert theirs[0]["content"] == "echo: theirs"
        assert mine[0]["content"] == "echo: mine"
        assert inbound_rows(api, "+16465550106") == []
        assert inbound_rows(second, "+17185550106") == []
        assert theirs[0]["accountEmail"] == "second@example.com"


def test_the_phone_that_last_heard_from_an_account_answers_to_it(
    hooked: ServerProcess, api: httpx.Client,
) -> None:
    with hooked.client("second", "second-secret") as second:
        send(api, "+19175550106", "from the first")
        wait_for(lambda: inbound_rows(api, "+19175550106"))
        send(second, "+19175550106", "from the second")
        echoes = wait_for(lambda: inbound_rows(second, "+19175550106"))
        assert echoes[0]["content"] == "echo: from the second"
        assert [r["content"] for r in inbound_rows(api, "+19175550106")] == [
            "echo: from the first"]


# The bodies of Sendblue's read-receipt docs, field for field.
MISSING_NUMBER = {"status": "ERROR", "message": "You must specify a `number` in the request body."}
BAD_FROM = {"status": "ERROR",
            "message": "You must specify a valid `from_number` in the request body."}
NOT_REGISTERED = {"status": "ERROR", "message": "The from_number is not registered"}
NOT_BOOLEAN = {"status": "ERROR", "message": "auto_mark_read must be a boolean"}


@pytest.mark.parametrize(("body", "status", "expected"), [
    ({}, 400, MISSING_NUMBER),
    ({"from_number": SANDBOX_LINE}, 400, MISSING_NUMBER),
    ({"number": "", "from_number": SANDBOX_LINE}, 400, MISSING_NUMBER),
    ({"number": "+14155550100"}, 400, BAD_FROM),
    ({"number": "+14155550100", "from_number": "not a number"}, 400, BAD_FROM),
    ({"number": "+14155550100", "from_number": "+14155559999"}, 404, NOT_REGISTERED),
])
def test_mark_read_errors_are_sendblues_bodies(api: httpx.Client, body: dict, status: int,
                                               expected: dict) -> None:
    answer = api.post("/api/mark-read", json=body)
    assert answer.status_code == status
    assert answer.json() == expected


def test_mark_read_succeeds_with_sendblues_body_and_is_recorded(
    hooked: ServerProcess, api: httpx.Client,
) -> None:
    send(api, "+15035550100")
    answer = api.post("/api/mark-read", json={"number": "+15035550100",
                                              "from_number": SANDBOX_LINE})
    assert answer.status_code == 200
    assert answer.json() == {"status": "OK", "message": "Mark read request sent",
                             "number": "+15035550100"}
    assert hooked.sql("SELECT mode FROM read_receipts WHERE number = ?",
                      "+15035550100") == [{"mode": "manual"}]


def test_mark_read_of_an_sms_conversation_is_refused(hooked: ServerProcess,
                                                     api: httpx.Client) -> None:
    send(api, "+15035550102")  # 02: SMS only
    wait_for(lambda: api.get("/api/v2/messages", params={"number": "+15035550102"}
                             ).json()["data"][0]["service"] == "SMS")
    answer = api.post("/api/mark-read", json={"number": "+15035550102",
                                              "from_number": SANDBOX_LINE})
    assert answer.status_code == 400
    assert "iMessage and RCS" in answer.json()["message"]
    # A number never written to has no conversation to mark read.
    never = api.post("/api/mark-read", json={"number": "+16175550102",
                                             "from_number": SANDBOX_LINE})
    assert never.status_code == 404
    assert never.json()["message"].startswith("No conversation with +16175550102")


def test_a_line_of_another_account_is_not_registered_for_mark_read(
    hooked: ServerProcess,
) -> None:
    hooked.cli("accounts", "create", "third-mr@example.com")
    hooked.cli("keys", "create", "--account", "third-mr@example.com", "--key-id", "third-mr",
               "--secret", "third-mr-secret")
    with hooked.client("third-mr", "third-mr-secret") as third:
        answer = third.post("/api/mark-read", json={"number": "+14155550100",
                                                    "from_number": SANDBOX_LINE})
    assert answer.status_code == 404
    assert answer.json() == NOT_REGISTERED


@pytest.mark.parametrize("value", ["true", 1, 0, None, "false", [], {}])
def test_auto_mark_read_takes_only_a_json_boolean(api: httpx.Client, value: object) -> None:
    answer = api.post("/accounts/settings/auto-mark-read", json={"auto_mark_read": value})
    assert answer.status_code == 400
    assert answer.json() == NOT_BOOLEAN


def test_auto_mark_read_with_no_or_broken_body_is_refused_the_same_way(
    api: httpx.Client,
) -> None:
    for raw in (b"", b"{", b"[true]"):
        answer = api.post("/accounts/settings/auto-mark-read", content=raw,
                          headers={"content-type": "application/json"})
        assert answer.status_code == 400
        assert answer.json() == NOT_BOOLEAN


def test_auto_mark_read_toggles_with_sendblues_body(hooked: ServerProcess,
                                                    api: httpx.Client) -> None:
    for value in (True, False):
        answer = api.post("/accounts/settings/auto-mark-read", json={"auto_mark_read": value})
        assert answer.status_code == 200
        assert answer.json() == {"status": "OK", "auto_mark_read": value}


def test_auto_mark_read_answers_a_1to1_imessage_from_the_very_next_inbound(
    hooked: ServerProcess, api: httpx.Client,
) -> None:
    def receipts(number: str) -> list[tuple[str, str]]:
        return [(row["mode"], row["message_handle"]) for row in hooked.sql(
            "SELECT mode, message_handle FROM read_receipts WHERE number = ?", number)]

    api.post("/accounts/settings/auto-mark-read", json={"auto_mark_read": False})
    send(api, "+12065550106", "before")  # echo arrives while auto is off
    wait_for(lambda: inbound_rows(api, "+12065550106"))
    assert receipts("+12065550106") == []

    api.post("/accounts/settings/auto-mark-read", json={"auto_mark_read": True})
    send(api, "+12065550106", "after")
    echoes = wait_for(lambda: [r for r in inbound_rows(api, "+12065550106")
                               if r["content"] == "echo: after"])
    assert receipts("+12065550106") == [("auto", echoes[0]["message_handle"])]

    api.post("/accounts/settings/auto-mark-read", json={"auto_mark_read": False})
    send(api, "+12065550106", "off again")
    wait_for(lambda: [r for r in inbound_rows(api, "+12065550106")
                      if r["content"] == "echo: off again"])
    assert len(receipts("+12065550106")) == 1


def test_typing_indicator_is_sent_to_a_contact(hooked: ServerProcess,
                                               api: httpx.Client) -> None:
    send(api, "+17735550100")
    answer = api.post("/api/send-typing-indicator", json={"number": "+17735550100",
                                                          "from_number": SANDBOX_LINE})
    assert answer.status_code == 200
    assert answer.json() == {"status": "SENT", "number": "+17735550100"}
    stop = api.post("/api/send-typing-indicator", json={"number": "+17735550100",
                                                        "state": "stop"})
    assert stop.json()["status"] == "SENT"


def test_typing_indicator_errors(api: httpx.Client) -> None:
    missing = api.post("/api/send-typing-indicator", json={})
    assert (missing.status_code, missing.json()) == (400, MISSING_NUMBER)
    stranger = api.post("/api/send-typing-indicator", json={"number": "+17735559876"})
    assert stranger.status_code == 400
    assert stranger.json() == {
        "status": "ERROR", "status_code": 400, "number": "+17735559876",
        "error_message": "No route mapping found for number, have you messaged them before?"}
    bad_state = api.post("/api/send-typing-indicator", json={"number": "+17735550100",
                                                             "state": "maybe"})
    assert bad_state.status_code == 400
    assert bad_state.json()["status"] == "ERROR"
    assert "`state`" in bad_state.json()["error_message"]


# -- driven through the sandbox phones --------------------------------------------------------

READ_RECEIPT_KEYS = {"accountEmail", "message_id", "number", "status", "date_updated", "content",
                 "is_outbound"}


@pytest.fixture(scope="module")
def patient(tmp_path_factory: pytest.TempPathFactory, receiver: ReceiverProcess,
            engine: Engine) -> Iterator[ServerProcess]:
    """A server whose phones deliver at once but never read by themselves."""
    process = ServerProcess(tmp_path_factory.mktemp("patient"),
                            {"BLUEWIRE_SANDBOX_READ_MS": "600000"}, engine=engine).start()
    with process.client() as client:
        for type_, path in (("receive", "/p-receive"), ("typing_indicator", "/p-typing")):
            answer = client.post("/api/account/webhooks", json={
                "type": type_, "webhooks": [receiver.url_for(path)]})
            assert answer.status_code == 200, answer.text
    yield process
    process.stop()


def phone_sends(client: httpx.Client, number: str, **body: object) -> dict:
    answer = client.post(f"/sandbox/phones/{number}/messages", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_read_webhook_arrives_when_the_phone_reads(
    patient: ServerProcess, receiver: ReceiverProcess,
) -> None:
    with patient.client() as client:
        sent = client.post("/api/send-message", json={
            "number": "+13125550100", "content": "read me",
            "status_callback": receiver.url_for("/p-status")}).json()
        handle = sent["message_handle"]
        wait_for(lambda: client.get("/api/status", params={"handle": handle}
                                    ).json()["status"] == "DELIVERED")
        assert not [r for r in receiver.received("/p-status") if r.json["status"] == "READ"]
        assert client.post("/sandbox/phones/+13125550100/read", json={}).status_code == 200
        read = wait_for(lambda: [r.json for r in receiver.received("/p-status")
                                 if r.json["status"] == "READ"])[0]
    assert read.keys() >= READ_RECEIPT_KEYS
    assert read["message_id"] == handle
    assert read["number"] == "+13125550100"
    assert read["content"] == "read me" and read["is_outbound"] is True


def test_a_strangers_message_reaches_no_one_and_is_counted(
    patient: ServerProcess, receiver: ReceiverProcess,
) -> None:
    with patient.client() as client:
        sent = phone_sends(client, "+13125559999", content="who is this?")
        assert sent["message_handles"] == []
        assert inbound_rows(client, "+13125559999") == []
    listing = patient.cli("inbound", "--unrouted").stdout
    assert "who is this?" in listing and "+13125559999" in listing
    assert "1 unrouted inbound message " in listing
    assert not [r for r in receiver.received("/p-receive")
                if r.json["number"] == "+13125559999"]


def test_auto_mark_read_skips_sms_and_later_parts(patient: ServerProcess) -> None:
    def receipts(number: str) -> list[tuple[str, str]]:
        return [(row["mode"], row["message_handle"]) for row in patient.sql(
            "SELECT mode, message_handle FROM read_receipts WHERE number = ?", number)]

    with patient.client() as client:
        client.post("/accounts/settings/auto-mark-read", json={"auto_mark_read": True})
        try:
            for number in ("+13125550102", "+13125550110"):  # an SMS phone, an iMessage one
                send(client, number)
            phone_sends(client, "+13125550102", content="by sms")
            sent = phone_sends(client, "+13125550110", content="look",
                               media_urls=["https://cdn.example.com/a.png",
                                           "https://cdn.example.com/b.png"])
        finally:
            client.post("/accounts/settings/auto-mark-read", json={"auto_mark_read": False})
        parts = inbound_rows(client, "+13125550110")
    assert receipts("+13125550102") == []
    assert len(parts) == 2 and len(sent["message_handles"]) == 2
    by_handle = {row["message_handle"]: row for row in parts}
    first, second = (by_handle[h] for h in sent["message_handles"])
    assert (first["content"], first["media_url"]) == ("look", "https://cdn.example.com/a.png")
    assert (second["content"], second["media_url"]) == (None, "https://cdn.example.com/b.png")
    assert receipts("+13125550110") == [("auto", sent["message_handles"][0])]


def test_start_lifts_an_opt_out(patient: ServerProcess) -> None:
    with patient.client() as client:
        send(client, "+13125550111")
        phone_sends(client, "+13125550111", content="stop")
        refused = client.post("/api/send-message", json={"number": "+13125550111",
                                                         "content": "hello?"})
        assert refused.json()["error_key"] == "OPTED_OUT"
        phone_sends(client, "+13125550111", content="START")
        again = client.post("/api/send-message", json={"number": "+13125550111",
                                                       "content": "welcome back"})
        assert again.status_code == 200, again.text


def test_a_phone_typing_reaches_the_typing_indicator_webhook(
    patient: ServerProcess, receiver: ReceiverProcess,
) -> None:
    with patient.client() as client:
        send(client, "+13125550112")
        assert client.post("/sandbox/phones/+13125550112/typing",
                           json={"typing": True}).status_code == 200
    typing = wait_for(lambda: [r.json for r in receiver.received("/p-typing")
                               if r.json["number"] == "+13125550112"])[0]
    assert typing["is_typing"] is True
    assert typing["sendblue_number"] == SANDBOX_LINE


def test_a_contact_who_writes_in_becomes_verified(patient: ServerProcess) -> None:
    with patient.client() as client:
        send(client, "+13125550113")
        before = client.get("/api/v2/contacts/+13125550113").json()["contact"]
        phone_sends(client, "+13125550113", content="hi back")
        after = client.get("/api/v2/contacts/+13125550113").json()["contact"]
    assert (before["verified"], after["verified"]) == (False, True)
