"""A group as a resource (the official SDK's v2 groups): retrieve it, name it, clear its name;
over real HTTP and through the SDK with strict validation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sendblue_api import SendblueAPI

from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, phone

ADMIN = "admin@bluewire.local"


@pytest.fixture
def strict(server: ServerProcess) -> Iterator[SendblueAPI]:
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url, max_retries=0,
                     _strict_response_validation=True) as sdk:
        yield sdk


def new_group(api: httpx.Client, npa: int) -> dict[str, Any]:
    answer = api.post("/api/send-group-message", json={
        "numbers": [phone(npa, "01"), phone(npa, "11")], "content": "hello, group",
        "from_number": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_group_is_retrieved_with_its_members_and_latest_message(
        api: httpx.Client, strict: SendblueAPI) -> None:
    sent = new_group(api, 601)
    group = strict.v2.groups.retrieve(sent["group_id"])
    assert group.data is not None
    assert group.data.group_id == sent["group_id"] and group.data.group_name is None
    assert group.data.participant_numbers == [phone(601, "01"), phone(601, "11")]
    assert [p.phone for p in group.data.participants or []] == group.data.participant_numbers
    assert group.data.latest_message_id == sent["message_handle"]
    assert group.data.group_photo is None


def test_a_group_is_named_and_its_name_cleared(api: httpx.Client, strict: SendblueAPI) -> None:
    sent = new_group(api, 602)
    renamed = strict.v2.groups.rename(sent["group_id"], group_name="  Lunch crew ")
    assert (renamed.data.group_name, renamed.data.from_number) == ("Lunch crew", SANDBOX_LINE)
    assert strict.v2.groups.retrieve(sent["group_id"]).data.group_name == "Lunch crew"
    cleared = strict.v2.groups.rename(sent["group_id"], group_name=None)
    assert cleared.data.group_name == ""
    assert api.get(f"/api/v2/groups/{sent['group_id']}").json()["data"]["group_name"] is None


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"group_name": "   "}, 400, "blank"),
    ({"group_name": "x" * 256}, 400, "longer than 255"),
    ({"group_name": "ok", "from_number": "+14155550123"}, 400, "is not in group"),
    ({}, 400, "group_name"),
])
def test_a_bad_rename_is_refused_with_the_reason(api: httpx.Client, body: dict[str, Any],
                                                  status: int, says: str) -> None:
    group_id = new_group(api, 603)["group_id"]
    answer = api.post(f"/api/v2/groups/{group_id}/name", json=body)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["message"]


def test_another_accounts_group_is_not_found(server: ServerProcess, api: httpx.Client) -> None:
    group_id = new_group(api, 604)["group_id"]
    other, key_id, secret = "groups-v2-other@example.com", "groups-v2-key", "groups-v2-secret"
    server.cli("accounts", "create", other)
    server.cli("keys", "create", "--account", other, "--key-id", key_id, "--secret", secret)
    with server.client(key_id, secret) as stranger:
        assert stranger.get(f"/api/v2/groups/{group_id}").status_code == 404
        assert stranger.post(f"/api/v2/groups/{group_id}/name",
                             json={"group_name": "mine now"}).status_code == 404
    assert api.get("/api/v2/groups/no-such-group").status_code == 404
    assert api.get(f"/api/v2/groups/{group_id}").json()["data"]["group_name"] is None


def test_a_line_that_cannot_name_groups_says_so(server: ServerProcess,
                                                api: httpx.Client) -> None:
    line = "+14155557002"
    server.cli("lines", "add", line, "--account", ADMIN, "--connector", "agent")
    sent = api.post("/api/send-group-message", json={
        "numbers": [phone(605, "01"), phone(605, "11")], "content": "hi", "from_number": line})
    assert sent.status_code == 200, sent.text  # queued until the Mac's agent connects
    answer = api.post(f"/api/v2/groups/{sent.json()['group_id']}/name",
                      json={"group_name": "Team"})
    assert answer.status_code == 400
    assert "cannot name group chats" in answer.json()["message"]
