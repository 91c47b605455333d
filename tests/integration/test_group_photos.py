"""A group's photo (POST /api/v2/groups/{id}/photo, as the official SDK calls it), the group's
name in every message payload of the group (`group_display_name`), and each rename or photo
change as an event: over real HTTP against `bluewire serve`, with a local file server for the
pictures and a real webhook receiver, through the SDK with strict validation."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sendblue_api import AsyncSendblueAPI, BadRequestError, SendblueAPI

from ..databases import Engine
from ..file_server import serving
from ..receiver import ReceiverProcess
from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, phone, wait_for

ADMIN = "admin@bluewire.local"
WAIT_S = 30.0
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(20_000)
JPEG = b"\xff\xd8\xff" + os.urandom(20_000)
FILES: dict[str, tuple[str, bytes]] = {
    "/team.png": ("image/png", PNG),
    "/team.jpg": ("image/jpeg", JPEG),
    "/notes.pdf": ("application/pdf", b"%PDF-1.4 " + os.urandom(1000)),
}


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    with serving(FILES) as url:
        yield url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    """Media fetched and kept, as in production (the other suites pass made-up URLs on);
    messages never read, so the SDK's strict message models (which know no READ) take them."""
    process = ServerProcess(tmp_path_factory.mktemp("group-photos"), env={
        "BLUEWIRE_MEDIA_FETCH": "1", "BLUEWIRE_SWEEP_INTERVAL_MS": "100",
        "BLUEWIRE_SANDBOX_READ_MS": "600000",
    }, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def hooked(server: ServerProcess, receiver: ReceiverProcess) -> ReceiverProcess:
    with server.client() as api:
        receiver.hear(api, group="/group", outbound="/out")
    return receiver


@pytest.fixture
def strict(server: ServerProcess) -> Iterator[SendblueAPI]:
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url, max_retries=0,
                     _strict_response_validation=True) as sdk:
        yield sdk


@pytest.fixture
async def astrict(server: ServerProcess) -> AsyncIterator[AsyncSendblueAPI]:
    async with AsyncSendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url,
                                max_retries=0, _strict_response_validation=True) as sdk:
        yield sdk


def new_group(api: httpx.Client, npa: int, line: str = SANDBOX_LINE) -> dict[str, Any]:
    answer = api.post("/api/send-group-message", json={
        "numbers": [phone(npa, "01"), phone(npa, "11")], "content": "hello, group",
        "from_number": line})
    assert answer.status_code == 200, answer.text
    return answer.json()


