"""Authentication, accounts sharing the sandbox line, and what one account may see of another."""

from __future__ import annotations

import httpx
import pytest

from ..server import SANDBOX_LINE, ServerProcess, wait_for


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"sb-api-key-id": "test-key-id"},
        {"sb-api-key-id": "test-key-id", "sb-api-secret-key": "wrong"},
        {"sb-api-key-id": "nobody", "sb-api-secret-key": "test-secret-key"},
    ],
)
def test_missing_or_wrong_credentials_get_401_json(server: ServerProcess,
                                                   headers: dict[str, str]) -> None:
    for method, path in (("POST", "/api/send-message"), ("GET", "/api/status"),
                         ("GET", "/api/v2/messages"), ("GET", "/api/evaluate-service")):
        response = httpx.request(method, server.url + path, headers=headers,
                                 json={"number": "+14155550100", "content": "hi"})
        assert response.status_code == 401, (method, path, response.text)
        body = response.json()
        assert body["status"] == "ERROR"
        assert "sb-api-key-id" in body["message"]


def test_the_x_prefixed_headers_are_accepted_too(server: ServerProcess) -> None:
    response = httpx.get(server.url + "/api/v2/messages",
                         headers={"x-sb-api-key-id": "test-key-id",
                                  "x-sb-api-secret-key": "test-secret-key"})
    assert response.status_code == 200


def test_a_second_secret_for_a_cached_key_is_still_refused(server: ServerProcess) -> None:
    with server.client() as good:
        assert good.get("/api/v2/messages").status_code == 200  # now cached
    with server.client(secret="test-secret-kez") as bad:
        assert bad.get("/api/v2/messages").status_code == 401


@pytest.fixture(scope="module")
def other(server: ServerProcess) -> httpx.Client:
    server.cli("accounts", "create", "other@example.com")
    server.cli("keys", "create", "--account", "other@example.com", "--key-id", "other-key",
               "--secret", "other-secret")
    client = server.client("other-key", "other-secret")
    yield client
    client.close()


def test_an_account_cannot_send_from_a_line_it_was_not_granted(
    server: ServerProcess, other: httpx.Client
) -> None:
    response = other.post("/api/send-message", json={
        "number": "+14155550100", "from_number": SANDBOX_LINE, "content": "hi"})
    assert response.status_code == 400
    assert "`from_number`" in response.json()["message"]


def test_accounts_never_see_each_others_messages(server: ServerProcess, api: httpx.Client,
                                                 other: httpx.Client) -> None:
    server.cli("lines", "add", SANDBOX_LINE, "--account", "other@example.com")
    mine = api.post("/api/send-message", json={
        "number": "+14155550131", "from_number": SANDBOX_LINE, "content": "mine"}).json()
    theirs = other.post("/api/send-message", json={
        "number": "+14155550132", "from_number": SANDBOX_LINE, "content": "theirs"})
    assert theirs.status_code == 200, theirs.text
    theirs = theirs.json()
    assert theirs["account_email"] == "other@example.com"

    for handle, owner, stranger in ((mine["message_handle"], api, other),
                                    (theirs["message_handle"], other, api)):
        assert owner.get("/api/status", params={"handle": handle}).status_code == 200
        assert stranger.get("/api/status", params={"handle": handle}).status_code == 404
        assert stranger.get(f"/api/v2/messages/{handle}").status_code == 404
    other_handles = {row["message_handle"]
                     for row in other.get("/api/v2/messages", params={"limit": 1000})
                     .json()["data"]}
    assert theirs["message_handle"] in other_handles
    assert mine["message_handle"] not in other_handles
    assert other.get("/api/v2/messages", params={"number": "+14155550131"}
                     ).json()["pagination"]["total"] == 0


def test_a_line_of_one_account_cannot_be_given_to_another(server: ServerProcess) -> None:
    server.cli("accounts", "create", "third@example.com")
    server.cli("lines", "add", "+14155550177", "--account", "third@example.com")
    result = server.cli("lines", "add", "+14155550177", "--account", "other@example.com",
                        check=False)
    assert result.returncode == 2
    assert "belongs to another account" in result.stderr


def test_a_line_rate_limit_refuses_excess_sends_with_429_and_4001(
    server: ServerProcess,
) -> None:
    server.cli("accounts", "create", "limited@example.com")
    server.cli("keys", "create", "--account", "limited@example.com", "--key-id", "lim",
               "--secret", "lim-secret")
    server.cli("lines", "add", "+14155550188", "--account", "limited@example.com",
               "--rate-limit", "2")
    with server.client("lim", "lim-secret") as client:
        answers = [client.post("/api/send-message", json={
            "number": "+14155550100", "from_number": "+14155550188", "content": f"n{i}"})
            for i in range(6)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:2] == [200, 200]
    refused = [answer for answer in answers if answer.status_code == 429]
    assert refused, statuses
    body = refused[0].json()
    assert body["error_code"] == 4001
    assert "+14155550188" in body["message"]
    assert int(refused[0].headers["retry-after"]) >= 1


def test_a_missing_from_number_uses_the_accounts_only_line(server: ServerProcess) -> None:
    with server.client("lim", "lim-secret") as client:
        def accepted() -> httpx.Response | None:
            response = client.post("/api/send-message",
                                   json={"number": "+14155550100", "content": "auto line"})
            return response if response.status_code == 200 else None

        response = wait_for(accepted, timeout=5, interval=0.6)  # waits out the rate limit
    assert response.json()["from_number"] == "+14155550188"


def test_a_missing_from_number_is_refused_when_the_account_has_several_lines(
    server: ServerProcess, other: httpx.Client
) -> None:
    server.cli("lines", "add", "+14155550189", "--account", "other@example.com")
    response = other.post("/api/send-message", json={"number": "+14155550100",
                                                     "content": "which line?"})
    assert response.status_code == 400
    message = response.json()["message"]
    assert "`from_number` is required" in message
    assert SANDBOX_LINE in message and "+14155550189" in message
