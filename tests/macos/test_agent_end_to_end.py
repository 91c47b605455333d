"""A Mac end to end, on one machine: the gateway, `bluewire agent` running the Messages.app
engine (the stand-in osascript writing to a temp chat.db as Messages would), and a real webhook
receiver. What Messages.app would write later (delivery, a read, an incoming message) the test
writes into chat.db itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..agent_process import AgentProcess, create_token
from ..receiver import ReceiverProcess
from ..server import ServerProcess, wait_for
from .conftest import LINE
from .messages_db import MessagesDb

pytestmark = pytest.mark.slow

EMAIL = "admin@bluewire.local"
NUMBER = "+15557654321"
FRIEND = "+15550002222"
GROUP = "iMessage;+;chat493817264519283"
# The start of a real JPEG (SOI, a JFIF APP0 segment) and its end (EOI): bytes, not text.
JPEG = (bytes.fromhex("ffd8ffe000104a46494600010100000100010000") + bytes(range(256))
        + bytes.fromhex("ffd9"))
TRICKY = 'say "hi" \\ then\nend tell & do shell script "rm -rf ~" 🎉 -- (* tell *)'


class Mac(AgentProcess):
    """The agent with the Messages.app engine on `messages_db` (PATH leads its osascript to
    the stand-in)."""

    def __init__(self, server: ServerProcess, workdir: Path, token: str,
                 messages_db: MessagesDb) -> None:
        super().__init__(server, workdir, token,
                         ["--line", LINE, "--chat-db", str(messages_db.path)])


@pytest.fixture
def gateway(tmp_path: Path, messages_db: MessagesDb) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path / "gateway")
    server.workdir.mkdir()
    server.start()
    server.cli("lines", "add", LINE, "--account", EMAIL, "--connector", "agent",
               "--rate-limit", "1000")
    yield server
    server.stop()


@pytest.fixture
def receiver(tmp_path: Path, gateway: ServerProcess) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path).start()
    with gateway.client() as api:
        for kind in ("receive", "outbound"):
            answer = api.post("/api/account/webhooks",
                              json={"type": kind, "webhooks": [process.url_for(f"/{kind}")]})
            assert answer.status_code == 200, answer.text
    yield process
    process.stop()


@pytest.fixture
def mac(tmp_path: Path, gateway: ServerProcess, messages_db: MessagesDb) -> Iterator[Mac]:
    agent = Mac(gateway, tmp_path, create_token(gateway, LINE), messages_db).start()
    yield agent
    agent.stop()


def statuses_heard(receiver: ReceiverProcess, handle: str) -> list[str]:
    bodies = [r.json for r in receiver.received("/outbound")]
    return [b["status"] for b in bodies if b.get("message_handle") == handle]


def send(gateway: ServerProcess, content: str) -> str:
    with gateway.client() as api:
        answer = api.post("/api/send-message", json={"number": NUMBER, "from_number": LINE,
                                                     "content": content})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["message_handle"])


def guid_of(messages_db: MessagesDb, text: str) -> str:
    rows = wait_for(lambda: [r for r in messages_db.sent_rows() if r[1] == text], timeout=20)
    assert len(rows) == 1
    return str(rows[0][0])


def test_a_send_its_receipts_and_a_reply_travel_through_the_mac(
        gateway: ServerProcess, receiver: ReceiverProcess, mac: Mac,
        messages_db: MessagesDb) -> None:
    handle = send(gateway, TRICKY)
    guid = guid_of(messages_db, TRICKY)  # byte-exact in chat.db: no injection
    wait_for(lambda: "SENT" in statuses_heard(receiver, handle), timeout=20)

    messages_db.deliver(guid)
    wait_for(lambda: "DELIVERED" in statuses_heard(receiver, handle), timeout=20)
    messages_db.read(guid)
    wait_for(lambda: "READ" in statuses_heard(receiver, handle), timeout=20)
    assert statuses_heard(receiver, handle) == ["QUEUED", "SENT", "DELIVERED", "READ"]

    chat = str(messages_db.sent_rows()[0][3])
    messages_db.incoming(chat, NUMBER, "got it 👍")

    def replies() -> list[dict[str, Any]]:
        return [r.json for r in receiver.received("/receive")]

    [reply] = wait_for(replies, timeout=20)
    assert (reply["content"], reply["number"], reply["is_outbound"]) == ("got it 👍", NUMBER,
                                                                          False)


def test_a_picture_the_phone_sends_to_the_mac_downloads_from_the_gateway(
        tmp_path: Path, gateway: ServerProcess, receiver: ReceiverProcess, mac: Mac,
        messages_db: MessagesDb) -> None:
    send(gateway, "send me a picture")  # the sender is a contact of the account: it routes
    guid_of(messages_db, "send me a picture")
    chat = str(messages_db.sent_rows()[0][3])
    picture = tmp_path / "Attachments" / "ab" / "11" / "IMG_0001.jpeg"
    picture.parent.mkdir(parents=True)
    picture.write_bytes(JPEG)
    messages_db.incoming(chat, NUMBER, "\ufffclook", attachment=str(picture))

    [heard] = wait_for(lambda: [r.json for r in receiver.received("/receive")], timeout=20)
    assert heard["content"] == "look"
    assert heard["media_url"].startswith(gateway.url + "/media/"), heard
    download = httpx.get(heard["media_url"], timeout=10)
    assert download.status_code == 200
    assert download.content == JPEG


def test_killing_the_agent_mid_burst_loses_and_doubles_nothing(
        gateway: ServerProcess, receiver: ReceiverProcess, mac: Mac,
        messages_db: MessagesDb) -> None:
    texts = [f"burst {n}" for n in range(20)]
    handles = {send(gateway, text): text for text in texts}
    wait_for(lambda: len(messages_db.sent_rows()) >= 5, timeout=30)
    mac.kill()
    chat = str(messages_db.sent_rows()[0][3])
    messages_db.incoming(chat, NUMBER, "while the Mac was away")
    mac.start()

    def all_sent() -> bool:
        return all("SENT" in statuses_heard(receiver, handle) for handle in handles)

    wait_for(all_sent, timeout=60, interval=0.2)
    sent = Counter(row[1] for row in messages_db.sent_rows())
    assert sent == Counter(texts)  # each exactly once in Messages
    wait_for(lambda: receiver.received("/receive"), timeout=20)
    bodies = [r.json["content"] for r in receiver.received("/receive")]
    assert bodies == ["while the Mac was away"]
    for handle in handles:
        assert statuses_heard(receiver, handle).count("SENT") == 1


def test_a_group_chat_on_the_mac_becomes_a_group_that_can_be_answered(
        gateway: ServerProcess, receiver: ReceiverProcess, mac: Mac,
        messages_db: MessagesDb) -> None:
    send(gateway, "hello first")  # the sender is a contact of the account: it routes to it
    guid_of(messages_db, "hello first")
    messages_db.chat(GROUP, [NUMBER, FRIEND], group=True)
    messages_db.incoming(GROUP, NUMBER, "to all of you")

    [heard] = wait_for(lambda: [r.json for r in receiver.received("/receive")], timeout=20)
    assert (heard["group_id"], heard["content"]) == (GROUP, "to all of you")
    assert sorted(heard["participants"]) == sorted([NUMBER, FRIEND])

    with gateway.client() as api:
        answer = api.post("/api/send-group-message", json={
            "group_id": GROUP, "from_number": LINE, "content": "answer to the group"})
    assert answer.status_code == 200, answer.text
    [row] = wait_for(lambda: [r for r in messages_db.sent_rows()
                              if r[1] == "answer to the group"], timeout=20)
    assert row[3] == GROUP  # sent into the same chat on the Mac


def test_evaluate_service_answers_from_the_macs_conversations(
        gateway: ServerProcess, mac: Mac, messages_db: MessagesDb) -> None:
    messages_db.handle("+15550003333", "SMS")  # a number the Mac has texted by SMS only
    with gateway.client() as api:
        wait_for(lambda: any(e["number"] == LINE and e["state"] == "online"
                             for e in api.get("/api/v2/lines/state").json()["data"]),
                 timeout=20)
        send(gateway, "hello")  # writes NUMBER's iMessage handle, as Messages does
        guid_of(messages_db, "hello")

        def evaluate(number: str) -> httpx.Response:
            return api.get("/api/evaluate-service", params={"number": number})

        assert evaluate(NUMBER).json() == {"number": NUMBER, "service": "iMessage"}
        assert evaluate("+15550003333").json() == {"number": "+15550003333", "service": "SMS"}
        never = evaluate("+15550004444")  # no conversation: the Mac cannot say
        assert never.status_code == 503 and "inconclusive" in never.json()["message"]


def test_a_phones_tapbacks_and_inline_replies_on_the_mac_reach_the_account(
        gateway: ServerProcess, receiver: ReceiverProcess, mac: Mac,
        messages_db: MessagesDb) -> None:
    """As Messages writes them to chat.db: a tapback on our message and one taken off the
    phone's own message are reactions naming them, an inline reply names ours; the line itself
    cannot send either (a 400 naming the capability)."""
    handle = send(gateway, "dinner at 8?")
    guid = guid_of(messages_db, "dinner at 8?")
    wait_for(lambda: "SENT" in statuses_heard(receiver, handle), timeout=20)
    chat = str(messages_db.sent_rows()[0][3])
    messages_db.incoming(chat, NUMBER, "Loved “dinner at 8?”", associated_type=2000,
                         associated_guid=f"p:0/{guid}")
    theirs = messages_db.incoming(chat, NUMBER, "yes!", thread_originator=guid)
    messages_db.incoming(chat, NUMBER, "Removed a like from “yes!”", associated_type=3001,
                         associated_guid=f"p:0/{theirs}")

    def heard() -> list[dict[str, Any]]:
        return [r.json for r in receiver.received("/receive")]

    wait_for(lambda: len(heard()) == 3, timeout=20)
    [love, unliked] = sorted((h for h in heard() if h["message_type"] == "reaction"),
                             key=lambda h: h["removed"])
    [reply] = [h for h in heard() if h["message_type"] != "reaction"]
    assert (love["message_type"], love["reacted_to"], love["reaction"]) == (
        "reaction", handle, "love")
    assert (reply["content"], reply["message_handle"], reply["reply_to"]) == (
        "yes!", theirs, {"message_handle": handle})
    assert (unliked["reacted_to"], unliked["reaction"], unliked["removed"]) == (
        theirs, "-like", True)
    with gateway.client() as api:
        answer = api.post("/api/send-reaction", json={
            "from_number": LINE, "message_handle": handle, "reaction": "like"})
        assert answer.status_code == 400, answer.text
        assert "cannot send reactions (reactions)" in answer.json()["message"]
        answer = api.post("/api/send-message", json={
            "number": NUMBER, "from_number": LINE, "content": "ok",
            "reply_to": {"message_handle": theirs}})
        assert answer.status_code == 400 and "inline replies" in answer.text, answer.text
