"""Webhooks end to end: the config API, status callbacks, `outbound` and `receive` endpoints,
signatures, and delivery through failures and a SIGKILL, over real HTTP between real processes.

A `bluewire serve` process POSTs to a real receiver process (`tests/receiver.py`) that logs
every request and answers as the test tells it to. Attempts are read from the server's database
directly (tables `deliveries` and `delivery_attempts`).

The module's server and receiver are shared: each test uses its own sandbox phones (a distinct
area code) and its own receiver paths, and a test that needs account-level endpoints replaces
the account's whole configuration first. Tests that kill, stop or reconfigure processes start
their own.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from ..databases import Engine
from ..receiver import COOKIE, REDIRECT_TARGET, Received, ReceiverProcess, by_webhook_id
from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, phone, wait_for

WEBHOOKS = "/api/account/webhooks"
# Short retries, so every failure path runs in seconds; a timeout long enough that a busy
# receiver is not taken for a dead one (the order tests count on each attempt being answered).
HOOK_ENV = {
    "BLUEWIRE_WEBHOOK_RETRY_SCHEDULE": "0.3,0.3,0.5,0.5,1,1,1,1",
    "BLUEWIRE_WEBHOOK_TIMEOUT_MS": "5000",
    "BLUEWIRE_SWEEP_INTERVAL_MS": "100",
}
# Generous: the machine is shared, and these are eventual conditions, not timings.
WAIT_S = 30.0

# Sendblue's status callback body, and the `message_id` of its read-receipt webhook.
STATUS_CALLBACK_FIELDS = (
    "accountEmail", "content", "is_outbound", "status", "error_code", "error_message",
    "error_reason", "message_handle", "date_sent", "date_updated", "from_number", "number",
    "to_number", "was_downgraded", "plan", "media_url", "message_type", "group_id",
    "participants", "send_style", "opted_out", "error_detail", "sendblue_number", "service",
    "group_display_name",
)
READ_RECEIPT_FIELDS = ("accountEmail", "message_id", "number", "status", "date_updated", "content",
                   "is_outbound")
# Sendblue's receive webhook body.
RECEIVE_FIELDS = (
    "accountEmail", "content", "media_url", "is_outbound", "status", "error_code",
    "error_message", "message_handle", "date_sent", "date_updated", "from_number", "number",
    "to_number", "was_downgraded", "plan",
)
FULL_CHAIN = ["QUEUED", "SENT", "DELIVERED", "READ"]

PLAIN_SECRET = "a plain secret, not base64"
WHSEC = "whsec_" + base64.b64encode(b"bluewire-test-global-secret-32by").decode()


# -- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def hooks_server(tmp_path_factory: pytest.TempPathFactory,
                 engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("hooks"), HOOK_ENV, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture
def client(hooks_server: ServerProcess) -> Iterator[httpx.Client]:
    with hooks_server.client() as api:
        yield api


Row = dict[str, Any]


class Store:
    """Queries on a server's database (the delivery log, straight from the tables)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server

    def rows(self, sql: str, *params: Any) -> list[Row]:
        return self.server.sql(sql, *params)

    def value(self, sql: str, *params: Any) -> Any:
        return next(iter(self.rows(sql, *params)[0].values()))

    def events_of(self, handle: str) -> list[Row]:
        """The message's events, in order: public_id (the webhook-id), type, data."""
        return self.rows("SELECT public_id, type, data FROM events WHERE message_handle = ? "
                         "ORDER BY id", handle)

    def deliveries_to(self, url: str) -> list[Row]:
        return self.rows("SELECT * FROM deliveries WHERE url = ? ORDER BY id", url)

    def attempts_to(self, url: str) -> list[Row]:
        return self.rows("SELECT a.*, d.event_id, d.url FROM delivery_attempts a "
                         "JOIN deliveries d ON d.id = a.delivery_id WHERE d.url = ? "
                         "ORDER BY a.id", url)


def send(api: httpx.Client, number: str, *, callback: str | None = None,
         line: str = SANDBOX_LINE, content: str = "hello") -> str:
    body: dict[str, Any] = {"number": number, "from_number": line, "content": content}
    if callback is not None:
        body["status_callback"] = callback
    response = api.post("/api/send-message", json=body)
    assert response.status_code == 200, response.text
    handle: str = response.json()["message_handle"]
    return handle


def configure(api: httpx.Client, webhooks: dict[str, Any]) -> dict[str, Any]:
    """Replace the account's whole webhook configuration."""
    response = api.put(WEBHOOKS, json={"webhooks": webhooks})
    assert response.status_code == 200, response.text
    shaped: dict[str, Any] = response.json()["webhooks"]
    return shaped


def of_message(received: list[Received], handle: str) -> list[Received]:
    return [r for r in received if r.json.get("message_handle") == handle]


def first_of_each(received: list[Received]) -> list[Received]:
    """The first arrival of each webhook-id, in arrival order."""
    seen: set[str | None] = set()
    firsts = []
    for request in received:
        if request.webhook_id not in seen:
            seen.add(request.webhook_id)
            firsts.append(request)
    return firsts


