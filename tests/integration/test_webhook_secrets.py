"""Webhook secrets end to end: write-only in the API (a hint, never the secret), sealed in the
database, looked up at each attempt (a rotated secret signs the next one), the
`sb-signing-secret` header turned off per endpoint and per account, and control characters
refused in webhook URLs and secrets. Signatures are checked by a real receiver process with the
`standardwebhooks` package."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sendblue_api import SendblueAPI
from standardwebhooks.webhooks import WebhookVerificationError

from ..databases import Engine
from ..receiver import Received, ReceiverProcess
from ..server import KEY_ID, SECRET, ServerProcess, phone, wait_for

WEBHOOKS = "/api/account/webhooks"
HOOK_ENV = {
    "BLUEWIRE_WEBHOOK_RETRY_SCHEDULE": "0.3,0.3,0.3,0.5,0.5,1,1,1,1,1,1",
    "BLUEWIRE_WEBHOOK_TIMEOUT_MS": "5000",
    "BLUEWIRE_SWEEP_INTERVAL_MS": "100",
}
WAIT_S = 30.0
OWN = "own-endpoint-secret-ab12"
GLOBAL = "the-global-secret-cd34"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("secrets"), HOOK_ENV, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as api:
        yield api


def put(api: httpx.Client, webhooks: dict[str, Any]) -> httpx.Response:
    response = api.put(WEBHOOKS, json={"webhooks": webhooks})
    assert response.status_code == 200, response.text
    return response


def send(api: httpx.Client, number: str, callback: str | None = None) -> str:
    body = {"number": number, "content": "hi", **({"status_callback": callback}
                                                   if callback else {})}
    response = api.post("/api/send-message", json=body)
    assert response.status_code == 200, response.text
    handle: str = response.json()["message_handle"]
    return handle


def heard(receiver: ReceiverProcess, path: str, handle: str,
          count: int = 1) -> list[Received]:
    def found() -> list[Received] | None:
        got = [r for r in receiver.received(path) if r.json.get("message_handle") == handle]
        return got if len(got) >= count else None

    return wait_for(found, timeout=WAIT_S, interval=0.05)


def test_secrets_are_never_answered_only_a_hint_of_them(
        client: httpx.Client, server: ServerProcess) -> None:
    answers = [put(client, {
        "outbound": [{"url": "https://hooks.example/own", "secret": OWN},
                     "https://hooks.example/plain"],
        "globalSecret": GLOBAL,
    })]
    answers.append(client.post(WEBHOOKS, json={
        "type": "receive", "webhooks": [{"url": "https://hooks.example/in", "secret": OWN}]}))
    answers.append(client.get(WEBHOOKS))
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert OWN not in answer.text and GLOBAL not in answer.text
        body = answer.json()
        assert body["global_secret_hint"] == "…cd34"
        assert body["send_secret_header"] is True
        assert "globalSecret" not in body["webhooks"]
        assert body["webhooks"]["outbound"] == [
            {"url": "https://hooks.example/own", "secret_hint": "…ab12"},
            "https://hooks.example/plain"]
    assert answers[-1].json()["webhooks"]["receive"] == [
        {"url": "https://hooks.example/in", "secret_hint": "…ab12"}]

    # The official SDK, validating strictly, reads the same answers (its `secret` stays unset).
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url, max_retries=0,
                     _strict_response_validation=True) as sdk:
        listed = sdk.webhooks.list()
        created = sdk.webhooks.create(webhooks=[{"url": "https://hooks.example/sdk",
                                                 "secret": OWN}], type="outbound")
        updated = sdk.webhooks.update(webhooks={"receive": [{"url": "https://hooks.example/u",
                                                             "secret": OWN}]})
    for model in (listed, created, updated):
        assert model.webhooks is not None and model.webhooks.global_secret is None
        dumped = model.to_json()
        assert OWN not in dumped and GLOBAL not in dumped
    entry = updated.webhooks.receive[0]  # type: ignore[index, union-attr]
    assert not isinstance(entry, str) and entry.secret is None


def test_the_database_holds_no_secret_in_clear(
        client: httpx.Client, server: ServerProcess, receiver: ReceiverProcess) -> None:
    put(client, {"outbound": [{"url": receiver.url_for("/db/own"), "secret": OWN}],
                 "globalSecret": GLOBAL})
    handle = send(client, phone(231, "00"), callback=receiver.url_for("/db/cb"))
    heard(receiver, "/db/own", handle)
    heard(receiver, "/db/cb", handle)
    stored = [row["secret"] for row in server.sql(
        "SELECT secret FROM webhook_endpoints WHERE secret IS NOT NULL")]
    stored += [row["webhook_secret"] for row in server.sql(
        "SELECT webhook_secret FROM accounts WHERE webhook_secret IS NOT NULL")]
    assert stored
    for value in stored:
        assert value.startswith("enc:v1:") and OWN not in value and GLOBAL not in value
    rows = server.sql("SELECT secret, signer, url FROM deliveries WHERE message_handle = ?",
                      handle)
    assert rows and all(row["secret"] is None for row in rows)
    assert {row["signer"] for row in rows} == {"endpoint", "account"}
    # Not generated by the test's configuration: the key file the server made, private.
    key_file = server.workdir / "bluewire-secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_rotated_secret_signs_the_next_attempt(
        client: httpx.Client, receiver: ReceiverProcess) -> None:
    first, second = "first-global-secret-0001", "second-global-secret-0002"
    put(client, {"outbound": [receiver.url_for("/rot/out")], "globalSecret": first})
    receiver.set_mode("500", path="/rot/")
    handle = send(client, phone(232, "00"), callback=receiver.url_for("/rot/cb"))
    for path in ("/rot/out", "/rot/cb"):
        for request in heard(receiver, path, handle):
            assert request.verify(first)
    rotated = client.post(WEBHOOKS, json={"webhooks": [], "globalSecret": second})
    assert rotated.status_code == 200, rotated.text
    receiver.clear_mode("/rot/")

    def delivered(path: str) -> Received | None:
        return next((r for r in receiver.received(path)
                     if r.json.get("message_handle") == handle and r.answer == "ok"), None)

    for path in ("/rot/out", "/rot/cb"):
        success = wait_for(lambda path=path: delivered(path), timeout=WAIT_S)
        assert success.verify(second)["message_handle"] == handle
        assert success.headers["sb-signing-secret"] == second
        with pytest.raises(WebhookVerificationError):
            success.verify(first)


def test_the_secret_header_can_be_turned_off_per_endpoint_and_per_account(
        client: httpx.Client, receiver: ReceiverProcess) -> None:
    answer = put(client, {"outbound": [
        {"url": receiver.url_for("/hdr/off"), "secret": OWN, "send_secret_header": False},
        {"url": receiver.url_for("/hdr/on"), "secret": OWN},
    ]}).json()
    assert answer["webhooks"]["outbound"][0] == {
        "url": receiver.url_for("/hdr/off"), "secret_hint": "…ab12",
        "send_secret_header": False}
    handle = send(client, phone(233, "00"))
    for request in heard(receiver, "/hdr/off", handle):
        assert "sb-signing-secret" not in request.headers
        assert request.verify(OWN)["message_handle"] == handle
    for request in heard(receiver, "/hdr/on", handle):
        assert request.headers["sb-signing-secret"] == OWN

    # The account's setting: off for every endpoint; a PUT that leaves it out keeps it.
    answer = client.post(WEBHOOKS, json={"webhooks": [], "send_secret_header": False}).json()
    assert answer["send_secret_header"] is False
    put(client, {"outbound": [{"url": receiver.url_for("/hdr/acct"), "secret": OWN}],
                 "globalSecret": GLOBAL})
    assert client.get(WEBHOOKS).json()["send_secret_header"] is False
    handle = send(client, phone(233, "01"), callback=receiver.url_for("/hdr/cb"))
    for path, secret in (("/hdr/acct", OWN), ("/hdr/cb", GLOBAL)):
        for request in heard(receiver, path, handle):
            assert "sb-signing-secret" not in request.headers
            assert request.verify(secret)["message_handle"] == handle
    put(client, {"send_secret_header": True})
    assert client.get(WEBHOOKS).json()["send_secret_header"] is True


@pytest.mark.parametrize(("method", "body", "named"), [
    ("POST", {"webhooks": ["https://hooks.example/a\x00b"]}, "webhooks[0]"),
    ("POST", {"webhooks": [{"url": "https://hooks.example/\x07"}]}, "webhooks[0].url"),
    ("PUT", {"webhooks": {"receive": ["https://ok.example", "https://hooks.example/\x00"]}},
     "webhooks.receive[1]"),
    ("POST", {"webhooks": [{"url": "https://ok.example", "secret": "a\r\nb"}]},
     "webhooks[0].secret"),
    ("POST", {"webhooks": [], "globalSecret": "nul\x00"}, "globalSecret"),
])
def test_control_characters_are_refused_naming_the_field(
        client: httpx.Client, method: str, body: dict[str, Any], named: str) -> None:
    before = put(client, {"receive": ["https://hooks.example/before"]}).json()["webhooks"]
    response = client.request(method, WEBHOOKS, json=body)
    assert response.status_code == 400, response.text
    assert f"`{named}`" in response.json()["message"], response.text
    message = response.json()["message"]
    assert ("NUL character" if "\\x00" in repr(body) else "control characters") in message
    assert client.get(WEBHOOKS).json()["webhooks"] == before
