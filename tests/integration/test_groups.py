"""Group messages: send-group-message, modify-group, per-participant receipts and
inbound group messages, over real HTTP with a real webhook receiver and the official SDK.

The server of this module delivers at once but never reads by itself (the read delay is ten
minutes), so a phone reads only when a test tells it to. Each test uses its own area code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sendblue_api import NotFoundError, SendblueAPI

from ..databases import Engine
from ..receiver import ReceiverProcess
from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, phone, wait_for

OTHER_EMAIL = "groups-other@example.com"
OTHER_KEY, OTHER_SECRET = "groups-other-key", "groups-other-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("groups"), env={
        "BLUEWIRE_SANDBOX_DELIVER_MS": "0", "BLUEWIRE_SANDBOX_READ_MS": "600000",
    }, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def api(server: ServerProcess, receiver: ReceiverProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        for type_ in ("outbound", "receive"):
            answer = client.post("/api/account/webhooks", json={
                "type": type_, "webhooks": [receiver.url_for(f"/{type_}")]})
            assert answer.status_code == 200, answer.text
        yield client


@pytest.fixture(scope="module")
def other(server: ServerProcess) -> Iterator[httpx.Client]:
    server.cli("accounts", "create", OTHER_EMAIL)
    server.cli("keys", "create", "--account", OTHER_EMAIL, "--key-id", OTHER_KEY,
               "--secret", OTHER_SECRET)
    server.cli("lines", "add", SANDBOX_LINE, "--account", OTHER_EMAIL)
    with server.client(OTHER_KEY, OTHER_SECRET) as client:
        yield client


def send_group(api: httpx.Client, **body: Any) -> httpx.Response:
    return api.post("/api/send-group-message",
                    json={"from_number": SANDBOX_LINE, "content": "hi all", **body})


def status(api: httpx.Client, handle: str) -> str:
    return api.get("/api/status", params={"handle": handle}).json()["status"]


def outbound_hooks(receiver: ReceiverProcess, handle: str) -> list[dict[str, Any]]:
    return [r.json for r in receiver.received("/outbound") if r.json["message_handle"] == handle]


def test_a_group_of_three_is_delivered_when_all_have_it_and_read_by_each_reader(
    api: httpx.Client, receiver: ReceiverProcess, server: ServerProcess,
) -> None:
    members = [phone(301, "00"), phone(302, "00"), phone(303, "00")]
    answer = send_group(api, numbers=members)
    assert answer.status_code == 200, answer.text
    sent = answer.json()
    assert sent["message_type"] == "group"
    assert sent["group_id"].startswith("grp_")
    assert sent["participants"] == members
    handle = sent["message_handle"]
    wait_for(lambda: status(api, handle) == "DELIVERED")
    delivered = wait_for(lambda: [h for h in outbound_hooks(receiver, handle)
                                  if h["status"] == "DELIVERED"])
    assert len(delivered) == 1
    assert delivered[0]["group_id"] == sent["group_id"]
    assert delivered[0]["participants"] == members
    rows = server.sql("SELECT r.number, r.delivered_at IS NOT NULL AS delivered, r.read_at "
                      "FROM message_receipts r JOIN messages m ON m.id = r.message_id "
                      "WHERE m.handle = ? ORDER BY r.id", handle)
    assert rows == [{"number": number, "delivered": True, "read_at": None}
                    for number in members]

    for count, reader in enumerate(members, start=1):
        read = api.post(f"/sandbox/phones/{reader}/read", json={"line": SANDBOX_LINE})
        assert read.status_code == 200, read.text
        reads = wait_for(lambda n=count: (lambda found: found if len(found) == n else None)(
            [h for h in outbound_hooks(receiver, handle) if h["status"] == "READ"]))
        assert reads[-1]["number"] == reader
        assert reads[-1]["group_id"] == sent["group_id"]
        assert status(api, handle) == "READ"  # set by the first reader
    assert [h["number"] for h in outbound_hooks(receiver, handle)
            if h["status"] == "READ"] == members
    # Reading again reports nothing new.
    api.post(f"/sandbox/phones/{members[0]}/read", json={"line": SANDBOX_LINE})
    row = api.get(f"/api/v2/messages/{handle}").json()["data"]
    assert row["group_id"] == sent["group_id"] and row["participants"] == members
    assert len([h for h in outbound_hooks(receiver, handle) if h["status"] == "READ"]) == 3


def test_a_phone_without_read_receipts_never_reports_its_read(
    api: httpx.Client, receiver: ReceiverProcess,
) -> None:
    members = [phone(311, "00"), phone(312, "01")]
    handle = send_group(api, numbers=members).json()["message_handle"]
    wait_for(lambda: status(api, handle) == "DELIVERED")
    for member in members:
        api.post(f"/sandbox/phones/{member}/read", json={"line": SANDBOX_LINE})
    wait_for(lambda: status(api, handle) == "READ")
    reads = wait_for(lambda: [h for h in outbound_hooks(receiver, handle)
                              if h["status"] == "READ"])
    assert [h["number"] for h in reads] == [members[0]]


def test_a_one_to_one_message_keeps_empty_group_fields(
    api: httpx.Client, receiver: ReceiverProcess,
) -> None:
    sent = api.post("/api/send-message", json={"number": phone(321), "content": "solo",
                                                "from_number": SANDBOX_LINE}).json()
    assert sent["group_id"] is None and sent["participants"] == []
    hook = wait_for(lambda: outbound_hooks(receiver, sent["message_handle"]))[0]
    assert hook["group_id"] == "" and hook["participants"] == []


@pytest.mark.parametrize(("body", "fragment"), [
    ({"numbers": [phone(331)]}, "at least 2"),
    ({"numbers": [phone(331), phone(331)]}, "more than once"),
    ({"numbers": [phone(331), "5551234"]}, "numbers[1]"),
    ({"numbers": [phone(331), SANDBOX_LINE]}, "sending line"),
    ({"numbers": "+13315550100"}, "list"),
    ({}, "`numbers`"),
    ({"numbers": [phone(331), phone(332)], "content": ""}, "content"),
    ({"numbers": [phone(331), phone(332)], "from_number": None}, "from_number"),
])
def test_invalid_group_sends_are_refused_with_400(api: httpx.Client, body: dict[str, Any],
                                                  fragment: str) -> None:
    answer = send_group(api, **body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == 4000
    assert fragment in answer.text


def test_another_accounts_group_is_not_found(api: httpx.Client, other: httpx.Client) -> None:
    group_id = send_group(api, numbers=[phone(341), phone(342)]).json()["group_id"]
    answer = send_group(other, group_id=group_id)
    assert answer.status_code == 404, answer.text
    answer = other.post("/api/modify-group", json={
        "group_id": group_id, "modify_type": "add_recipient", "number": phone(343)})
    assert answer.status_code == 404, answer.text
    assert send_group(api, group_id="grp_nope").status_code == 404


def test_sending_to_an_existing_group_and_modifying_it(
    api: httpx.Client, server: ServerProcess,
) -> None:
    members = [phone(351), phone(352), phone(353)]
    first = send_group(api, numbers=members).json()
    group_id = first["group_id"]
    again = send_group(api, group_id=group_id, content="second").json()
    assert again["group_id"] == group_id and again["participants"] == members

    added = api.post("/api/modify-group", json={
        "group_id": group_id, "modify_type": "add_recipient", "number": phone(354),
        "from_number": SANDBOX_LINE})
    assert added.status_code == 200, added.text
    assert added.json() == {"status": "OK", "group_id": group_id,
                            "modify_type": "add_recipient", "number": phone(354)}
    removed = api.post("/api/modify-group", json={
        "group_id": group_id, "modify_type": "remove_recipient", "number": members[0]})
    assert removed.status_code == 200, removed.text
    third = send_group(api, group_id=group_id, content="third").json()
    assert third["participants"] == [*members[1:], phone(354)]
    wait_for(lambda: status(api, third["message_handle"]) == "DELIVERED")
    view = api.get(f"/sandbox/phones/{members[0]}").json()
    assert third["message_handle"] not in str(view)
    view = api.get(f"/sandbox/phones/{phone(354)}").json()
    assert third["message_handle"] in str(view)
    contacts = {row["number"] for row in server.sql("SELECT number FROM contacts")}
    assert {*members, phone(354)} <= contacts
    changes = [(row["type"], json.loads(row["data"])) for row in server.sql(
        "SELECT type, data FROM events WHERE type LIKE 'group.member_%' ORDER BY id")]
    assert [(type_, data["member_number"], data["from_number"], data["participant_numbers"])
            for type_, data in changes if data["group_id"] == group_id] == [
        ("group.member_added", phone(354), SANDBOX_LINE, [*members, phone(354)]),
        ("group.member_removed", members[0], SANDBOX_LINE, [*members[1:], phone(354)])]

    for body, fragment in [
        ({"modify_type": "add_recipient", "number": phone(354)}, "already"),
        ({"modify_type": "remove_recipient", "number": members[0]}, "not in group"),
        ({"modify_type": "rename", "number": phone(355)}, "modify_type"),
        ({"modify_type": "add_recipient", "number": "12"}, "number"),
    ]:
        answer = api.post("/api/modify-group", json={"group_id": group_id, **body})
        assert answer.status_code == 400, answer.text
        assert fragment in answer.text


def test_an_inbound_group_message_is_routed_with_its_group(
    api: httpx.Client, receiver: ReceiverProcess,
) -> None:
    members = [phone(361), phone(362)]
    group_id = send_group(api, numbers=members).json()["group_id"]
    answer = api.post(f"/sandbox/phones/{members[1]}/messages", json={
        "line": SANDBOX_LINE, "content": "reply all", "group_id": group_id})
    assert answer.status_code == 200, answer.text
    handles = answer.json()["message_handles"]
    assert len(handles) == 1
    row = api.get(f"/api/v2/messages/{handles[0]}").json()["data"]
    assert (row["group_id"], row["participants"], row["message_type"]) == \
        (group_id, members, "group")
    hook = wait_for(lambda: [r.json for r in receiver.received("/receive")
                             if r.json["message_handle"] == handles[0]])[0]
    assert hook["group_id"] == group_id and hook["participants"] == members
    assert hook["number"] == members[1]


def test_the_official_sdk_sends_to_and_modifies_a_group(server: ServerProcess) -> None:
    members = [phone(371), phone(372), phone(373)]
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url,
                     max_retries=0) as sdk:
        sent = sdk.groups.send_message(content="sdk group", from_number=SANDBOX_LINE,
                                       numbers=members)
        assert sent.message_type == "group" and sent.status == "QUEUED"
        group_id = sent.to_dict()["group_id"]
        again = sdk.groups.send_message(content="again", from_number=SANDBOX_LINE,
                                        group_id=group_id)
        assert again.to_dict()["group_id"] == group_id
        modified = sdk.groups.modify(group_id=group_id, modify_type="remove_recipient",
                                     number=members[2])
        assert (modified.status, modified.group_id, modified.number) == \
            ("OK", group_id, members[2])
        with pytest.raises(NotFoundError):
            sdk.groups.modify(group_id="grp_missing", modify_type="add_recipient",
                              number=members[2])


def test_the_cli_sends_to_a_group(server: ServerProcess, api: httpx.Client) -> None:
    members = [phone(381), phone(382)]
    sent = server.cli("send-group", *members, "hello group", "--from", SANDBOX_LINE)
    assert "QUEUED" in sent.stdout and "grp_" in sent.stdout
    handle = re.search(r"[0-9a-f-]{36}", sent.stdout).group(0)  # type: ignore[union-attr]
    row = api.get(f"/api/v2/messages/{handle}").json()["data"]
    assert (row["message_type"], row["participants"]) == ("group", members)
    refused = server.cli("send-group", members[0], "lonely", "--from", SANDBOX_LINE,
                         check=False)
    assert refused.returncode == 2 and "two numbers" in refused.stderr
