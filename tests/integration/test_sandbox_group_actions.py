"""What a sandbox phone does to a group reaches the group's account: renaming it
(POST /sandbox/phones/{number}/groups/{group_id}/name) and leaving it (…/leave), each as the
network reports it. Over real HTTP against `bluewire serve`, with a real webhook receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bluewire.domain.wire.sandbox_groups import PhoneLeftGroup, PhoneRenamedGroup

from ..answers import assert_answer
from ..databases import Engine
from ..receiver import ReceiverProcess
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

ADMIN = "admin@bluewire.local"
OTHER_EMAIL = "group-actions-other@example.com"
OTHER_KEY, OTHER_SECRET = "group-actions-other-key", "group-actions-other-secret"
WAIT_S = 30.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    """Messages delivered at once and never read by themselves."""
    process = ServerProcess(tmp_path_factory.mktemp("sandbox-group-actions"), env={
        "BLUEWIRE_SANDBOX_DELIVER_MS": "0", "BLUEWIRE_SANDBOX_READ_MS": "600000",
    }, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def hooked(server: ServerProcess, receiver: ReceiverProcess) -> ReceiverProcess:
    with server.client() as api:
        answer = api.put("/api/account/webhooks", json={"webhooks": {
            "group": [receiver.url_for("/group")], "outbound": [receiver.url_for("/out")]}})
        assert answer.status_code == 200, answer.text
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