def statuses(received: list[Received]) -> list[str]:
    return [r.json["status"] for r in first_of_each(received)]


def wait_statuses(receiver: ReceiverProcess, path: str, handle: str,
                  expected: list[str]) -> list[Received]:
    """Wait until `path` has heard `expected` (distinct events) about `handle`."""
    def heard() -> list[Received] | None:
        found = first_of_each(of_message(receiver.received(path), handle))
        return found if len(found) >= len(expected) else None

    return wait_for(heard, timeout=WAIT_S, interval=0.05)


# -- the config API (as in Sendblue's docs) ----------------------------------------------------


def test_get_with_nothing_configured_has_no_keys(client: httpx.Client) -> None:
    configure(client, {})
    response = client.get(WEBHOOKS)
    assert response.status_code == 200
    assert response.json()["webhooks"] == {}


def test_post_a_plain_url_appends_a_receive_webhook(client: httpx.Client) -> None:
    configure(client, {})
    response = client.post(WEBHOOKS, json={"webhooks": ["https://hooks.example/in"]})
    assert response.status_code == 200, response.text
    assert response.json()["webhooks"] == {"receive": ["https://hooks.example/in"]}
    response = client.post(WEBHOOKS, json={"webhooks": ["https://hooks.example/in2"]})
    assert client.get(WEBHOOKS).json()["webhooks"] == {
        "receive": ["https://hooks.example/in", "https://hooks.example/in2"]}


def test_post_objects_with_a_type_and_get_shapes_them(client: httpx.Client) -> None:
    configure(client, {})
    response = client.post(WEBHOOKS, json={
        "type": "outbound",
        "globalSecret": "the-global-secret",
        "webhooks": [
            {"url": "https://hooks.example/a", "secret": "secret-of-a-0001",
             "sendblue_numbers": [SANDBOX_LINE]},
            {"url": "https://hooks.example/b", "secret": "sb"},
            {"url": "https://hooks.example/c", "sendblue_numbers": ["+14155550198"]},
            {"url": "https://hooks.example/d"},
            "https://hooks.example/e",
        ],
    })
    assert response.status_code == 200, response.text
    client.post(WEBHOOKS, json={"webhooks": ["https://hooks.example/r"]})
    webhooks = client.get(WEBHOOKS).json()["webhooks"]
    # A secret is never shown once set: its hint (the last four characters of a long one).
    assert webhooks == {
        "outbound": [
            {"url": "https://hooks.example/a", "secret_hint": "…0001",
             "sendblue_numbers": [SANDBOX_LINE]},
            {"url": "https://hooks.example/b", "secret_hint": "…"},
            {"url": "https://hooks.example/c", "sendblue_numbers": ["+14155550198"]},
            "https://hooks.example/d",
            "https://hooks.example/e",
        ],
        "receive": ["https://hooks.example/r"],
    }
    # The Sendblue CLI iterates every key as a list: no empty or null values, no globalSecret.
    assert "globalSecret" not in webhooks
    for entries in webhooks.values():
        assert isinstance(entries, list) and entries
        for entry in entries:
            assert isinstance(entry, str) or all(v not in (None, "", []) for v in entry.values())


def test_put_replaces_everything_and_an_empty_object_clears(client: httpx.Client) -> None:
    configure(client, {"receive": ["https://hooks.example/old"],
                       "outbound": ["https://hooks.example/old-out"]})
    shaped = configure(client, {
        "receive": [{"url": "https://hooks.example/new", "secret": "s"}],
        "typing_indicator": ["https://hooks.example/typing"],
        "globalSecret": "g",
    })
    expected = {"receive": [{"url": "https://hooks.example/new", "secret_hint": "…"}],
                "typing_indicator": ["https://hooks.example/typing"]}
    assert shaped == expected
    assert client.get(WEBHOOKS).json()["webhooks"] == expected
    assert configure(client, {}) == {}
    assert client.get(WEBHOOKS).json()["webhooks"] == {}


def test_post_keeps_the_global_secret_unless_it_names_one_and_put_always_sets_it(
        client: httpx.Client, hooks_server: ServerProcess) -> None:
    def global_secret() -> str | None:
        """The global secret's hint, and the stored value is sealed (never the secret)."""
        stored = Store(hooks_server).value(
            "SELECT a.webhook_secret FROM accounts a JOIN api_keys k ON k.account_id = a.id "
            "WHERE k.key_id = ?", KEY_ID)
        shown: str | None = client.get(WEBHOOKS).json().get("global_secret_hint")
        assert (stored is None) == (shown is None)
        assert stored is None or stored.startswith("enc:v1:")
        return shown

    configure(client, {"globalSecret": "global-secret-1111"})
    assert global_secret() == "…1111"
    client.post(WEBHOOKS, json={"webhooks": ["https://hooks.example/kept"]})
    assert global_secret() == "…1111"  # left out: unchanged
    client.post(WEBHOOKS, json={"webhooks": [], "globalSecret": "global-secret-2222"})
    assert global_secret() == "…2222"
    client.post(WEBHOOKS, json={"webhooks": [], "globalSecret": None})
    assert global_secret() is None
    configure(client, {"globalSecret": "global-secret-3333"})
    configure(client, {"receive": ["https://hooks.example/kept"]})
    assert global_secret() is None  # a replacement without one has none


