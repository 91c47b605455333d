"""What a sandbox phone does to a group reaches the group's account: renaming it
(POST /sandbox/phones/{number}/groups/{group_id}/name), leaving it (…/leave), changing its
photo (…/photo), adding a member (POST …/members) and removing one (DELETE …/members/{member}),
each as the network reports it. Over real HTTP against `bluewire serve`, with a real webhook
receiver and a local file server for the pictures."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bluewire.domain.wire.sandbox_groups import (
    PhoneChangedMembers,
    PhoneLeftGroup,
    PhoneRenamedGroup,
    PhoneSetGroupPhoto,
)

from ..answers import assert_answer
from ..databases import Engine
from ..file_server import serving
from ..receiver import ReceiverProcess
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

ADMIN = "admin@bluewire.local"
OTHER_EMAIL = "group-actions-other@example.com"
OTHER_KEY, OTHER_SECRET = "group-actions-other-key", "group-actions-other-secret"
WAIT_S = 30.0
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(20_000)
FILES: dict[str, tuple[str, bytes]] = {
    "/team.png": ("image/png", PNG),
    "/notes.pdf": ("application/pdf", b"%PDF-1.4 " + os.urandom(1000)),
}


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    with serving(FILES) as url:
        yield url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    """Messages delivered at once and never read by themselves; pictures fetched and kept,
    as in production."""
    process = ServerProcess(tmp_path_factory.mktemp("sandbox-group-actions"), env={
        "BLUEWIRE_SANDBOX_DELIVER_MS": "0", "BLUEWIRE_SANDBOX_READ_MS": "600000",
        "BLUEWIRE_MEDIA_FETCH": "1",
    }, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def hooked(server: ServerProcess, receiver: ReceiverProcess) -> ReceiverProcess:
    with server.client() as api:
        receiver.hear(api, group="/group", outbound="/out")
    return receiver


@pytest.fixture(scope="module")
def other(server: ServerProcess) -> Iterator[httpx.Client]:
    """A second account granted the shared sandbox line."""
    server.cli("accounts", "create", OTHER_EMAIL)
    server.cli("keys", "create", "--account", OTHER_EMAIL, "--key-id", OTHER_KEY,
               "--secret", OTHER_SECRET)
    server.cli("lines", "add", SANDBOX_LINE, "--account", OTHER_EMAIL)
    with server.client(OTHER_KEY, OTHER_SECRET) as client:
        yield client


def new_group(api: httpx.Client, npa: int, suffixes: tuple[str, ...] = ("01", "11", "21"),
              line: str = SANDBOX_LINE) -> dict[str, Any]:
    answer = api.post("/api/send-group-message", json={
        "numbers": [phone(npa, s) for s in suffixes], "content": "hello, group",
        "from_number": line})
    assert answer.status_code == 200, answer.text
    return answer.json()


def send_to(api: httpx.Client, group_id: str, content: str) -> str:
    answer = api.post("/api/send-group-message", json={
        "group_id": group_id, "content": content, "from_number": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text
    handle: str = answer.json()["message_handle"]
    return handle


def rename(api: httpx.Client, number: str, group_id: str, name: str | None) -> httpx.Response:
    return api.post(f"/sandbox/phones/{number}/groups/{group_id}/name", json={"name": name})


def leave(api: httpx.Client, number: str, group_id: str) -> httpx.Response:
    return api.post(f"/sandbox/phones/{number}/groups/{group_id}/leave")


def set_photo(api: httpx.Client, number: str, group_id: str, body: Any) -> httpx.Response:
    return api.post(f"/sandbox/phones/{number}/groups/{group_id}/photo", json=body)


def add_member(api: httpx.Client, number: str, group_id: str, member: str,
               **extra: Any) -> httpx.Response:
    return api.post(f"/sandbox/phones/{number}/groups/{group_id}/members",
                    json={"number": member, **extra})


def remove_member(api: httpx.Client, number: str, group_id: str,
                  member: str) -> httpx.Response:
    return api.delete(f"/sandbox/phones/{number}/groups/{group_id}/members/{member}")


def retrieved(api: httpx.Client, group_id: str) -> dict[str, Any]:
    answer = api.get(f"/api/v2/groups/{group_id}")
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def received_handles(api: httpx.Client, number: str) -> set[str]:
    """The handles of the messages the phone has, as its sandbox view shows them."""
    answer = api.get(f"/sandbox/phones/{number}")
    assert answer.status_code == 200, answer.text
    return {m["message_handle"] for c in answer.json()["conversations"] for m in c["received"]}


def group_hooks(receiver: ReceiverProcess, group_id: str) -> list[dict[str, Any]]:
    return [r.json for r in receiver.received("/group") if r.json.get("group_id") == group_id]


def events_of(server: ServerProcess, group_id: str) -> list[tuple[int, str, dict[str, Any]]]:
    """(account, type, data) of the events about group `group_id`, oldest first."""
    rows = server.sql("SELECT account_id, type, data FROM events WHERE type LIKE 'group.%' "
                      "ORDER BY id")
    found = [(row["account_id"], row["type"], json.loads(row["data"])) for row in rows]
    return [entry for entry in found if entry[2].get("group_id") == group_id]


def assert_refused(answer: httpx.Response, status: int, says: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status"] == "ERROR" and says in body["message"], body


# -- renaming ---------------------------------------------------------------------------------


def test_a_phone_renames_its_group_and_the_account_sees_the_new_name_everywhere(
        server: ServerProcess, api: httpx.Client, hooked: ReceiverProcess) -> None:
    group_id = new_group(api, 631)["group_id"]
    renamer = phone(631, "11")
    answer = rename(api, renamer, group_id, "  Trail runners ")
    assert answer.status_code == 200, answer.text
    assert_answer(answer.json(), PhoneRenamedGroup)
    body = answer.json()
    assert (body["number"], body["group_id"], body["line"], body["group_name"]) == (
        renamer, group_id, SANDBOX_LINE, "Trail runners")
    # Answered once recorded: retrieve shows it at once.
    assert retrieved(api, group_id)["group_name"] == "Trail runners"

    hooks = wait_for(lambda: group_hooks(hooked, group_id), timeout=WAIT_S, interval=0.1)
    assert len(hooks) == 1
    hook = hooks[0]
    assert hook["group_name"] == "Trail runners" and hook["from_number"] == renamer
    assert hook["number"] == renamer and hook["sendblue_number"] == SANDBOX_LINE
    assert hook["changed_at"] == body["renamed_at"]
    [(_, type_, data)] = events_of(server, group_id)
    assert type_ == "group.renamed" and data == hook

    handle = send_to(api, group_id, "after the phone's rename")

    def delivered() -> list[dict[str, Any]] | None:
        found = [r.json for r in hooked.received("/out")
                 if r.json.get("message_handle") == handle]
        return found if {p["status"] for p in found} >= {"QUEUED", "DELIVERED"} else None

    for payload in wait_for(delivered, timeout=WAIT_S, interval=0.1):
        assert payload["group_display_name"] == "Trail runners"


def test_a_phone_clears_the_name_and_the_apis_rename_says_the_line_renamed_it(
        api: httpx.Client, hooked: ReceiverProcess) -> None:
    group_id = new_group(api, 632)["group_id"]
    assert api.post(f"/api/v2/groups/{group_id}/name",
                    json={"group_name": "Ours"}).status_code == 200
    cleared = rename(api, phone(632, "01"), group_id, "")
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["group_name"] is None
    assert retrieved(api, group_id)["group_name"] is None
    assert rename(api, phone(632, "21"), group_id, "Again").status_code == 200
    assert rename(api, phone(632, "21"), group_id, None).json()["group_name"] is None

    hooks = wait_for(lambda: (found := group_hooks(hooked, group_id)) and len(found) == 4
                     and found, timeout=WAIT_S, interval=0.1)
    by_name = {hook["group_name"]: hook for hook in hooks if hook["group_name"] is not None}
    assert by_name["Ours"]["from_number"] == SANDBOX_LINE  # the API's: the line renamed it
    assert by_name["Ours"]["sendblue_number"] == SANDBOX_LINE
    assert by_name["Again"]["from_number"] == phone(632, "21")
    assert sorted(h["from_number"] for h in hooks if h["group_name"] is None) == [
        phone(632, "01"), phone(632, "21")]


@pytest.mark.parametrize(("name", "says"), [
    ("   ", "blank"),
    ("x" * 256, "longer than 255"),
])
def test_a_bad_name_is_refused_with_the_reason(api: httpx.Client, name: str, says: str) -> None:
    group_id = new_group(api, 633)["group_id"]
    assert_refused(rename(api, phone(633, "01"), group_id, name), 400, says)
    assert retrieved(api, group_id)["group_name"] is None


# -- leaving ----------------------------------------------------------------------------------


def test_a_phone_leaves_and_the_groups_next_message_does_not_reach_it(
        server: ServerProcess, api: httpx.Client, hooked: ReceiverProcess) -> None:
    group_id = new_group(api, 634)["group_id"]
    leaver, stayer = phone(634, "11"), phone(634, "01")
    answer = leave(api, leaver, group_id)
    assert answer.status_code == 200, answer.text
    assert_answer(answer.json(), PhoneLeftGroup)
    body = answer.json()
    assert (body["number"], body["group_id"], body["line"]) == (leaver, group_id, SANDBOX_LINE)
    assert body["participant_numbers"] == [phone(634, "01"), phone(634, "21")]
    group = retrieved(api, group_id)
    assert group["participant_numbers"] == [phone(634, "01"), phone(634, "21")]
    assert leaver not in {p["phone"] for p in group["participants"]}

    hooks = wait_for(lambda: group_hooks(hooked, group_id), timeout=WAIT_S, interval=0.1)
    assert len(hooks) == 1
    hook = hooks[0]
    assert hook["number"] == leaver and hook["from_number"] == leaver
    assert hook["sendblue_number"] == SANDBOX_LINE and hook["changed_at"] == body["left_at"]
    assert hook["participant_numbers"] == body["participant_numbers"]
    [(_, type_, data)] = events_of(server, group_id)
    assert type_ == "group.member_left" and data == hook

    handle = send_to(api, group_id, "after the leave")
    wait_for(lambda: handle in received_handles(api, stayer), timeout=WAIT_S, interval=0.1)
    assert handle not in received_handles(api, leaver)
    message = api.get(f"/api/v2/messages/{handle}").json()["data"]
    assert leaver not in message.get("participants", [])

    # Gone is gone: it can no longer leave or rename the group.
    assert_refused(leave(api, leaver, group_id), 400, "is not in group")
    assert_refused(rename(api, leaver, group_id, "Mine"), 400, "is not in group")
    assert len(events_of(server, group_id)) == 1


def test_a_phone_cannot_leave_a_group_of_two(api: httpx.Client) -> None:
    group_id = new_group(api, 635, ("01", "11"))["group_id"]
    assert_refused(leave(api, phone(635, "01"), group_id), 400, "3 or more")
    assert len(retrieved(api, group_id)["participant_numbers"]) == 2


# -- scope ------------------------------------------------------------------------------------


def test_a_phone_not_in_the_group_is_refused(api: httpx.Client) -> None:
    group_id = new_group(api, 636)["group_id"]
    stranger = phone(636, "31")
    assert_refused(rename(api, stranger, group_id, "Hijacked"), 400,
                   f"{stranger} is not in group {group_id}")
    assert_refused(leave(api, stranger, group_id), 400, f"{stranger} is not in group")
    assert_refused(rename(api, SANDBOX_LINE, group_id, "Line"), 400, "one of our lines")
    assert_refused(leave(api, phone(636, "01"), "grp_nosuchgroup"), 404, "No group")
    group = retrieved(api, group_id)
    assert group["group_name"] is None and len(group["participant_numbers"]) == 3


def test_another_accounts_group_is_not_found_and_its_events_stay_its_own(
        server: ServerProcess, api: httpx.Client, other: httpx.Client,
        hooked: ReceiverProcess) -> None:
    group_id = new_group(api, 637)["group_id"]
    member = phone(637, "01")
    assert_refused(rename(other, member, group_id, "Theirs"), 404, f"No group with id {group_id}")
    assert_refused(leave(other, member, group_id), 404, "No group")
    assert retrieved(api, group_id)["group_name"] is None
    assert events_of(server, group_id) == []

    assert rename(api, member, group_id, "Ours").status_code == 200
    assert leave(api, member, group_id).status_code == 200
    owner = server.sql("SELECT account_id FROM chat_groups WHERE group_id = ?", group_id)
    assert [account for account, _, _ in events_of(server, group_id)] == [
        owner[0]["account_id"]] * 2
    other_id = server.sql("SELECT id FROM accounts WHERE email = ?", OTHER_EMAIL)[0]["id"]
    assert server.sql("SELECT COUNT(*) AS n FROM events WHERE account_id = ? "
                      "AND type LIKE 'group.%'", other_id)[0]["n"] == 0


def test_a_group_on_a_line_with_no_simulated_phones_is_refused(server: ServerProcess,
                                                              api: httpx.Client) -> None:
    line = "+14155557022"
    server.cli("lines", "add", line, "--account", ADMIN, "--connector", "agent")
    group_id = new_group(api, 638, line=line)["group_id"]  # queued until a Mac's agent connects
    assert_refused(rename(api, phone(638, "01"), group_id, "Nope"), 400, "sandbox")
    assert_refused(leave(api, phone(638, "01"), group_id), 400, "sandbox")


def test_a_leave_is_on_an_event_stream_that_names_it(api: httpx.Client) -> None:
    group_id = new_group(api, 639)["group_id"]
    with api.stream("GET", "/api/v2/events", params={"types": "group.member_left"}) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert next(lines) == ": ready"
        assert leave(api, phone(639, "21"), group_id).status_code == 200
        event = next(json.loads(line.removeprefix("data: ")) for line in lines
                     if line.startswith("data: "))
    assert event["type"] == "group.member_left"
    assert event["data"]["group_id"] == group_id and event["data"]["number"] == phone(639, "21")
    assert event["data"]["changed_at"] == event["occurred_at"]


# -- the group's photo ------------------------------------------------------------------------


def test_a_phone_changes_the_groups_photo_and_the_account_sees_the_picture(
        server: ServerProcess, api: httpx.Client, hooked: ReceiverProcess, files: str) -> None:
    group_id = new_group(api, 641)["group_id"]
    changer = phone(641, "11")
    answer = set_photo(api, changer, group_id, {"photo_url": f"{files}/team.png"})
    assert answer.status_code == 200, answer.text
    assert_answer(answer.json(), PhoneSetGroupPhoto)
    body = answer.json()
    assert (body["number"], body["group_id"], body["line"]) == (changer, group_id, SANDBOX_LINE)
    photo = body["group_photo"]
    assert photo["photo_guid"].startswith("mo_") and photo["url"].startswith(server.url)
    # Kept by the server: retrieve shows it at once, and it downloads as the picture.
    assert retrieved(api, group_id)["group_photo"] == photo
    assert httpx.get(photo["url"]).content == PNG

    hooks = wait_for(lambda: group_hooks(hooked, group_id), timeout=WAIT_S, interval=0.1)
    assert len(hooks) == 1
    hook = hooks[0]
    assert hook["group_photo"] == photo and hook["from_number"] == changer
    assert hook["number"] == changer and hook["sendblue_number"] == SANDBOX_LINE
    assert hook["changed_at"] == body["changed_at"]
    [(_, type_, data)] = events_of(server, group_id)
    assert type_ == "group.photo_changed" and data == hook

    removed = set_photo(api, phone(641, "21"), group_id, {"photo_url": None, "line": SANDBOX_LINE})
    assert removed.status_code == 200, removed.text
    assert removed.json()["group_photo"] is None
    assert retrieved(api, group_id)["group_photo"] is None
    hooks = wait_for(lambda: (found := group_hooks(hooked, group_id)) and len(found) == 2
                     and found, timeout=WAIT_S, interval=0.1)
    assert [(h["from_number"], h["group_photo"]) for h in hooks
            if h["group_photo"] is None] == [(phone(641, "21"), None)]


def test_a_media_object_of_the_account_can_be_the_phones_photo(api: httpx.Client,
                                                               files: str) -> None:
    group_id = new_group(api, 642)["group_id"]
    uploaded = api.post("/api/upload-media-object", json={"media_url": f"{files}/team.png"})
    assert uploaded.status_code == 200, uploaded.text
    media_id = uploaded.json()["mediaObjectId"]
    answer = set_photo(api, phone(642, "01"), group_id, {"photo_url": media_id})
    assert answer.status_code == 200, answer.text
    assert answer.json()["group_photo"] == {"photo_guid": media_id,
                                            "url": uploaded.json()["media_url"]}
    assert retrieved(api, group_id)["group_photo"]["photo_guid"] == media_id


@pytest.mark.parametrize(("body", "says"), [
    ({"photo_url": "ftp://example.com/a.png"}, "http"),
    ({"photo_url": 7}, "photo_url"),
    ({}, "photo_url"),
    ({"photo_url": "/notes.pdf"}, "JPEG, PNG or GIF"),
    ({"photo_url": "/missing.png"}, "cannot be used"),
    ({"photo_url": None, "line": "+14155550123"}, "is not the line of group"),
])
def test_a_bad_photo_is_refused_with_the_reason(api: httpx.Client, files: str,
                                                body: dict[str, Any], says: str) -> None:
    group_id = new_group(api, 643)["group_id"]
    if isinstance(body.get("photo_url"), str) and body["photo_url"].startswith("/"):
        body = {"photo_url": files + body["photo_url"]}
    assert_refused(set_photo(api, phone(643, "01"), group_id, body), 400, says)
    assert retrieved(api, group_id)["group_photo"] is None


def test_a_photo_from_a_phone_not_in_the_group_is_refused(api: httpx.Client,
                                                          other: httpx.Client) -> None:
    group_id = new_group(api, 644)["group_id"]
    body = {"photo_url": None}
    assert_refused(set_photo(api, phone(644, "31"), group_id, body), 400, "is not in group")
    assert_refused(set_photo(api, phone(644, "01"), "grp_nosuchgroup", body), 404, "No group")
    assert_refused(set_photo(other, phone(644, "01"), group_id, body), 404, "No group")


# -- adding and removing members --------------------------------------------------------------


def test_a_phone_adds_a_member_who_gets_the_groups_next_message(
        server: ServerProcess, api: httpx.Client, hooked: ReceiverProcess) -> None:
    group_id = new_group(api, 645)["group_id"]
    adder, added = phone(645, "11"), phone(645, "31")
    everyone = [phone(645, "01"), phone(645, "11"), phone(645, "21"), added]
    answer = add_member(api, adder, group_id, added, line=SANDBOX_LINE)
    assert answer.status_code == 200, answer.text
    assert_answer(answer.json(), PhoneChangedMembers)
    body = answer.json()
    assert (body["number"], body["member_number"], body["participant_numbers"]) == (
        adder, added, everyone)
    assert retrieved(api, group_id)["participant_numbers"] == everyone
    assert api.get(f"/api/v2/contacts/{added}").status_code == 200  # a contact now

    hooks = wait_for(lambda: group_hooks(hooked, group_id), timeout=WAIT_S, interval=0.1)
    assert len(hooks) == 1
    hook = hooks[0]
    assert (hook["number"], hook["from_number"], hook["member_number"]) == (adder, adder, added)
    assert hook["participant_numbers"] == everyone and hook["changed_at"] == body["changed_at"]
    [(_, type_, data)] = events_of(server, group_id)
    assert type_ == "group.member_added" and data == hook

    handle = send_to(api, group_id, "welcome aboard")
    wait_for(lambda: handle in received_handles(api, added), timeout=WAIT_S, interval=0.1)
    # A member now: it can act on the group too.
    assert rename(api, added, group_id, "New blood").status_code == 200
    assert_refused(add_member(api, adder, group_id, added), 400, "already in group")


def test_a_phone_removes_a_member_who_no_longer_gets_the_groups_messages(
        server: ServerProcess, api: httpx.Client, hooked: ReceiverProcess) -> None:
    group_id = new_group(api, 646)["group_id"]
    remover, removed, stayer = phone(646, "01"), phone(646, "21"), phone(646, "11")
    answer = remove_member(api, remover, group_id, removed)
    assert answer.status_code == 200, answer.text
    assert_answer(answer.json(), PhoneChangedMembers)
    body = answer.json()
    assert (body["number"], body["member_number"], body["participant_numbers"]) == (
        remover, removed, [remover, stayer])
    assert retrieved(api, group_id)["participant_numbers"] == [remover, stayer]

    hooks = wait_for(lambda: group_hooks(hooked, group_id), timeout=WAIT_S, interval=0.1)
    assert len(hooks) == 1
    hook = hooks[0]
    assert (hook["number"], hook["from_number"], hook["member_number"]) == (
        remover, remover, removed)
    assert hook["participant_numbers"] == [remover, stayer]
    [(_, type_, data)] = events_of(server, group_id)
    assert type_ == "group.member_removed" and data == hook

    handle = send_to(api, group_id, "after the removal")
    wait_for(lambda: handle in received_handles(api, stayer), timeout=WAIT_S, interval=0.1)
    assert handle not in received_handles(api, removed)
    # Removed is gone: it can no longer act on the group, nor be removed again.
    assert_refused(rename(api, removed, group_id, "Mine"), 400, "is not in group")
    assert_refused(add_member(api, removed, group_id, phone(646, "41")), 400, "is not in group")
    # Two are left: as in iMessage, no one more can be removed.
    assert_refused(remove_member(api, stayer, group_id, remover), 400, "3 or more")
    assert len(events_of(server, group_id)) == 1


def test_bad_member_changes_are_refused_with_the_reason(api: httpx.Client,
                                                        other: httpx.Client) -> None:
    group_id = new_group(api, 647)["group_id"]
    member, stranger = phone(647, "01"), phone(647, "31")
    assert_refused(add_member(api, member, group_id, SANDBOX_LINE), 400, "one of our lines")
    assert_refused(add_member(api, member, group_id, "not a number"), 400, "`number`")
    assert_refused(add_member(api, member, group_id, phone(647, "11")), 400, "already in group")
    assert_refused(add_member(api, stranger, group_id, phone(647, "41")), 400,
                   f"{stranger} is not in group")
    assert_refused(add_member(api, member, group_id, stranger, line="+14155550123"), 400,
                   "is not the line of group")
    assert_refused(remove_member(api, member, group_id, member), 400, "leave")
    assert_refused(remove_member(api, member, group_id, stranger), 400,
                   f"`member` {stranger} is not in group")
    assert_refused(remove_member(api, member, group_id, "12"), 400, "`member`")
    assert_refused(remove_member(api, member, "grp_nosuchgroup", stranger), 404, "No group")
    assert_refused(add_member(other, member, group_id, stranger), 404, "No group")
    assert_refused(remove_member(other, member, group_id, phone(647, "11")), 404, "No group")
    group = retrieved(api, group_id)
    assert group["participant_numbers"] == [phone(647, s) for s in ("01", "11", "21")]


def test_no_member_can_be_removed_from_a_group_of_two(api: httpx.Client) -> None:
    group_id = new_group(api, 648, ("01", "11"))["group_id"]
    assert_refused(remove_member(api, phone(648, "01"), group_id, phone(648, "11")), 400,
                   "3 or more")
    assert len(retrieved(api, group_id)["participant_numbers"]) == 2


def test_a_member_added_is_on_an_event_stream_that_names_it(api: httpx.Client) -> None:
    group_id = new_group(api, 649)["group_id"]
    added = phone(649, "31")
    with api.stream("GET", "/api/v2/events", params={"types": "group.member_added"}) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert next(lines) == ": ready"
        assert add_member(api, phone(649, "21"), group_id, added).status_code == 200
        event = next(json.loads(line.removeprefix("data: ")) for line in lines
                     if line.startswith("data: "))
    assert event["type"] == "group.member_added"
    assert event["data"]["member_number"] == added and event["data"]["group_id"] == group_id
