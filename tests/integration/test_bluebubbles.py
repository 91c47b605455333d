"""Lines served by BlueBubbles servers (stand-ins): sends, their statuses from webhooks,
inbound messages, and what needs the Private API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bluewire.domain.wire.lines import LineStates

from ..answers import assert_answer
from ..bluebubbles_standin import FILE_BYTES, BlueBubblesStandin
from ..databases import Engine
from ..receiver import ReceiverProcess
from ..server import ServerProcess, free_port, wait_for

EMAIL = "admin@bluewire.local"
PRIVATE_LINE = "+14155550110"  # its server has the Private API
PLAIN_LINE = "+14155550111"  # its server does not


@pytest.fixture(scope="module")
def private(engine: Engine) -> Iterator[BlueBubblesStandin]:  # fresh for each engine's server
    standin = BlueBubblesStandin(password="private-pw", private_api=True).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def plain(engine: Engine) -> Iterator[BlueBubblesStandin]:
    standin = BlueBubblesStandin(password="plain-pw", private_api=False).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def bb_server(tmp_path_factory: pytest.TempPathFactory, engine: Engine,
              private: BlueBubblesStandin,
              plain: BlueBubblesStandin) -> Iterator[ServerProcess]:
    port = free_port()
    process = ServerProcess(tmp_path_factory.mktemp("bluebubbles"), port=port, engine=engine,
                            env={"BLUEWIRE_PUBLIC_URL": f"http://127.0.0.1:{port}"}).start()
    try:
        # Added while the server runs: it sets each line's server up within seconds.
        process.cli("lines", "add", PRIVATE_LINE, "--account", EMAIL, "--connector",
                    "bluebubbles", "--url", private.url, "--password", private.password)
        process.cli("lines", "add", PLAIN_LINE, "--account", EMAIL, "--connector",
                    "bluebubbles", "--url", plain.url + "/", "--password", plain.password)
        wait_for(lambda: private.webhooks and plain.webhooks, timeout=15)
        yield process
    finally:
        process.stop()


@pytest.fixture
def api(bb_server: ServerProcess) -> Iterator[httpx.Client]:
    with bb_server.client() as client:
        yield client


def send(api: httpx.Client, line: str, number: str, content: str = "hello") -> str:
    answer = api.post("/api/send-message", json={"number": number, "content": content,
                                                  "from_number": line})
    assert answer.status_code == 200, answer.text
    return answer.json()["message_handle"]


def status_of(api: httpx.Client, handle: str) -> dict:
    return api.get("/api/status", params={"handle": handle}).json()


def wait_status(api: httpx.Client, handle: str, status: str) -> dict:
    return wait_for(lambda: (s := status_of(api, handle))["status"] == status and s)


def test_the_webhook_url_carries_the_line_and_its_secret(
    bb_server: ServerProcess, private: BlueBubblesStandin,
) -> None:
    [url] = private.webhooks
    parts = urlsplit(url)
    assert parts.path == "/connectors/bluebubbles/%2B14155550110/webhook"
    [row] = bb_server.sql("SELECT settings FROM lines WHERE number = ?", PRIVATE_LINE)
    assert parse_qs(parts.query)["secret"][0] in row["settings"]
    assert all(call.query.get("password") == private.password for call in private.calls)


def test_a_send_reaches_bluebubbles_then_is_delivered_and_read(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    handle = send(api, PRIVATE_LINE, "+13125550140", "hi from bluewire")
    wait_status(api, handle, "SENT")
    [call] = [c for c in private.calls_to("POST", "/api/v1/message/text")
              if c.json["tempGuid"] == handle]
    assert call.json == {"chatGuid": "iMessage;-;+13125550140", "tempGuid": handle,
                         "message": "hi from bluewire", "method": "private-api"}
    assert private.deliver(handle) == [200]
    wait_status(api, handle, "DELIVERED")
    assert private.read(handle) == [200]
    wait_status(api, handle, "READ")


def test_media_is_fetched_and_sent_as_an_attachment(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    answer = api.post("/api/send-message", json={
        "number": "+13125550150", "from_number": PRIVATE_LINE,
        "media_url": private.url + "/files/cat.png"})
    assert answer.status_code == 200, answer.text
    handle = answer.json()["message_handle"]
    wait_status(api, handle, "SENT")
    [call] = [c for c in private.calls_to("POST", "/api/v1/message/attachment")
              if c.form["tempGuid"] == handle]
    assert call.form["chatGuid"] == "iMessage;-;+13125550150"
    assert call.form["name"] == "cat.png"
    assert call.form["attachment"] == FILE_BYTES
    assert not [c for c in private.calls_to("POST", "/api/v1/message/text")
                if c.json["tempGuid"] == handle]


def test_a_line_without_the_private_api_sends_with_applescript(
    api: httpx.Client, plain: BlueBubblesStandin,
) -> None:
    handle = send(api, PLAIN_LINE, "+13125550141")
    wait_status(api, handle, "SENT")
    [call] = [c for c in plain.calls_to("POST", "/api/v1/message/text")
              if c.json["tempGuid"] == handle]
    assert call.json["method"] == "apple-script"


def test_a_message_from_a_phone_arrives_as_inbound(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    send(api, PRIVATE_LINE, "+13125550142")  # a stranger's message would go to no account
    assert private.inbound("+13125550142", "hello line") == [200]
    rows = wait_for(lambda: api.get("/api/v2/messages", params={
        "is_outbound": "false", "number": "+13125550142"}).json()["data"])
    assert rows[0]["content"] == "hello line"
    assert rows[0]["sendblue_number"] == PRIVATE_LINE


def inbound_rows(api: httpx.Client, number: str, count: int = 1) -> list[dict]:
    return wait_for(lambda: len(rows := api.get("/api/v2/messages", params={
        "is_outbound": "false", "number": number}).json()["data"]) >= count and rows)


def test_a_picture_from_a_phone_is_stored_and_linked_on_the_gateway(
    api: httpx.Client, bb_server: ServerProcess, private: BlueBubblesStandin,
) -> None:
    send(api, PRIVATE_LINE, "+13125550151")
    picture = private.attachment("IMG_0001.png")
    assert private.inbound("+13125550151", "look", attachments=[picture]) == [200]
    [row] = inbound_rows(api, "+13125550151")
    assert row["content"] == "look"
    url = row["media_url"]
    assert url.startswith(bb_server.url + "/media/"), url
    assert private.password not in url and private.url not in url
    downloaded = httpx.get(url)
    assert downloaded.status_code == 200
    assert downloaded.content == FILE_BYTES
    [call] = private.calls_to("GET", f"/api/v1/attachment/{picture['guid']}/download")
    assert call.query["password"] == private.password


def test_a_picture_without_text_arrives_as_media_only(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    send(api, PRIVATE_LINE, "+13125550153")
    picture = private.attachment("photo", mime_type="image/jpeg")  # no extension: its type's
    assert private.inbound("+13125550153", "\ufffc", attachments=[picture]) == [200]
    [row] = inbound_rows(api, "+13125550153")
    assert not row["content"]
    assert row["media_url"].endswith("/photo.jpg")
    assert httpx.get(row["media_url"]).content == FILE_BYTES


def test_an_attachment_that_cannot_be_downloaded_still_delivers_the_text(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    send(api, PRIVATE_LINE, "+13125550152")
    missing = private.attachment("IMG_0002.png", served=False)  # the stand-in answers 404
    assert private.inbound("+13125550152", "text survives", attachments=[missing]) == [200]
    [row] = inbound_rows(api, "+13125550152")
    assert row["content"] == "text survives"
    assert not row["media_url"]
    assert private.calls_to("GET", f"/api/v1/attachment/{missing['guid']}/download")


def test_unknown_events_are_ignored_and_a_tapback_is_never_a_message(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    send(api, PRIVATE_LINE, "+13125550143")
    assert private.post("group-name-change", {"guid": "iMessage;+;chat1"}) == [200]
    assert private.post("new-message", {
        "guid": "T1", "text": "Loved “x”", "isFromMe": False, "associatedMessageType": 2000,
        "handle": {"address": "+13125550143"}, "dateCreated": 1}) == [200]
    assert private.inbound("+13125550143", "after") == [200]
    rows = wait_for(lambda: api.get("/api/v2/messages", params={
        "is_outbound": "false", "number": "+13125550143"}).json()["data"])
    assert [r["content"] for r in rows] == ["after"]


def reacted(api: httpx.Client, handle: str, reaction: str, line: str = PRIVATE_LINE,
            **extra: object) -> httpx.Response:
    return api.post("/api/send-reaction", json={"from_number": line, "message_handle": handle,
                                                "reaction": reaction, **extra})


def test_a_reaction_goes_to_message_react_on_the_messages_guid(
    api: httpx.Client, private: BlueBubblesStandin, bb_server: ServerProcess,
) -> None:
    number = "+13125550160"
    ours = send(api, PRIVATE_LINE, number, "tapback me")
    wait_status(api, ours, "SENT")
    answer = reacted(api, ours, "love")
    assert answer.status_code == 200, answer.text

    def calls_on(guid: str) -> list[dict]:
        return [c.json for c in private.calls_to("POST", "/api/v1/message/react")
                if c.json["selectedMessageGuid"] == guid]

    [call] = wait_for(lambda: calls_on(private.sent[ours]["guid"]))
    assert call == {"chatGuid": f"iMessage;-;{number}",
                    "selectedMessageGuid": private.sent[ours]["guid"], "reaction": "love",
                    "partIndex": 0}
    assert private.inbound(number, "reacting back") == [200]
    [inbound] = wait_for(lambda: api.get("/api/v2/messages", params={
        "is_outbound": "false", "number": number}).json()["data"])
    # An inbound's handle is its BlueBubbles guid: a reaction to it names that.
    assert reacted(api, inbound["message_handle"], "-like", part_index=1).status_code == 200
    [call] = wait_for(lambda: calls_on(inbound["message_handle"]))
    assert (call["reaction"], call["partIndex"]) == ("-like", 1)
    rows = wait_for(lambda: (r := bb_server.sql(
        "SELECT reaction, removed, state FROM reactions WHERE message_handle = ?",
        inbound["message_handle"])) and r[0]["state"] == "sent" and r)
    assert [(row["reaction"], bool(row["removed"])) for row in rows] == [("like", True)]


def test_a_line_without_the_private_api_cannot_react(
    api: httpx.Client, plain: BlueBubblesStandin,
) -> None:
    handle = send(api, PLAIN_LINE, "+13125550161")
    answer = reacted(api, handle, "love", line=PLAIN_LINE)
    assert answer.status_code == 400, answer.text
    assert "cannot send reactions (reactions)" in answer.json()["message"]
    assert "does not have the Private API" in answer.json()["message"]
    assert not plain.calls_to("POST", "/api/v1/message/react")


def test_a_phones_tapback_is_a_reaction_on_our_message(
    api: httpx.Client, private: BlueBubblesStandin, bb_server: ServerProcess,
) -> None:
    number = "+13125550162"
    ours = send(api, PRIVATE_LINE, number, "do you like it?")
    wait_status(api, ours, "SENT")
    guid = private.sent[ours]["guid"]
    assert private.tapback(number, guid, "like") == [200]
    assert private.tapback(number, guid, 3001, part=0) == [200]  # Apple's code: like removed

    def received() -> list[dict]:
        rows = bb_server.sql("SELECT data FROM events WHERE type = 'reaction.received'")
        return [d for row in rows if (d := json.loads(row["data"]))["reacted_to"] == ours]

    events = wait_for(lambda: len(received()) == 2 and received())
    assert [(e["reaction"], e["removed"], e["from_number"]) for e in events] == [
        ("like", False, number), ("-like", True, number)]
    listed = api.get("/api/v2/messages", params={"number": number}).json()["data"]
    assert [m["message_handle"] for m in listed] == [ours]


def test_mark_read_and_typing_reach_a_server_with_the_private_api(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    handle = send(api, PRIVATE_LINE, "+13125550144")
    wait_status(api, handle, "SENT")
    answer = api.post("/api/mark-read", json={"number": "+13125550144",
                                              "from_number": PRIVATE_LINE})
    assert answer.status_code == 200, answer.text
    wait_for(lambda: private.calls_to("POST", "/api/v1/chat/iMessage;-;+13125550144/read"))
    answer = api.post("/api/send-typing-indicator", json={"number": "+13125550144",
                                                          "from_number": PRIVATE_LINE})
    assert answer.status_code == 200, answer.text
    assert private.calls_to("POST", "/api/v1/chat/iMessage;-;+13125550144/typing")
    answer = api.post("/api/send-typing-indicator", json={
        "number": "+13125550144", "from_number": PRIVATE_LINE, "state": "stop"})
    assert answer.status_code == 200, answer.text
    assert private.calls_to("DELETE", "/api/v1/chat/iMessage;-;+13125550144/typing")


def test_evaluate_service_asks_the_server_with_the_private_api(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    """The account also has the sandbox line: a real network's line answers lookups."""
    private.sms_only.add("+13125550146")
    answer = api.get("/api/evaluate-service", params={"number": "+13125550147"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"number": "+13125550147", "service": "iMessage"}
    answer = api.get("/api/evaluate-service", params={"number": "+13125550146"})
    assert answer.json() == {"number": "+13125550146", "service": "SMS"}
    asked = [c.query.get("address") for c in
             private.calls_to("GET", "/api/v1/handle/availability/imessage")]
    assert asked[-2:] == ["+13125550147", "+13125550146"]


def test_without_the_private_api_mark_read_and_typing_are_refused_clearly(
    api: httpx.Client, plain: BlueBubblesStandin,
) -> None:
    handle = send(api, PLAIN_LINE, "+13125550145")
    wait_status(api, handle, "SENT")
    answer = api.post("/api/mark-read", json={"number": "+13125550145",
                                              "from_number": PLAIN_LINE})
    assert answer.status_code == 400
    assert "mark_read" in answer.text and PLAIN_LINE in answer.text
    assert "Private API" in answer.text
    answer = api.post("/api/send-typing-indicator", json={"number": "+13125550145",
                                                          "from_number": PLAIN_LINE})
    assert answer.status_code == 400
    assert "typing" in answer.text and "Private API" in answer.text
    assert not [c for c in plain.calls if "/chat/" in c.path]


def test_typing_from_a_phone_is_accepted(private: BlueBubblesStandin) -> None:
    assert private.typing("+13125550146") == [200]


def test_a_webhook_with_a_wrong_or_missing_secret_is_forbidden(
    bb_server: ServerProcess, private: BlueBubblesStandin,
) -> None:
    path = "/connectors/bluebubbles/%2B14155550110/webhook"
    event = {"type": "new-message", "data": {"isFromMe": False, "text": "forged",
                                             "handle": {"address": "+13125550147"}}}
    for query in ("?secret=wrong", ""):
        answer = httpx.post(bb_server.url + path + query, json=event)
        assert answer.status_code == 403
        assert answer.json()["status"] == "ERROR"
    secret = parse_qs(urlsplit(private.webhooks[0]).query)["secret"][0]
    other = httpx.post(bb_server.url + "/connectors/bluebubbles/%2B14155550111/webhook"
                       f"?secret={secret}", json=event)
    assert other.status_code == 403  # one line's secret does not open another's


def test_a_webhook_body_is_read_only_once_its_secret_is_right(
    bb_server: ServerProcess, private: BlueBubblesStandin,
) -> None:
    path = "/connectors/bluebubbles/%2B14155550110/webhook"
    assert httpx.post(bb_server.url + path, content=b"[1]").status_code == 403
    secret = parse_qs(urlsplit(private.webhooks[0]).query)["secret"][0]
    answer = httpx.post(bb_server.url + path + f"?secret={secret}", content=b"[1]")
    assert answer.status_code == 400 and answer.json()["error_code"] == 4000
    ignored = httpx.post(bb_server.url + path + f"?secret={secret}",
                         json={"type": "chat-read-status-changed", "data": {}})
    assert ignored.status_code == 200 and ignored.json() == {"status": "OK"}


def test_the_openapi_document_describes_the_webhook_and_line_states(
    bb_server: ServerProcess, api: httpx.Client,
) -> None:
    document = httpx.get(bb_server.url + "/openapi.json").json()
    webhook = document["paths"]["/connectors/bluebubbles/{line}/webhook"]["post"]
    assert webhook["security"] == [] and webhook["tags"] == ["Connectors"]
    assert {(p["name"], p["in"]) for p in webhook["parameters"]} == {
        ("line", "path"), ("secret", "query")}
    assert webhook["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"
    assert "403" in webhook["responses"]
    states = api.get("/api/v2/lines/state").json()
    assert_answer(states, LineStates)
    served = {entry["number"]: entry for entry in states["data"]}
    assert served[PRIVATE_LINE] == {"number": PRIVATE_LINE, "connector": "bluebubbles",
                                    "state": "online", "sendblue_number": PRIVATE_LINE,
                                    "assignment": "assigned", "status": "ONLINE",
                                    "worker_id": "bluebubbles", "status_changed_at": None,
                                    "degraded_since": None}


def test_a_send_the_server_refuses_ends_in_error_10001(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    private.refuse_sends = True
    try:
        handle = send(api, PRIVATE_LINE, "+13125550148")
        failed = wait_status(api, handle, "ERROR")
    finally:
        private.refuse_sends = False
    assert failed["error_code"] == 10001
    assert "500" in failed["error_message"]


def test_a_send_error_webhook_ends_in_error_10001(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    handle = send(api, PRIVATE_LINE, "+13125550149")
    wait_status(api, handle, "SENT")
    assert private.send_error(handle) == [200]
    assert wait_status(api, handle, "ERROR")["error_code"] == 10001


def test_lines_add_checks_the_bluebubbles_options(bb_server: ServerProcess) -> None:
    missing = bb_server.cli("lines", "add", "+14155550112", "--account", EMAIL,
                            "--connector", "bluebubbles", check=False)
    assert missing.returncode == 2 and "--bluebubbles-url" in missing.stderr
    refused = bb_server.cli("lines", "add", "+14155550113", "--account", EMAIL,
                            "--url", "http://mac:1234", "--password", "pw", check=False)
    assert refused.returncode == 2 and "bluebubbles" in refused.stderr


# -- inline replies and group chats (Private API) ----------------------------------------------


def test_a_reply_goes_to_bluebubbles_on_the_guid_of_the_message_it_answers(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    number = "+13125550170"
    ours = send(api, PRIVATE_LINE, number, "which day?")
    wait_status(api, ours, "SENT")
    assert private.inbound(number, "tuesday?") == [200]
    [theirs] = inbound_rows(api, number)

    def reply(handle: str, content: str, part: int = 0) -> str:
        answer = api.post("/api/send-message", json={
            "number": number, "content": content, "from_number": PRIVATE_LINE,
            "reply_to": {"message_handle": handle, "part_index": part}})
        assert answer.status_code == 200, answer.text
        assert answer.json()["reply_to"] == {"message_handle": handle, "part_index": part}
        return answer.json()["message_handle"]

    to_theirs = reply(theirs["message_handle"], "tuesday it is")
    to_ours = reply(ours, "or wednesday", part=1)
    wait_status(api, to_theirs, "SENT")
    wait_status(api, to_ours, "SENT")
    calls = {c.json["tempGuid"]: c.json for c in private.calls_to("POST", "/api/v1/message/text")}
    # The phone's message is answered by its own guid (its handle here), ours by the guid
    # BlueBubbles gave it.
    assert calls[to_theirs] == {
        "chatGuid": f"iMessage;-;{number}", "tempGuid": to_theirs, "message": "tuesday it is",
        "method": "private-api", "selectedMessageGuid": theirs["message_handle"],
        "partIndex": 0}
    assert (calls[to_ours]["selectedMessageGuid"], calls[to_ours]["partIndex"]) == (
        private.sent[ours]["guid"], 1)
    assert "selectedMessageGuid" not in calls[ours]


def test_a_phones_inline_reply_names_the_message_it_answers(
    api: httpx.Client, private: BlueBubblesStandin,
) -> None:
    number = "+13125550171"
    ours = send(api, PRIVATE_LINE, number, "can you confirm?")
    wait_status(api, ours, "SENT")
    first = "5A3F0B1C-0000-4000-8000-000000000171"
    assert private.inbound(number, "one moment", guid=first) == [200]
    assert private.inbound(number, "confirmed", reply_to=private.sent[ours]["guid"]) == [200]
    assert private.inbound(number, "(that was me)", reply_to=first) == [200]
    assert private.inbound(number, "to something else", reply_to="NOT-A-KNOWN-GUID") == [200]
    rows = inbound_rows(api, number, 4)
    replies = {row["content"]: row["reply_to"] for row in rows}
    assert replies == {"one moment": None, "confirmed": {"message_handle": ours},
                       "(that was me)": {"message_handle": first}, "to something else": None}
    answering = next(row for row in rows if row["content"] == "confirmed")
    one = api.get(f"/api/v2/messages/{answering['message_handle']}").json()["data"]
    assert one["reply_to"] == {"message_handle": ours}


def test_without_the_private_api_replies_and_renames_are_refused_naming_it(
    api: httpx.Client, plain: BlueBubblesStandin,
) -> None:
    number = "+13125550172"
    ours = send(api, PLAIN_LINE, number, "hi")
    answer = api.post("/api/send-message", json={
        "number": number, "content": "re", "from_number": PLAIN_LINE,
        "reply_to": {"message_handle": ours}})
    assert answer.status_code == 400, answer.text
    message = answer.json()["message"]
    assert "cannot send inline replies" in message and "does not have the Private API" in message
    chat = "iMessage;+;chat-plain-172"
    assert plain.inbound(number, "group hello", chat=chat,
                         participants=[number, "+13125550173"]) == [200]
    wait_for(lambda: api.get(f"/api/v2/groups/{chat}").status_code == 200)
    renamed = api.post(f"/api/v2/groups/{chat}/name", json={"group_name": "Ours"})
    assert renamed.status_code == 400, renamed.text
    message = renamed.json()["message"]
    assert "cannot name group chats" in message and "does not have the Private API" in message
    photo = api.post(f"/api/v2/groups/{chat}/photo",
                     json={"photo_url": plain.url + "/files/team.png"})
    assert photo.status_code == 400, photo.text
    message = photo.json()["message"]
    assert "cannot set group chat photos" in message and "Private API" in message
    assert not plain.calls_to("PUT", f"/api/v1/chat/{chat}")
    assert not plain.calls_to("POST", f"/api/v1/chat/{chat}/icon")
    group = group_of(api, chat)
    assert (group["group_name"], group["group_photo"]) == (None, None)


def group_events(bb_server: ServerProcess, group_id: str) -> list[tuple[str, dict]]:
    rows = bb_server.sql("SELECT type, data FROM events WHERE type LIKE 'group.%' ORDER BY id")
    found = [(row["type"], json.loads(row["data"])) for row in rows]
    return [(type_, data) for type_, data in found if data.get("group_id") == group_id]


def group_of(api: httpx.Client, chat: str) -> dict[str, Any]:
    """The group as retrieved now."""
    found: dict[str, Any] = api.get(f"/api/v2/groups/{chat}").json()["data"]
    return found


def adopted_group(api: httpx.Client, private: BlueBubblesStandin, members: list[str],
                  chat: str) -> dict[str, Any]:
    """The group chat `chat` of `members`, made the account's by its first member's message
    (a contact first, so its group is the account's, without spending the line's new-contact
    allowance on a send); the group as retrieved."""
    assert api.post("/api/v2/contacts", json={"number": members[0]}).status_code < 300
    assert private.inbound(members[0], "hello group", chat=chat, participants=members) == [200]
    group: dict[str, Any] = wait_for(
        lambda: (g := api.get(f"/api/v2/groups/{chat}")).status_code == 200 and g.json()["data"],
        timeout=30)
    return group


def test_group_chats_are_renamed_and_given_photos_on_the_server_and_phones_changes_arrive(
    api: httpx.Client, private: BlueBubblesStandin, bb_server: ServerProcess,
    receiver: ReceiverProcess,
) -> None:
    receiver.hear(api, group="/group")
    members = ["+13125550180", "+13125550181", "+13125550182"]
    chat = "iMessage;+;chat-bb-180"
    assert adopted_group(api, private, members, chat)["participant_numbers"] == members

    renamed = api.post(f"/api/v2/groups/{chat}/name", json={"group_name": " Trail runners "})
    assert renamed.status_code == 200, renamed.text
    [call] = private.calls_to("PUT", f"/api/v1/chat/{chat}")
    assert call.json == {"displayName": "Trail runners"}
    assert private.chat_names[chat] == "Trail runners"
    assert group_of(api, chat)["group_name"] == "Trail runners"
    cleared = api.post(f"/api/v2/groups/{chat}/name", json={"group_name": None})
    assert cleared.status_code == 400, cleared.text
    assert "cannot clear" in cleared.json()["message"]
    assert len(private.calls_to("PUT", f"/api/v1/chat/{chat}")) == 1

    assert private.rename_group(members[1], chat, "Runners") == [200]
    wait_for(lambda: group_of(api, chat)["group_name"] == "Runners", timeout=30)
    assert private.leave_group(members[2], chat) == [200]
    wait_for(lambda: group_of(api, chat)["participant_numbers"] == members[:2], timeout=30)
    assert private.leave_group("+13125550189", chat) == [200]  # never a member: dropped

    events = wait_for(lambda: len(found := group_events(bb_server, chat)) == 3 and found,
                      timeout=30)
    assert [(t, d.get("group_name"), d["from_number"]) for t, d in events[:2]] == [
        ("group.renamed", "Trail runners", PRIVATE_LINE),
        ("group.renamed", "Runners", members[1])]
    left_type, left = events[2]
    assert left_type == "group.member_left"
    assert (left["number"], left["participant_numbers"]) == (members[2], members[:2])
    hooks = wait_for(lambda: len(found := [r.json for r in receiver.received("/group")
                                           if r.json.get("group_id") == chat]) >= 3 and found,
                     timeout=30)
    # Deliveries may arrive in any order (one retried comes later).
    assert {(h["from_number"], h.get("group_name"), h.get("number")) for h in hooks} == {
        (members[1], "Runners", members[1]), (members[2], None, members[2]),
        (PRIVATE_LINE, "Trail runners", None)}

    # Its photo too: the gateway's copy of the picture goes to the server, and comes off it.
    answer = api.post(f"/api/v2/groups/{chat}/photo",
                      json={"photo_url": private.url + "/files/team.png"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["group_photo"] is not None
    assert private.chat_icons[chat] == FILE_BYTES
    [call] = private.calls_to("POST", f"/api/v1/chat/{chat}/icon")
    assert call.query["password"] == private.password
    assert group_of(api, chat)["group_photo"] is not None
    removed = api.post(f"/api/v2/groups/{chat}/photo", json={"photo_url": None})
    assert removed.status_code == 200, removed.text
    assert chat not in private.chat_icons
    assert private.calls_to("DELETE", f"/api/v1/chat/{chat}/icon")
    assert group_of(api, chat)["group_photo"] is None


def send_to_group(api: httpx.Client, chat: str, content: str) -> list[str]:
    """The participants a group send goes to, as the message records them."""
    answer = api.post("/api/send-group-message", json={
        "group_id": chat, "content": content, "from_number": PRIVATE_LINE})
    assert answer.status_code == 200, answer.text
    handle = answer.json()["message_handle"]
    found: list[str] = api.get(f"/api/v2/messages/{handle}").json()["data"]["participants"]
    return found


def test_a_members_new_photo_is_downloaded_from_the_server_and_kept(
    api: httpx.Client, private: BlueBubblesStandin, bb_server: ServerProcess,
    receiver: ReceiverProcess,
) -> None:
    receiver.hear(api, group="/group")
    members = ["+13125550190", "+13125550191", "+13125550192"]
    chat = "iMessage;+;chat-bb-190"
    adopted_group(api, private, members, chat)

    picture = private.attachment("GroupPhoto.png")
    assert private.change_group_photo(members[1], chat, picture) == [200, 200]
    photo = wait_for(lambda: group_of(api, chat)["group_photo"], timeout=30)
    assert photo["url"].startswith(bb_server.url + "/media/")
    assert private.password not in photo["url"]
    assert httpx.get(photo["url"]).content == FILE_BYTES
    [call] = private.calls_to("GET", f"/api/v1/attachment/{picture['guid']}/download")
    assert call.query["password"] == private.password
    [(type_, data)] = wait_for(lambda: group_events(bb_server, chat), timeout=30)
    assert type_ == "group.photo_changed" and data["group_photo"] == photo
    assert (data["number"], data["from_number"]) == (members[1], members[1])
    # The change's own new-message (with the picture) is not a message from the phone.
    assert api.get("/api/v2/messages", params={"is_outbound": "false",
                                               "number": members[1]}).json()["data"] == []

    # A picture the server cannot give is no change; a removal is one.
    assert private.change_group_photo(members[2], chat, None) == [200, 200]
    assert private.remove_group_photo(members[2], chat) == [200, 200]
    wait_for(lambda: group_of(api, chat)["group_photo"] is None, timeout=30)
    events = wait_for(lambda: len(found := group_events(bb_server, chat)) == 2 and found,
                      timeout=30)
    assert events[1][0] == "group.photo_changed" and events[1][1]["group_photo"] is None
    assert events[1][1]["from_number"] == members[2]
    hooks = wait_for(lambda: len(found := [r.json for r in receiver.received("/group")
                                           if r.json.get("group_id") == chat]) == 2 and found,
                     timeout=30)
    assert {h["from_number"] for h in hooks} == {members[1], members[2]}


def test_members_added_and_removed_by_a_member_change_who_gets_the_groups_messages(
    api: httpx.Client, private: BlueBubblesStandin, bb_server: ServerProcess,
) -> None:
    members = ["+13125550195", "+13125550196", "+13125550197"]
    added, stranger = "+13125550198", "+13125550199"
    chat = "iMessage;+;chat-bb-195"
    adopted_group(api, private, members, chat)

    assert private.add_member(members[1], chat, added, [*members, added]) == [200, 200]
    wait_for(lambda: group_of(api, chat)["participant_numbers"] == [*members, added],
             timeout=30)
    assert send_to_group(api, chat, "welcome") == [*members, added]
    assert api.get(f"/api/v2/contacts/{added}").status_code == 200  # a contact now
    # Not a member's change: dropped.
    assert private.add_member(stranger, chat, "+13125550194", [*members, added]) == [200, 200]
    # Which member was removed: the one of its row id, no longer listed among the chat's.
    assert private.remove_member(members[1], chat, members[2], [members[0], members[1],
                                                                added]) == [200, 200]
    wait_for(lambda: group_of(api, chat)["participant_numbers"]
             == [members[0], members[1], added], timeout=30)
    assert send_to_group(api, chat, "after the removal") == [members[0], members[1], added]

    events = wait_for(lambda: len(found := group_events(bb_server, chat)) == 2 and found,
                      timeout=30)
    assert [(t, d["member_number"], d["number"], d["from_number"]) for t, d in events] == [
        ("group.member_added", added, members[1], members[1]),
        ("group.member_removed", members[2], members[1], members[1])]
    assert events[0][1]["participant_numbers"] == [*members, added]
    assert events[1][1]["participant_numbers"] == [members[0], members[1], added]
    assert api.get("/api/v2/messages", params={"is_outbound": "false",
                                               "number": members[1]}).json()["data"] == []


def test_a_webhook_registered_for_fewer_events_is_registered_again_for_all(
    bb_server: ServerProcess,
) -> None:
    line, standin = "+14155550112", BlueBubblesStandin(password="older-pw").start()
    try:
        bb_server.cli("lines", "add", line, "--account", EMAIL, "--connector", "bluebubbles",
                      "--url", standin.url, "--password", standin.password)
        [url] = wait_for(lambda: standin.webhooks, timeout=15)
        assert "participant-added" in standin.webhook_events[url]
        # As an earlier bluewire registered it: BlueBubbles keeps a URL's first events.
        standin.webhook_events[url] = ["new-message", "updated-message", "message-send-error",
                                       "typing-indicator", "group-name-change",
                                       "participant-left"]
        # Its server's address changes (the same server): the line is set up again.
        bb_server.cli("lines", "set", line, "--bluebubbles-url",
                      standin.url.replace("127.0.0.1", "localhost"))
        wait_for(lambda: "participant-removed" in standin.webhook_events.get(url, []),
                 timeout=15)
        assert standin.webhooks == [url]
        assert [c.path for c in standin.calls if c.path.startswith("/api/v1/webhook/")]
        assert {"group-icon-changed", "group-icon-removed", "participant-added"} <= set(
            standin.webhook_events[url])
    finally:
        bb_server.cli("lines", "remove", line, check=False)
        standin.stop()