def test_delete_removes_by_url_and_by_type(client: httpx.Client) -> None:
    shared = "https://hooks.example/shared"
    configure(client, {"receive": [shared, "https://hooks.example/keep"],
                       "outbound": [shared], "contact_created": [shared]})
    response = client.request("DELETE", WEBHOOKS, json={"webhooks": [shared],
                                                         "type": "outbound"})
    assert response.status_code == 200, response.text
    assert client.get(WEBHOOKS).json()["webhooks"] == {
        "receive": [shared, "https://hooks.example/keep"], "contact_created": [shared]}
    response = client.request("DELETE", WEBHOOKS, json={"webhooks": [shared]})
    assert response.status_code == 200, response.text
    assert client.get(WEBHOOKS).json()["webhooks"] == {"receive": ["https://hooks.example/keep"]}
    # Removing what is not there is not an error, and changes nothing.
    response = client.request("DELETE", WEBHOOKS, json={"webhooks": ["https://nope.example"]})
    assert response.status_code == 200
    assert client.get(WEBHOOKS).json()["webhooks"] == {"receive": ["https://hooks.example/keep"]}


@pytest.mark.parametrize(("method", "body", "named"), [
    ("POST", {"webhooks": ["https://ok.example", "not a url"]}, "webhooks[1]"),
    ("POST", {"webhooks": ["https://ok.example", "ftp://files.example/x"]}, "webhooks[1]"),
    ("POST", {"webhooks": [{"url": "https://ok.example"}, {"url": "/relative"}]},
     "webhooks[1].url"),
    ("POST", {"webhooks": [{"secret": "no url"}]}, "webhooks[0].url"),
    ("POST", {"webhooks": [42]}, "webhooks[0]"),
    ("POST", {"webhooks": "https://ok.example"}, "webhooks"),
    ("POST", {"webhooks": ["https://ok.example"], "type": "bogus"}, "type"),
    ("POST", {"webhooks": [{"url": "https://ok.example", "sendblue_numbers": ["12"]}]},
     "webhooks[0].sendblue_numbers[0]"),
    ("POST", {"webhooks": [{"url": "https://ok.example", "sendblue_numbers": "+14155550199"}]},
     "webhooks[0].sendblue_numbers"),
    ("PUT", {"webhooks": {"receive": ["https://ok.example", "nope"]}}, "webhooks.receive[1]"),
    ("PUT", {"webhooks": {"bogus": ["https://ok.example"]}}, "bogus"),
    ("PUT", {"webhooks": {"receive": None}}, "webhooks.receive"),
    ("PUT", {"webhooks": ["https://ok.example"]}, "webhooks"),
    ("PUT", {}, "webhooks"),
    ("POST", {"webhooks": ["https://ok.example"], "globalSecret": "s" * 257}, "globalSecret"),
    ("POST", {"webhooks": [{"url": "https://ok.example", "secret": 7}]}, "webhooks[0].secret"),
    ("POST", {"type": "receive"}, "webhooks"),
    ("DELETE", {"webhooks": "https://ok.example"}, "webhooks"),
    ("DELETE", {"webhooks": ["https://ok.example"], "type": "bogus"}, "type"),
    ("DELETE", {"webhooks": []}, "webhooks"),
    ("DELETE", {"webhooks": [7]}, "webhooks[0]"),
])
def test_invalid_configuration_is_a_400_naming_the_entry(
    client: httpx.Client, method: str, body: dict[str, Any], named: str,
) -> None:
    before = configure(client, {"receive": ["https://hooks.example/before"]})
    response = client.request(method, WEBHOOKS, json=body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["status"] == "ERROR"
    assert f"`{named}`" in answer["message"], answer["message"]
    assert client.get(WEBHOOKS).json()["webhooks"] == before  # nothing half-written


# -- what status callbacks and endpoints hear --------------------------------------------------


def test_a_status_callback_hears_every_transition_in_order(
    client: httpx.Client, receiver: ReceiverProcess,
) -> None:
    configure(client, {"outbound": [receiver.url_for("/order/out")]})
    number = phone(212, "00")
    handle = send(client, number, callback=receiver.url_for("/order/cb"), content="in order")

    for path in ("/order/cb", "/order/out"):
        heard = wait_statuses(receiver, path, handle, FULL_CHAIN)
        assert statuses(of_message(receiver.received(path), handle)) == FULL_CHAIN
        for request in heard:
            body = request.json
            missing = [f for f in (*STATUS_CALLBACK_FIELDS, *READ_RECEIPT_FIELDS) if f not in body]
            assert not missing, (path, missing)
            assert request.method == "POST"
            assert request.headers["content-type"].startswith("application/json")
            assert body["message_handle"] == body["message_id"] == handle
            assert body["number"] == body["to_number"] == number
            assert body["from_number"] == body["sendblue_number"] == SANDBOX_LINE
            assert body["is_outbound"] is True
            assert body["content"] == "in order"
            assert body["accountEmail"] == "admin@bluewire.local"
            assert body["error_code"] is None and body["error_message"] is None
            assert (body["group_id"], body["participants"], body["media_url"]) == ("", [], "")
            if body["status"] != "QUEUED":
                assert body["service"] == "iMessage"
    # The callback and the endpoint heard the same events, with the same ids and bodies.
    cb = {r.webhook_id: r.body for r in first_of_each(of_message(receiver.received("/order/cb"),
                                                                 handle))}
    out = {r.webhook_id: r.body for r in first_of_each(
        of_message(receiver.received("/order/out"), handle))}
    assert cb == out
    assert len(cb) == 4


def test_a_phone_without_read_receipts_never_reports_read(
    client: httpx.Client, receiver: ReceiverProcess,
) -> None:
    configure(client, {})
    handle = send(client, phone(213, "01"), callback=receiver.url_for("/noread"))
    wait_statuses(receiver, "/noread", handle, ["QUEUED", "SENT", "DELIVERED"])
    # A barrier: a phone that reads, sent afterwards, has been read and its READ heard.
    later = send(client, phone(213, "00"), callback=receiver.url_for("/noread"))
    wait_statuses(receiver, "/noread", later, FULL_CHAIN)
    assert statuses(of_message(receiver.received("/noread"), handle)) == [
        "QUEUED", "SENT", "DELIVERED"]
    assert client.get("/api/status", params={"handle": handle}).json()["status"] == "DELIVERED"


def test_a_failing_phone_reports_error_10001(
    client: httpx.Client, receiver: ReceiverProcess,
) -> None:
    configure(client, {"outbound": [receiver.url_for("/fails/out")]})
    handle = send(client, phone(214, "04"), callback=receiver.url_for("/fails/cb"))
    for path in ("/fails/cb", "/fails/out"):
        heard = wait_statuses(receiver, path, handle, ["QUEUED", "ERROR"])
        assert statuses(heard) == ["QUEUED", "ERROR"]
        error = heard[-1].json
        assert error["error_code"] == 10001
        assert error["error_message"]
        assert all(f in error for f in STATUS_CALLBACK_FIELDS)


@pytest.fixture(scope="module")
def lines_account(hooks_server: ServerProcess) -> Iterator[tuple[httpx.Client, str, str]]:
    """A second account with two lines of its own: (its client, line A, line B)."""
    line_a, line_b = "+13105550190", "+13105550191"
    hooks_server.cli("accounts", "create", "lines@example.com")
    hooks_server.cli("keys", "create", "--account", "lines@example.com", "--key-id",
                     "lines-key", "--secret", "lines-secret")
    for line in (line_a, line_b):
        hooks_server.cli("lines", "add", line, "--account", "lines@example.com")
    with hooks_server.client("lines-key", "lines-secret") as api:
        yield api, line_a, line_b


def test_receive_endpoints_hear_the_echo_reply_filtered_by_line(
    lines_account: tuple[httpx.Client, str, str], receiver: ReceiverProcess,
) -> None:
    api, line_a, line_b = lines_account
    configure(api, {"receive": [
        receiver.url_for("/recv/all"),
        {"url": receiver.url_for("/recv/line-a"), "sendblue_numbers": [line_a]},
        {"url": receiver.url_for("/recv/line-b"), "sendblue_numbers": [line_b]},
    ]})
    echo = phone(215, "06")
    send(api, echo, line=line_a, content="ping A")

    def replies(path: str) -> list[Received]:
        return [r for r in receiver.received(path) if r.json.get("status") == "RECEIVED"]

    wait_for(lambda: replies("/recv/all") and replies("/recv/line-a"), timeout=WAIT_S)
    (reply,) = replies("/recv/line-a")
    body = reply.json
    missing = [f for f in RECEIVE_FIELDS if f not in body]
    assert not missing, missing
    assert body["content"] == "echo: ping A"
    assert body["is_outbound"] is False
    assert body["from_number"] == body["number"] == echo
    assert body["to_number"] == line_a
    assert body["accountEmail"] == "lines@example.com"
    assert body["error_code"] is None and body["error_message"] is None
    assert replies("/recv/all")[0].body == reply.body

    # Line B's reply is heard by the unfiltered endpoint and B's; A's filter keeps it out.
    send(api, echo, line=line_b, content="ping B")
    wait_for(lambda: len(replies("/recv/all")) >= 2 and replies("/recv/line-b"), timeout=WAIT_S)
    assert [r.json["content"] for r in replies("/recv/line-a")] == ["echo: ping A"]
    assert [r.json["content"] for r in replies("/recv/line-b")] == ["echo: ping B"]
    assert replies("/recv/line-b")[0].json["to_number"] == line_b
    # Status updates are not `receive` events: only the echo replies reached these URLs.
    assert all(r.json["status"] == "RECEIVED" for r in receiver.received("/recv/"))
    # The other account, which never wrote to this phone, heard nothing of it.
    assert not [r for r in receiver.received() if r.json.get("number") == echo
                and r.json.get("accountEmail") != "lines@example.com"]


# -- signatures ------------------------------------------------------------------------------


def test_signatures_verify_with_the_endpoint_secret_or_the_global_secret(
    client: httpx.Client, receiver: ReceiverProcess,
) -> None:
    configure(client, {
        "outbound": [{"url": receiver.url_for("/sig/own"), "secret": PLAIN_SECRET},
                     receiver.url_for("/sig/global")],
        "globalSecret": WHSEC,
    })
    handle = send(client, phone(216, "00"), callback=receiver.url_for("/sig/cb"))
    secrets = {"/sig/own": PLAIN_SECRET, "/sig/global": WHSEC, "/sig/cb": WHSEC}
    ids: dict[str, list[str | None]] = {}
    for path, secret in secrets.items():
        heard = wait_statuses(receiver, path, handle, FULL_CHAIN)
        for request in heard:
            assert request.headers["sb-signing-secret"] == secret
            assert request.verify(secret)["message_handle"] == handle
            wrong = "whsec_" + base64.b64encode(b"not the secret").decode()
            with pytest.raises(WebhookVerificationError):
                request.verify(wrong)
            assert abs(int(request.headers["webhook-timestamp"]) - request.t) < 60
        ids[path] = [r.webhook_id for r in heard]
    # One id per event: distinct between events, the same at every URL that hears the event.
    assert len(set(ids["/sig/cb"])) == 4
    assert ids["/sig/cb"] == ids["/sig/own"] == ids["/sig/global"]
    assert all(i and i.startswith("evt_") for i in ids["/sig/cb"])

    # With no secret anywhere, a delivery carries its id and timestamp but no signature.
    configure(client, {})
    unsigned = send(client, phone(216, "01"), callback=receiver.url_for("/sig/none"))
    for request in wait_statuses(receiver, "/sig/none", unsigned,
                                 ["QUEUED", "SENT", "DELIVERED"]):
        assert request.webhook_id and request.headers["webhook-timestamp"]
        assert "webhook-signature" not in request.headers
        assert "sb-signing-secret" not in request.headers


# -- failures, one at a time -------------------------------------------------------------------


def test_retry_after_is_honoured_and_the_webhook_id_is_kept(
    client: httpx.Client, receiver: ReceiverProcess, hooks_server: ServerProcess,
) -> None:
    configure(client, {"globalSecret": WHSEC})
    retry_after = 2
    receiver.set_mode("429", path="/ra", retry_after=retry_after)
    handle = send(client, phone(217, "01"), callback=receiver.url_for("/ra"))

    def retried() -> dict[str, list[Received]] | None:
        groups = by_webhook_id(of_message(receiver.received("/ra"), handle))
        return groups if groups and all(len(g) >= 2 for g in groups.values()) else None

    groups = wait_for(retried, timeout=WAIT_S, interval=0.05)
    receiver.set_mode("ok", path="/ra")
    for attempts in groups.values():
        first, second = attempts[:2]
        # The schedule says 0.3 s; the receiver asked for 2 s: no sooner than that.
        assert second.t - first.t >= retry_after - 0.01, (first.t, second.t)
        assert first.body == second.body
        first.verify(WHSEC)
        second.verify(WHSEC)
    heard = wait_statuses(receiver, "/ra", handle, ["QUEUED", "SENT", "DELIVERED"])
    assert sorted(r.json["status"] for r in heard) == ["DELIVERED", "QUEUED", "SENT"]

    store = Store(hooks_server)
    url = receiver.url_for("/ra")
    wait_for(lambda: all(d["state"] == "delivered" for d in store.deliveries_to(url)),
             timeout=WAIT_S)
    attempts = store.attempts_to(url)
    assert {a["status_code"] for a in attempts} == {429, 200}
    assert all(a["error"] == "HTTP 429" for a in attempts if a["status_code"] == 429)
    for delivery in store.deliveries_to(url):
        assert delivery["attempts"] == sum(1 for a in attempts if a["delivery_id"]
                                           == delivery["id"])


def test_redirects_are_not_followed(
    client: httpx.Client, receiver: ReceiverProcess, hooks_server: ServerProcess,
) -> None:
    configure(client, {})
    receiver.set_mode("redirect", path="/moved")
    handle = send(client, phone(218, "00"), callback=receiver.url_for("/moved"))
    store = Store(hooks_server)
    url = receiver.url_for("/moved")

    def refused_twice() -> bool:
        return sum(1 for a in store.attempts_to(url) if a["status_code"] == 302) >= 2

    wait_for(refused_twice, timeout=WAIT_S)
    assert not receiver.received(REDIRECT_TARGET)
    pending = [d for d in store.deliveries_to(url) if d["last_status"] == 302]
    assert pending and all(d["state"] == "pending" for d in pending)  # a failure: retried

    receiver.set_mode("ok", path="/moved")
    wait_statuses(receiver, "/moved", handle, FULL_CHAIN)
    wait_for(lambda: all(d["state"] == "delivered" for d in store.deliveries_to(url)),
             timeout=WAIT_S)
    assert not receiver.received(REDIRECT_TARGET)


def test_a_cookie_a_receiver_sets_is_never_sent_back(
    client: httpx.Client, receiver: ReceiverProcess,
) -> None:
    """Webhooks carry no cookies. One client sends every account's webhooks, so a cookie it
    kept would also go with other accounts' webhooks to the same host. (The URL names the host:
    a cookie set by an IP address would not be kept anyway.)"""
    configure(client, {})
    receiver.set_mode("cookie", path="/cookies")
    url = receiver.url_for("/cookies/cb").replace("127.0.0.1", "localhost")
    handle = send(client, phone(224, "00"), callback=url)

    wait_statuses(receiver, "/cookies", handle, FULL_CHAIN)
    heard = receiver.received("/cookies")
    assert all(r.answer == "cookie" for r in heard)  # each was answered with the cookie
    assert [r.headers["cookie"] for r in heard if "cookie" in r.headers] == []
    assert all(COOKIE not in value for r in heard for value in r.headers.values())


def test_an_endpoint_that_answers_410_is_disabled_and_hears_nothing_more(
    client: httpx.Client, receiver: ReceiverProcess, hooks_server: ServerProcess,
) -> None:
    gone = receiver.url_for("/gone/out")
    configure(client, {"outbound": [gone, receiver.url_for("/gone/other")]})
    receiver.set_mode("410", path="/gone/out")
    first = send(client, phone(219, "00"), callback=receiver.url_for("/gone/cb"))
    store = Store(hooks_server)

    def disabled() -> Row | None:
        rows = store.rows("SELECT * FROM webhook_endpoints WHERE url = ? AND "
                          "disabled_reason IS NOT NULL", gone)
        return rows[0] if rows else None

    endpoint = wait_for(disabled, timeout=WAIT_S)
    assert "410" in endpoint["disabled_reason"]
    seen_disabled = time.time()
    wait_statuses(receiver, "/gone/other", first, FULL_CHAIN)
    wait_for(lambda: all(d["state"] != "pending" for d in store.deliveries_to(gone)),
             timeout=WAIT_S)
    states = [d["state"] for d in store.deliveries_to(gone)]
    assert "failed" in states and "delivered" not in states
    assert all(d["last_status"] == 410 for d in store.deliveries_to(gone)
               if d["state"] == "failed")

    # Nothing more: the next message is heard by the other endpoint and not by this one.
    receiver.set_mode("ok", path="/gone/out")
    second = send(client, phone(219, "00"), callback=receiver.url_for("/gone/cb"))
    wait_statuses(receiver, "/gone/other", second, FULL_CHAIN)
    wait_statuses(receiver, "/gone/cb", second, FULL_CHAIN)
    heard = receiver.received("/gone/out")
    assert heard and all(r.answer == "410" for r in heard)
    assert not [r for r in heard if r.t > seen_disabled]
    assert not of_message(heard, second)


# -- the receiver fails for a while, then recovers ---------------------------------------------

FLAKY_ENV = {
    # Enough retries to outlast every failure phase, however slow the machine.
    "BLUEWIRE_WEBHOOK_RETRY_SCHEDULE": ",".join(["0.3", "0.3", "0.5", "0.5"] + ["1"] * 40),
    "BLUEWIRE_WEBHOOK_TIMEOUT_MS": "500",
    "BLUEWIRE_SWEEP_INTERVAL_MS": "100",
}
FLAKY_MESSAGES = 10
RETRY_AFTER_S = 1.5


@pytest.mark.slow
def test_a_receiver_that_fails_for_a_while_then_recovers_gets_every_event(
    tmp_path: Path,
) -> None:
    receiver = ReceiverProcess(tmp_path).start("500")
    server = ServerProcess(tmp_path, FLAKY_ENV).start()
    store = Store(server)
    cb, out, gone = (receiver.url_for(p) for p in ("/flaky/cb", "/flaky/out", "/flaky/gone"))
    secrets = {cb: WHSEC, out: PLAIN_SECRET, gone: WHSEC}

    def attempts_where(condition: str) -> int:
        return int(store.value(f"SELECT count(*) FROM delivery_attempts WHERE {condition}"))

    try:
        with server.client() as api:
            configure(api, {"outbound": [{"url": out, "secret": PLAIN_SECRET}, gone],
                            "globalSecret": WHSEC})
            handles = [send(api, phone(312, "00"), callback=cb, content=f"flaky {i}")
                       for i in range(FLAKY_MESSAGES)]
            expected = 4 * FLAKY_MESSAGES * 3  # four events, three URLs hear each

            # 500: every delivery fails once at least.
            wait_for(lambda: store.value("SELECT count(*) FROM deliveries WHERE attempts > 0")
                     == expected, timeout=WAIT_S, interval=0.1)
            # Timeouts: the receiver answers after the server stopped waiting.
            receiver.set_mode("timeout", sleep=3)
            mark = attempts_where("error LIKE 'timed out%'")
            wait_for(lambda: attempts_where("error LIKE 'timed out%'") >= mark + 20,
                     timeout=WAIT_S, interval=0.1)
            # Connection refused: nobody listens on the port.
            receiver.stop()
            wait_for(lambda: attempts_where("error LIKE 'cannot connect%'") >= 20,
                     timeout=WAIT_S, interval=0.1)
            # Back, but 429 with Retry-After for everything, and 410 on one endpoint.
            receiver.start("429", retry_after=RETRY_AFTER_S)
            receiver.set_mode("410", path="/flaky/gone")
            wait_for(lambda: attempts_where("status_code = 429") >= 20, timeout=WAIT_S,
                     interval=0.1)
            wait_for(lambda: store.value("SELECT count(*) FROM webhook_endpoints WHERE url = ? "
                                         "AND disabled_reason IS NOT NULL", gone),
                     timeout=WAIT_S, interval=0.1)
            seen_disabled = time.time()
            # Recovery.
            receiver.set_mode("ok")

            def settled() -> bool:
                states = store.rows("SELECT url, state, count(*) AS n FROM deliveries "
                                    "GROUP BY url, state")
                return all(r["state"] == "delivered" for r in states if r["url"] != gone) and \
                    all(r["state"] in ("failed", "cancelled") for r in states if r["url"] == gone)

            wait_for(settled, timeout=60, interval=0.2)
            # The disabled endpoint hears nothing of a message sent now.
            after = send(api, phone(312, "00"), callback=cb, content="after")
            wait_statuses(receiver, "/flaky/out", after, FULL_CHAIN)
            wait_statuses(receiver, "/flaky/cb", after, FULL_CHAIN)
    finally:
        server.stop()
        receiver.stop()

    # Every event reached the callback and the live endpoint at least once.
    for handle in [*handles, after]:
        events = {e["public_id"]: e["data"] for e in store.events_of(handle)}
        assert [json.loads(body)["status"] for body in events.values()] == FULL_CHAIN
        for path in ("/flaky/cb", "/flaky/out"):
            heard = by_webhook_id(of_message(receiver.received(path), handle))
            assert set(heard) == set(events), (path, handle)
            for event_id, requests in heard.items():
                # The same id on every retry, with the very same body.
                assert {r.body for r in requests} == {events[event_id]}

    # Every request carried a signature that verifies, and the secret Sendblue's way.
    everything = receiver.received("/flaky/")
    assert everything
    for request in everything:
        secret = secrets[receiver.url + request.path]
        assert request.headers["sb-signing-secret"] == secret
        request.verify(secret)

    # Retry-After: the next attempt at the same event came no sooner than it asked.
    gaps = 0
    for path in ("/flaky/cb", "/flaky/out"):
        for requests in by_webhook_id(receiver.received(path)).values():
            for earlier, later in pairwise(requests):
                if earlier.answer == "429":
                    gaps += 1
                    assert later.t - earlier.t >= RETRY_AFTER_S - 0.01, (earlier, later)
    assert gaps > 0

    # Every attempt is recorded, with what happened.
    attempts = store.rows("SELECT a.*, d.url, d.event_id FROM delivery_attempts a "
                          "JOIN deliveries d ON d.id = a.delivery_id ORDER BY a.id")
    errors = [a["error"] or "" for a in attempts]
    assert {500, 429, 410, 200} <= {a["status_code"] for a in attempts}
    assert any(e.startswith("timed out") for e in errors)
    assert any(e.startswith("cannot connect") for e in errors)
    for delivery in store.rows("SELECT * FROM deliveries"):
        mine = [a for a in attempts if a["delivery_id"] == delivery["id"]]
        assert delivery["attempts"] == len(mine)
        if delivery["state"] == "delivered":
            assert mine[-1]["status_code"] == 200
    # What reached the receiver was recorded: an answered attempt is logged there, and nothing
    # arrived that the server did not try.
    logged = {(receiver.url + r.path, r.webhook_id): 0 for r in everything}
    for request in everything:
        logged[(receiver.url + request.path, request.webhook_id)] += 1
    tried: dict[tuple[str, str], list[Row]] = {}
    for attempt in attempts:
        tried.setdefault((attempt["url"], attempt["event_id"]), []).append(attempt)
    for key, count in logged.items():
        answered = sum(1 for a in tried.get(key, []) if a["status_code"] is not None)
        assert answered <= count <= len(tried.get(key, [])), key

    # 410: the endpoint is disabled, what it had pending is dropped, it heard nothing more.
    gone_deliveries = store.deliveries_to(gone)
    assert any(d["state"] == "failed" and d["last_status"] == 410 for d in gone_deliveries)
    assert all(d["state"] in ("failed", "cancelled") for d in gone_deliveries)
    # (Attempts claimed before the endpoint was disabled may still have been on their way.)
    assert not [r for r in receiver.received("/flaky/gone") if r.t > seen_disabled + 1.0]
    assert not of_message(receiver.received("/flaky/gone"), after)


# -- SIGKILL in the middle of a burst ----------------------------------------------------------

BURST = 2000
KILL_AFTER = 700
CONNECTIONS = 32
CRASH_ENV = {
    **HOOK_ENV,
    "BLUEWIRE_DISPATCH_LEASE_MS": "1500",
    # Deliveries claimed by the killed process are claimed again once their lease runs out.
    "BLUEWIRE_DELIVERY_LEASE_MS": "2000",
}


async def burst_until_killed(server: ServerProcess, number: str,
                             callback: str) -> list[str]:
    """Send BURST messages over CONNECTIONS connections (one coroutine each); SIGKILL the server
    after KILL_AFTER answers 200. The handles of every send answered 200."""
    accepted: list[str] = []
    sends = iter(range(BURST))
    headers = {"sb-api-key-id": KEY_ID, "sb-api-secret-key": SECRET}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10,
                                 limits=httpx.Limits(max_connections=CONNECTIONS)) as api:
        async def sender() -> None:
            for i in sends:
                try:
                    response = await api.post("/api/send-message", json={
                        "number": number, "from_number": SANDBOX_LINE,
                        "content": f"burst {i}", "status_callback": callback})
                except httpx.HTTPError:
                    continue
                if response.status_code == 200:
                    accepted.append(response.json()["message_handle"])
                    if len(accepted) == KILL_AFTER:
                        server.kill()

        await asyncio.gather(*(sender() for _ in range(CONNECTIONS)))
    return accepted


