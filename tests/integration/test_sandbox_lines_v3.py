"""`/v3/sandboxes`, as the official command-line client's `sandbox list|create|delete|connect`
call it: the account's lines on the simulated phone network, which it can add and remove."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ..databases import Engine
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

LIMIT = 2
SHARED_ID = "sbx_" + SANDBOX_LINE.lstrip("+")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("server"), engine=engine, env={
        "BLUEWIRE_SANDBOX_LINES_PER_ACCOUNT": str(LIMIT),
        "BLUEWIRE_PUBLIC_URL": "http://gateway.example:8080"}).start()
    process.cli("accounts", "create", "other@example.com")
    process.cli("keys", "create", "--account", "other@example.com", "--key-id", "other",
                "--secret", "other-secret")
    process.cli("lines", "add", SANDBOX_LINE, "--account", "other@example.com")
    yield process
    process.stop()


@pytest.fixture
def other(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client("other", "other-secret") as client:
        yield client


def listed(api: httpx.Client) -> dict[str, dict]:
    answer = api.get("/v3/sandboxes")
    assert answer.status_code == 200, answer.text
    return {entry["id"]: entry for entry in answer.json()["data"]["sandboxes"]}


def create(api: httpx.Client) -> dict:
    answer = api.post("/v3/sandboxes", json={})
    assert answer.status_code == 201, answer.text
    return dict(answer.json()["data"])


def delete_all_own(api: httpx.Client) -> None:
    for sandbox_id, entry in listed(api).items():
        if not entry["shared"]:
            assert api.delete(f"/v3/sandboxes/{sandbox_id}").status_code == 200


def test_the_list_has_the_shared_line_usage_and_a_prompt_for_an_agent(
        api: httpx.Client) -> None:
    delete_all_own(api)
    data = api.get("/v3/sandboxes").json()["data"]
    [shared] = data["sandboxes"]
    assert shared == {"id": SHARED_ID, "status": "active", "number": SANDBOX_LINE,
                      "shared": True, "created_at": shared["created_at"]}
    assert shared["created_at"].endswith("Z")
    assert data["usage"]["max_active_sandboxes"] == LIMIT
    assert data["usage"]["used_usd"] == 0
    prompt = data["connect"]["prompt"]
    assert "http://gateway.example:8080/api/send-message" in prompt
    assert SANDBOX_LINE in prompt and "sb-api-key-id" in prompt


def test_a_created_line_sends_at_once_and_is_the_accounts_alone(
        api: httpx.Client, other: httpx.Client) -> None:
    delete_all_own(api)
    made = create(api)
    number = made["number"]
    assert made == {"id": "sbx_" + number.lstrip("+"), "status": "active", "number": number,
                    "shared": False, "created_at": made["created_at"]}
    assert number.startswith("+14155551")
    assert made["id"] in listed(api)
    assert number in api.get("/api/lines").json()["numbers"]

    sent = api.post("/api/send-message", json={"number": phone(646), "from_number": number,
                                                "content": "from my own sandbox line"})
    assert sent.status_code == 200, sent.text
    handle = sent.json()["message_handle"]
    wait_for(lambda: api.get("/api/status", params={"handle": handle}).json()["status"]
             == "READ")

    assert made["id"] not in listed(other)
    theirs = other.post("/api/send-message", json={"number": phone(646), "from_number": number,
                                                    "content": "not mine"})
    assert theirs.status_code == 400, theirs.text
    refused = other.delete(f"/v3/sandboxes/{made['id']}")
    assert refused.status_code == 404
    assert number in refused.json()["error"]["message"]
    assert made["id"] in listed(api)


def test_a_deleted_line_is_gone_and_the_shared_one_stays(api: httpx.Client) -> None:
    made = create(api)
    gone = api.delete(f"/v3/sandboxes/{made['id']}")
    assert gone.status_code == 200, gone.text
    assert gone.json() == {"data": {"id": made["id"], "deleted": True}}
    assert made["id"] not in listed(api)
    sent = api.post("/api/send-message", json={"number": phone(646), "from_number":
                                               made["number"], "content": "after"})
    assert sent.status_code == 400, sent.text
    assert api.delete(f"/v3/sandboxes/{made['id']}").status_code == 404

    shared = api.delete(f"/v3/sandboxes/{SHARED_ID}")
    assert shared.status_code == 409
    assert shared.json()["error"]["code"] == "shared"
    assert "bluewire lines remove" in shared.json()["error"]["message"]
    assert SHARED_ID in listed(api)

    nonsense = api.delete("/v3/sandboxes/not-a-sandbox")
    assert nonsense.status_code == 404
    assert "sbx_" in nonsense.json()["error"]["message"]


def test_an_account_has_only_as_many_as_the_server_allows(api: httpx.Client) -> None:
    delete_all_own(api)
    made = [create(api) for _ in range(LIMIT)]
    assert len({entry["number"] for entry in made}) == LIMIT
    over = api.post("/v3/sandboxes", json={})
    assert over.status_code == 409, over.text
    assert over.json()["error"]["code"] == "sandbox_limit"
    assert "delete one first" in over.json()["error"]["message"]
    api.delete(f"/v3/sandboxes/{made[0]['id']}")
    again = create(api)  # the freed number is the first free one again
    assert again["number"] == made[0]["number"]


def test_commands_and_files_are_refused_saying_why(api: httpx.Client) -> None:
    answer = api.post(f"/v3/sandboxes/{SHARED_ID}/exec", json={"command": "ls"})
    assert answer.status_code == 501
    error = answer.json()["error"]
    assert error["code"] == "not_supported" and "simulated phone network" in error["message"]
    assert api.get(f"/v3/sandboxes/{SHARED_ID}/files",
                   params={"path": "/a"}).status_code == 501


def test_it_needs_credentials(server: ServerProcess) -> None:
    assert httpx.get(server.url + "/v3/sandboxes", timeout=10).status_code == 401
    assert httpx.post(server.url + "/v3/sandboxes", timeout=10).status_code == 401