def send_to(api: httpx.Client, group_id: str, content: str) -> str:
    answer = api.post("/api/send-group-message", json={
        "group_id": group_id, "content": content, "from_number": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text
    handle: str = answer.json()["message_handle"]
    return handle


def events_of(server: ServerProcess, type_: str) -> list[dict[str, Any]]:
    rows = server.sql("SELECT data FROM events WHERE type = ? ORDER BY id", type_)
    return [json.loads(row["data"]) for row in rows]


def test_a_photo_is_set_kept_retrieved_and_cleared(api: httpx.Client, strict: SendblueAPI,
                                                   files: str) -> None:
    group_id = new_group(api, 611)["group_id"]
    answer = strict.v2.groups.set_photo(group_id, photo_url=f"{files}/team.png")
    assert answer.status == "OK" and answer.data.group_id == group_id
    assert answer.data.from_number == SANDBOX_LINE
    photo = answer.data.group_photo
    assert photo is not None and photo.photo_guid.startswith("mo_")
    kept = httpx.get(photo.url)  # our copy, not the file server's
    assert kept.status_code == 200 and kept.content == PNG
    assert kept.headers["content-type"] == "image/png"
    retrieved = strict.v2.groups.retrieve(group_id).data
    assert retrieved is not None and retrieved.group_photo == photo

    replaced = strict.v2.groups.set_photo(group_id, photo_url=f"{files}/team.jpg",
                                          from_number=SANDBOX_LINE).data.group_photo
    assert replaced is not None and replaced.photo_guid != photo.photo_guid
    assert httpx.get(replaced.url).content == JPEG

    cleared = strict.v2.groups.set_photo(group_id, photo_url=None)
    assert cleared.data.group_photo is None
    assert strict.v2.groups.retrieve(group_id).data.group_photo is None  # type: ignore[union-attr]


async def test_the_async_client_sets_and_clears_a_photo(api: httpx.Client,
                                                        astrict: AsyncSendblueAPI,
                                                        files: str) -> None:
    group_id = new_group(api, 612)["group_id"]
    answer = await astrict.v2.groups.set_photo(group_id, photo_url=f"{files}/team.png")
    assert answer.data.group_photo is not None
    retrieved = (await astrict.v2.groups.retrieve(group_id)).data
    assert retrieved is not None and retrieved.group_photo == answer.data.group_photo
    await astrict.v2.groups.set_photo(group_id, photo_url=None)
    assert (await astrict.v2.groups.retrieve(group_id)).data.group_photo is None  # type: ignore[union-attr]


def test_a_media_object_of_the_account_can_be_the_photo(api: httpx.Client, strict: SendblueAPI,
                                                        files: str) -> None:
    group_id = new_group(api, 613)["group_id"]
    uploaded = api.post("/api/upload-media-object", json={"media_url": f"{files}/team.png"})
    assert uploaded.status_code == 200, uploaded.text
    media_id = uploaded.json()["mediaObjectId"]
    photo = strict.v2.groups.set_photo(group_id, photo_url=media_id).data.group_photo
    assert photo is not None and photo.photo_guid == media_id
    assert photo.url == uploaded.json()["media_url"]


@pytest.mark.parametrize(("path", "says"), [
    ("/notes.pdf", "JPEG, PNG or GIF"),
    ("/missing.png", "cannot be used"),
])
def test_a_photo_that_is_not_a_picture_is_refused(api: httpx.Client, files: str, path: str,
                                                  says: str) -> None:
    group_id = new_group(api, 614)["group_id"]
    answer = api.post(f"/api/v2/groups/{group_id}/photo", json={"photo_url": files + path})
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["message"]
    assert api.get(f"/api/v2/groups/{group_id}").json()["data"]["group_photo"] is None


@pytest.mark.parametrize(("body", "says"), [
    ({"photo_url": "ftp://example.com/a.png"}, "http"),
    ({"photo_url": 7}, "photo_url"),
    ({}, "photo_url"),
    ({"photo_url": None, "from_number": "+14155550123"}, "is not in group"),
])
def test_a_bad_photo_request_is_refused_with_the_reason(api: httpx.Client, body: dict[str, Any],
                                                        says: str) -> None:
    group_id = new_group(api, 615)["group_id"]
    answer = api.post(f"/api/v2/groups/{group_id}/photo", json=body)
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["message"]


def test_another_accounts_group_photo_is_not_found(server: ServerProcess, api: httpx.Client,
                                                   files: str) -> None:
    group_id = new_group(api, 616)["group_id"]
    other, key_id, secret = "group-photos-other@example.com", "group-photos-key", "gp-secret"
    server.cli("accounts", "create", other)
    server.cli("keys", "create", "--account", other, "--key-id", key_id, "--secret", secret)
    with server.client(key_id, secret) as stranger:
        answer = stranger.post(f"/api/v2/groups/{group_id}/photo",
                               json={"photo_url": f"{files}/team.png"})
        assert answer.status_code == 404
    assert api.post("/api/v2/groups/no-such-group/photo",
                    json={"photo_url": None}).status_code == 404


def test_a_line_that_cannot_set_group_photos_says_so(server: ServerProcess, api: httpx.Client,
                                                     strict: SendblueAPI, files: str) -> None:
    line = "+14155557012"
    server.cli("lines", "add", line, "--account", ADMIN, "--connector", "agent")
    group_id = new_group(api, 617, line)["group_id"]  # queued until the Mac's agent connects
    with pytest.raises(BadRequestError) as refused:
        strict.v2.groups.set_photo(group_id, photo_url=f"{files}/team.png")
    assert refused.value.status_code == 400
    assert "cannot set group chat photos" in refused.value.response.json()["message"]
    assert api.get(f"/api/v2/groups/{group_id}").json()["data"]["group_photo"] is None


def test_the_groups_name_is_in_its_messages_webhooks_and_answers(
        api: httpx.Client, strict: SendblueAPI, hooked: ReceiverProcess) -> None:
    sent = new_group(api, 618)
    group_id = sent["group_id"]
    strict.v2.groups.rename(group_id, group_name="Book club")
    handle = send_to(api, group_id, "after the rename")

    def payloads() -> list[dict[str, Any]] | None:
        found = [r.json for r in hooked.received("/out")
                 if r.json.get("message_handle") == handle]
        return found if {p["status"] for p in found} >= {"QUEUED", "DELIVERED"} else None

    for payload in wait_for(payloads, timeout=WAIT_S, interval=0.1):
        assert payload["group_display_name"] == "Book club"
        assert payload["group_id"] == group_id
    retrieved = strict.messages.retrieve(handle)
    assert retrieved.data is not None and retrieved.data.group_display_name == "Book club"
    # The name is the group's current one, for its earlier messages too; none for a 1:1.
    earlier = api.get(f"/api/v2/messages/{sent['message_handle']}").json()["data"]
    assert earlier["group_display_name"] == "Book club"
    listed = [m for m in strict.messages.list(message_type="group", limit=100).data or []
              if m.group_id == group_id]
    assert {m.message_handle for m in listed} == {sent["message_handle"], handle}
    assert {m.group_display_name for m in listed} == {"Book club"}
    one = api.post("/api/send-message", json={"number": phone(618, "21"), "content": "1:1",
                                               "from_number": SANDBOX_LINE}).json()
    row = api.get(f"/api/v2/messages/{one['message_handle']}").json()["data"]
    assert row["group_display_name"] is None
    mixed = api.get("/api/v2/messages", params={"limit": 50}).json()["data"]
    assert {m["message_handle"]: m["group_display_name"] for m in mixed
            if m["message_handle"] in (handle, one["message_handle"])} == {
        handle: "Book club", one["message_handle"]: None}


def test_each_change_is_an_event_on_the_stream_and_a_webhook(
        server: ServerProcess, api: httpx.Client, strict: SendblueAPI,
        hooked: ReceiverProcess, files: str) -> None:
    group_id = new_group(api, 619)["group_id"]
    seen: list[dict[str, Any]] = []
    with api.stream("GET", "/api/v2/events",
                    params={"types": "group.renamed,group.photo_changed"}) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert next(lines) == ": ready"
        strict.v2.groups.rename(group_id, group_name="Climbers")
        photo = strict.v2.groups.set_photo(group_id, photo_url=f"{files}/team.png")
        strict.v2.groups.set_photo(group_id, photo_url=None)
        for line in lines:
            if line.startswith("data: "):
                event = json.loads(line.removeprefix("data: "))
                if event["data"]["group_id"] == group_id:
                    seen.append(event)
                if len(seen) == 3:
                    break
    assert [e["type"] for e in seen] == ["group.renamed", "group.photo_changed",
                                         "group.photo_changed"]
    renamed, set_, cleared = (e["data"] for e in seen)
    assert renamed["group_name"] == "Climbers" and renamed["from_number"] == SANDBOX_LINE
    assert set_["group_photo"] == photo.data.group_photo.model_dump()  # type: ignore[union-attr]
    assert cleared["group_photo"] is None
    assert all(e["data"]["changed_at"] == e["occurred_at"] for e in seen)
    # Not on a stream that does not ask for them.
    assert api.get("/api/v2/events", params={"types": "group.nope"}).status_code == 400

    def hooks() -> list[dict[str, Any]] | None:
        found = [r.json for r in hooked.received("/group")
                 if r.json.get("group_id") == group_id]
        return found if len(found) == 3 else None

    delivered = wait_for(hooks, timeout=WAIT_S, interval=0.1)
    assert sorted(json.dumps(p, sort_keys=True) for p in delivered) == sorted(
        json.dumps(e["data"], sort_keys=True) for e in seen)
    assert len(events_of(server, "group.photo_changed")) >= 2
