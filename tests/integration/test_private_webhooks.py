"""Webhooks to private addresses on a server that refuses them (the default outside `--dev`).

Such a URL is refused when it is registered (account webhooks and status callbacks), saying how
to allow it; one registered while they were allowed fails at once when an event is delivered,
rather than being retried for two days.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..databases import Engine
from ..receiver import ReceiverProcess
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

WEBHOOKS = "/api/account/webhooks"
REFUSING = {"BLUEWIRE_ALLOW_PRIVATE_WEBHOOKS": "0"}
FIXES = ("bluewire serve --dev", "BLUEWIRE_ALLOW_PRIVATE_WEBHOOKS=1")
WAIT_S = 30.0

# A literal loopback, a literal private address, and a name that resolves to loopback.
PRIVATE = pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1:9/hook", "loopback"),
    ("http://10.20.30.40/hook", "private"),
    ("http://localhost:9/hook", "loopback"),
], ids=["loopback-literal", "private-literal", "localhost"])


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory,
             engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("refusing"), REFUSING,
                            engine=engine).start()
    yield process
    process.stop()


@pytest.fixture
def api(refusing: ServerProcess) -> Iterator[httpx.Client]:
    with refusing.client() as client:
        yield client


def assert_refused(response: httpx.Response, field: str, why: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == 4000
    message = body["message"]
    assert f"`{field}`" in message and why in message, message
    for fix in FIXES:
        assert fix in message, message


@PRIVATE
def test_adding_a_private_webhook_is_refused_saying_how_to_allow_it(
    api: httpx.Client, url: str, why: str,
) -> None:
    answer = api.post(WEBHOOKS, json={"webhooks": [url], "type": "receive"})
    assert_refused(answer, "webhooks[0]", why)
    assert url not in str(api.get(WEBHOOKS).json()["webhooks"])


@PRIVATE
def test_replacing_with_a_private_webhook_is_refused_and_changes_nothing(
    api: httpx.Client, url: str, why: str,
) -> None:
    kept = "https://hooks.example.com/kept"
    assert api.put(WEBHOOKS, json={"webhooks": {"outbound": [kept]}}).status_code == 200
    answer = api.put(WEBHOOKS, json={"webhooks": {"outbound": [kept, {"url": url}]}})
    assert_refused(answer, "webhooks.outbound[1].url", why)
    assert api.get(WEBHOOKS).json()["webhooks"] == {"outbound": [kept]}


@PRIVATE
@pytest.mark.parametrize("path", ["/api/send-message", "/api/send-group-message"])
def test_a_private_status_callback_is_refused_and_nothing_is_sent(
    api: httpx.Client, url: str, why: str, path: str,
) -> None:
    body: dict[str, Any] = {"from_number": SANDBOX_LINE, "content": "hello",
                            "status_callback": url}
    if path == "/api/send-message":
        body["number"] = phone(230, "00")
    else:
        body["numbers"] = [phone(230, "01"), phone(230, "02")]
    assert_refused(api.post(path, json=body), "status_callback", why)
    assert api.get("/api/v2/messages").json()["data"] == []


def test_public_and_unresolvable_hosts_are_accepted_at_registration(
    api: httpx.Client,
) -> None:
    # A name that does not resolve now may resolve later: the check made at each delivery
    # decides then.
    urls = ["https://hooks.example.com/in", "http://no-such-host.invalid/in",
            "http://93.184.215.14/in"]
    answer = api.put(WEBHOOKS, json={"webhooks": {"receive": urls}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["webhooks"] == {"receive": urls}


def test_a_private_webhook_registered_while_allowed_fails_at_once_when_refused(
    tmp_path: Path, receiver: ReceiverProcess,
) -> None:
    # A literal address (checked before connecting) and a name (checked as it resolves).
    hooks = [receiver.url_for("/private/ip"), f"http://localhost:{receiver.port}/private/name"]
    allowing = ServerProcess(tmp_path).start()
    try:
        with allowing.client() as api:
            answer = api.put(WEBHOOKS, json={"webhooks": {"outbound": hooks}})
            assert answer.status_code == 200, answer.text
    finally:
        allowing.stop()

    # The same database, now served by a process that refuses private addresses, with the
    # default retry schedule (the first retry would come seconds later).
    refusing = ServerProcess(tmp_path, {**REFUSING,
                                        "BLUEWIRE_DATABASE_URL": allowing.database_url}).start()
    try:
        with refusing.client() as api:
            sent = api.post("/api/send-message", json={
                "number": phone(231, "00"), "from_number": SANDBOX_LINE, "content": "hello"})
            assert sent.status_code == 200, sent.text
            handle = sent.json()["message_handle"]

            def all_failed() -> list[dict[str, Any]] | None:
                log = api.get("/api/v2/webhook-deliveries",
                              params={"message": handle}).json()["data"]
                done = len(log) == 2 * 4 and all(d["state"] != "pending" for d in log)
                return log if done else None

            deliveries = wait_for(all_failed, timeout=WAIT_S, interval=0.1)
        assert {delivery["url"] for delivery in deliveries} == set(hooks)
        for delivery in deliveries:
            assert delivery["state"] == "failed" and delivery["attempts"] == 1, delivery
            assert delivery["next_attempt_at"] is None
            error = delivery["last_error"]
            assert "refused" in error and "loopback" in error, error
            for fix in FIXES:
                assert fix in error, error
            [attempt] = delivery["attempts_log"]
            assert attempt["status_code"] is None and attempt["error"] == error
        assert not receiver.received("/private")
    finally:
        refusing.stop()