def is_allowed_history(history: list[tuple[str, int | None]]) -> bool:
    """What a 00 phone's message may have gone through across a SIGKILL: the whole chain, or
    the chain cut short by the kill (DELIVERED is terminal: a pending READ dies with the
    process), or cut short and then resolved as ERROR 10002."""
    names = [status for status, _ in history]
    if names and names[-1] == "ERROR":
        return history[-1][1] == 10002 and names[:-1] == FULL_CHAIN[:len(names) - 1] \
            and len(names) - 1 in (1, 2)
    return names in (FULL_CHAIN, FULL_CHAIN[:3])


@pytest.mark.slow
def test_sigkill_during_a_burst_loses_no_status_webhook(
    tmp_path: Path, receiver: ReceiverProcess,
) -> None:
    server = ServerProcess(tmp_path, CRASH_ENV).start()
    store = Store(server)
    callback = receiver.url_for("/crash/cb")
    try:
        accepted = asyncio.run(burst_until_killed(server, phone(646, "00"), callback))
        assert KILL_AFTER <= len(accepted) < BURST
        assert server.process is not None and server.process.returncode is not None
        server.start()  # the same store, the same port

        def histories() -> dict[str, list[Row]]:
            found: dict[str, list[Row]] = {}
            for event in store.rows("SELECT message_handle, public_id, data FROM events WHERE "
                                    "type LIKE 'message.%' ORDER BY id"):
                found.setdefault(event["message_handle"], []).append(event)
            return found

        def all_heard() -> dict[str, list[Row]] | None:
            terminal = store.value(
                "SELECT count(*) FROM messages WHERE is_outbound AND status NOT IN "
                "('DELIVERED', 'READ', 'ERROR')")
            if terminal:
                return None
            heard = set(receiver.count_by_webhook_id("/crash/"))
            found = histories()
            missing = [e for events in found.values() for e in events
                       if e["public_id"] not in heard]
            return found if not missing else None

        found = wait_for(all_heard, timeout=90, interval=0.5)
    finally:
        server.stop()

    assert not [h for h in accepted if h not in found], "accepted messages missing in the store"
    heard = receiver.by_webhook_id("/crash/")
    by_id = {e["public_id"]: e for events in found.values() for e in events}
    assert set(heard) == set(by_id)  # every event heard; nothing heard that never happened
    for event_id, requests in heard.items():
        assert {r.body for r in requests} == {by_id[event_id]["data"]}
    for handle, events in found.items():
        bodies = [json.loads(e["data"]) for e in events]
        history = [(b["status"], b["error_code"]) for b in bodies]
        assert is_allowed_history(history), (handle, history)
    complete = sum(1 for events in found.values() if len(events) == 4)
    assert complete >= len(accepted) // 2  # most messages went the whole way
