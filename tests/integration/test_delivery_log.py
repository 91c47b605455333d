"""The webhook delivery log, resend and replay (`/api/v2/webhook-deliveries`) and the
`bluewire webhooks` / `bluewire deliveries` commands, against a real server and a real receiver
on loopback."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web

from ..databases import Engine
from ..receiver import ThreadedReceiver
from ..server import SANDBOX_LINE, ServerProcess, wait_for

BASE = "/api/v2/webhook-deliveries"
SIGNING_SECRET = "dl-test-signing-secret"


@dataclass(frozen=True)
class Hit:
    path: str
    webhook_id: str
    headers: dict[str, str]
    body: dict[str, Any]


class Receiver(ThreadedReceiver):
    """An aiohttp server in a thread of its own that records every POST, answering 200 "ok",
    or 500 "boom" while a path is told to fail."""

    def __init__(self) -> None:
        super().__init__()
        self._hits: list[Hit] = []
        self._failures: dict[str, int] = {}  # path → failures left (-1: for ever)

    def fail(self, path: str, times: int = -1) -> None:
        with self._lock:
            self._failures[path] = times

    def hits(self, path: str) -> list[Hit]:
        with self._lock:
            return [hit for hit in self._hits if hit.path == path]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            self._hits.append(Hit(request.path, request.headers.get("webhook-id", ""),
                                  dict(request.headers), body))
            left = self._failures.get(request.path, 0)
            if left:
                self._failures[request.path] = left - 1 if left > 0 else left
        return web.Response(status=500, text="boom") if left else web.Response(text="ok")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("delivery-log"), {
        "BLUEWIRE_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2",
        "BLUEWIRE_WEBHOOK_TIMEOUT_MS": "2000",
        "BLUEWIRE_SWEEP_INTERVAL_MS": "100",
    }, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


AddHook = Callable[..., str]


@pytest.fixture
def hook(api: httpx.Client, receiver: Receiver) -> Iterator[AddHook]:
    """Adds webhook endpoints on the receiver (unique paths); removes them after the test."""
    added: list[str] = []

    def add(path: str, type_: str = "outbound", **entry: Any) -> str:
        url = receiver.url(path)
        answer = api.post("/api/account/webhooks",
                          json={"type": type_, "webhooks": [{"url": url, **entry}]})
        assert answer.status_code == 200, answer.text
        added.append(url)
        return url

    yield add
    if added:
        api.request("DELETE", "/api/account/webhooks", json={"webhooks": added})


def unique(name: str) -> str:
    return f"/{name}-{uuid.uuid4().hex[:8]}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def send(api: httpx.Client, number: str, content: str = "hi") -> str:
    answer = api.post("/api/send-message", json={"number": number, "content": content,
                                                 "from_number": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text
    return answer.json()["message_handle"]


def wait_status(api: httpx.Client, handle: str, status: str) -> None:
    wait_for(lambda: api.get("/api/status", params={"handle": handle}).json()["status"]
             == status)


def deliveries(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    answer = api.get(BASE, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def settled(api: httpx.Client, count: int, **params: Any) -> list[dict[str, Any]]:
    """Wait until `count` deliveries match and none of them is pending; returns them."""
    def done() -> list[dict[str, Any]] | None:
        found = deliveries(api, **params)
        if len(found) == count and all(d["state"] != "pending" for d in found):
            return found
        return None

    return wait_for(done)


def test_the_log_shows_each_attempt_of_a_delivery(api: httpx.Client, receiver: Receiver,
                                                  hook: AddHook) -> None:
    path = unique("flaky")
    receiver.fail(path, times=1)
    url = hook(path, secret=SIGNING_SECRET)
    handle = send(api, "+12125550101", "log me")
    wait_status(api, handle, "DELIVERED")
    # message.created, then SENT and DELIVERED updates: the first answer is a 500.
    found = settled(api, 3, message=handle, url=url)
    assert [d["state"] for d in found] == ["delivered"] * 3
    assert found[0]["id"] > found[1]["id"] > found[2]["id"]  # newest first
    retried = [d for d in found if d["attempts"] == 2]
    assert len(retried) == 1, found
    delivery = retried[0]
    assert delivery["event_type"] == "message.created"
    assert delivery["message_handle"] == handle and delivery["url"] == url
    assert delivery["last_status"] == 200 and delivery["last_error"] is None
    assert delivery["next_attempt_at"] is None and delivery["signed"] is True
    assert isinstance(delivery["endpoint_id"], int)
    failed, succeeded = delivery["attempts_log"]
    assert (failed["status_code"], failed["error"], failed["response"]) == (500, "HTTP 500",
                                                                            "boom")
    assert (succeeded["status_code"], succeeded["error"], succeeded["response"]) == (200, None,
                                                                                      "ok")
    for attempt in (failed, succeeded):
        assert isinstance(attempt["latency_ms"], float) and attempt["latency_ms"] >= 0
    first = datetime.fromisoformat(failed["attempted_at"])
    second = datetime.fromisoformat(succeeded["attempted_at"])
    assert first <= second <= datetime.fromisoformat(delivery["delivered_at"])
    assert datetime.fromisoformat(delivery["created_at"]) <= first
    # Both attempts carried the event's id; the receiver saw it twice.
    hits = [hit for hit in receiver.hits(path) if hit.webhook_id == delivery["event_id"]]
    assert len(hits) == 2

    one = api.get(f"{BASE}/{delivery['id']}")
    assert one.status_code == 200
    shown = one.json()["data"]
    assert {k: v for k, v in shown.items() if k != "payload"} == delivery
    assert shown["payload"] == hits[-1].body
    assert SIGNING_SECRET not in one.text
    assert SIGNING_SECRET not in api.get(BASE, params={"message": handle}).text


def test_filters_narrow_the_log(api: httpx.Client, receiver: Receiver, hook: AddHook) -> None:
    good, dead = unique("good"), unique("dead")
    receiver.fail(dead)
    good_url, dead_url = hook(good), hook(dead)
    started = now_iso()
    first = send(api, "+13125550101", "one")
    second = send(api, "+13125550101", "two")
    for handle in (first, second):
        wait_status(api, handle, "DELIVERED")
    settled(api, 6, url=good_url)
    failed = settled(api, 6, url=dead_url)
    assert {d["state"] for d in failed} == {"failed"}
    assert {d["attempts"] for d in failed} == {4}  # the first attempt and three retries
    assert {a["status_code"] for d in failed for a in d["attempts_log"]} == {500}
    assert {d["message_handle"] for d in failed} == {first, second}

    mine = deliveries(api, message=first, limit=500)
    assert len(mine) == 6 and {d["message_handle"] for d in mine} == {first}
    assert {d["url"] for d in mine} == {good_url, dead_url}
    assert [d["url"] for d in deliveries(api, message=first, state="failed")] == [dead_url] * 3
    assert {d["state"] for d in deliveries(api, message=first, state="delivered")} == {
        "delivered"}
    endpoint_id = mine[0]["endpoint_id"]
    by_endpoint = deliveries(api, endpoint_id=endpoint_id, since=started)
    assert len(by_endpoint) == 6 and {d["endpoint_id"] for d in by_endpoint} == {endpoint_id}
    assert deliveries(api, url=good_url, state="failed") == []
    assert deliveries(api, since="2999-01-01T00:00:00Z") == []
    assert deliveries(api, until="2000-01-01T00:00:00+00:00") == []
    assert len(deliveries(api, url=good_url, since=started, until=now_iso())) == 6

    page = api.get(BASE, params={"url": good_url, "limit": 2, "offset": 1}).json()
    assert page["pagination"] == {"limit": 2, "offset": 1, "hasMore": True}
    everything = deliveries(api, url=good_url)
    assert [d["id"] for d in page["data"]] == [d["id"] for d in everything[1:3]]
    last = api.get(BASE, params={"url": good_url, "limit": 2, "offset": 4}).json()
    assert last["pagination"]["hasMore"] is False and len(last["data"]) == 2


@pytest.mark.parametrize(("params", "named"), [
    ({"state": "lost"}, "`state`"),
    ({"limit": "0"}, "`limit`"),
    ({"limit": "501"}, "`limit`"),
    ({"limit": "ten"}, "`limit`"),
    ({"offset": "-1"}, "`offset`"),
    ({"endpoint_id": "abc"}, "`endpoint_id`"),
    ({"endpoint_id": "0"}, "`endpoint_id`"),
    ({"endpoint_id": "99999999999999999999"}, "`endpoint_id`"),  # beyond 64 bits
    ({"endpoint_id": str(2**31)}, "`endpoint_id`"),  # beyond any endpoint's id
    ({"offset": "9223372036854775808"}, "`offset`"),
    ({"since": "yesterday"}, "`since`"),
    ({"until": "2024-01-01T00:00:00"}, "`until`"),  # no time zone
])
def test_bad_filters_are_400_naming_the_parameter(api: httpx.Client, params: dict[str, str],
                                                  named: str) -> None:
    answer = api.get(BASE, params=params)
    assert answer.status_code == 400
    body = answer.json()
    assert body["status"] == "ERROR" and body["error_code"] == 4000
    assert named in body["message"]


@pytest.mark.parametrize(("body", "named"), [
    ({"url": "http://127.0.0.1:9/x"}, "`since`"),
    ({"since": "2024-01-01T00:00:00Z"}, "`url` or `endpoint_id`"),
    ({"url": "http://127.0.0.1:9/x", "endpoint_id": 1, "since": "2024-01-01T00:00:00Z"},
     "`url` or `endpoint_id`"),
    ({"url": "http://127.0.0.1:9/nowhere", "since": "2024-01-01T00:00:00Z"},
     "not a webhook endpoint of this account"),
    ({"endpoint_id": "7", "since": "2024-01-01T00:00:00Z"}, "`endpoint_id`"),
    ({"endpoint_id": 99999999999999999999, "since": "2024-01-01T00:00:00Z"}, "`endpoint_id`"),
    ({"endpoint_id": True, "since": "2024-01-01T00:00:00Z"}, "`endpoint_id`"),
    ({"url": "http://127.0.0.1:9/x", "since": "soon"}, "`since`"),
    ({"url": "http://127.0.0.1:9/x", "since": "2024-01-02T00:00:00Z",
      "until": "2024-01-01T00:00:00Z"}, "`until`"),
])
def test_bad_replay_requests_are_400(api: httpx.Client, body: dict[str, Any],
                                     named: str) -> None:
    answer = api.post(f"{BASE}/replay", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == 4000
    assert named in answer.json()["message"]


def test_unknown_deliveries_are_404_json(api: httpx.Client) -> None:
    for method, path in (("GET", f"{BASE}/987654"), ("POST", f"{BASE}/987654/resend"),
                         ("GET", f"{BASE}/9223372036854775807")):
        answer = api.request(method, path)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["status"] == "ERROR"


@pytest.mark.parametrize("delivery_id", ["nope", "0", "-1", "99999999999999999999"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_delivery_id_that_is_not_one_is_400_naming_it(api: httpx.Client, method: str,
                                                        delivery_id: str) -> None:
    path = f"{BASE}/{delivery_id}" + ("/resend" if method == "POST" else "")
    answer = api.request(method, path)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == 4000
    assert "`delivery_id`" in answer.json()["message"]


def test_the_largest_offset_is_an_empty_page(api: httpx.Client) -> None:
    answer = api.get(BASE, params={"offset": str(2**63 - 1), "endpoint_id": str(2**31 - 1)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == [] and answer.json()["pagination"]["hasMore"] is False


def test_resend_delivers_again_with_the_same_webhook_id(api: httpx.Client, receiver: Receiver,
                                                        hook: AddHook) -> None:
    path = unique("resend")
    url = hook(path)
    handle = send(api, "+14155550101", "again")
    wait_status(api, handle, "DELIVERED")
    original = settled(api, 3, message=handle, url=url)[-1]  # the oldest: message.created
    assert original["event_type"] == "message.created"

    answer = api.post(f"{BASE}/{original['id']}/resend")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    copy = body["data"]
    assert body["resent_from"] == original["id"] and copy["id"] > original["id"]
    assert copy["event_id"] == original["event_id"]
    assert (copy["event_type"], copy["endpoint_id"], copy["url"], copy["message_handle"]) == (
        original["event_type"], original["endpoint_id"], url, handle)
    assert copy["state"] == "pending" and copy["attempts"] == 0

    def same_id() -> list[Hit]:
        return [hit for hit in receiver.hits(path) if hit.webhook_id == original["event_id"]]

    hits = wait_for(lambda: len(same_id()) == 2 and same_id())
    assert hits[0].body == hits[1].body

    def delivered() -> dict[str, Any] | None:
        data = api.get(f"{BASE}/{copy['id']}").json()["data"]
        return data if data["state"] == "delivered" else None

    resent = wait_for(delivered)
    assert resent["attempts"] == 1 and resent["attempts_log"][0]["status_code"] == 200
    assert api.get(f"{BASE}/{original['id']}").json()["data"]["attempts"] == 1  # untouched


def test_replay_delivers_past_events_to_an_endpoint_added_later(
    api: httpx.Client, receiver: Receiver, hook: AddHook,
) -> None:
    witness, late = unique("witness"), unique("late")
    hook(witness)
    since = now_iso()
    quiet = send(api, "+15125550101", "before the endpoint")   # created, SENT, DELIVERED
    chatty = send(api, "+15125550100", "read me")              # … and READ
    wait_status(api, quiet, "DELIVERED")
    wait_status(api, chatty, "READ")
    wait_for(lambda: len(receiver.hits(witness)) == 7)
    until = now_iso()
    late_url = hook(late)
    other_line_url = hook(unique("other-line"), sendblue_numbers=["+14155550150"])
    receive_url = hook(unique("inbound"), type_="receive")
    assert deliveries(api, url=late_url) == []  # never attempted there

    answer = api.post(f"{BASE}/replay", json={"url": late_url, "since": since, "until": until})
    assert answer.status_code == 200, answer.text
    assert answer.json()["queued"] == 7
    assert answer.json()["url"] == late_url
    replayed = wait_for(lambda: (hits := receiver.hits(late)) and len(hits) == 7 and hits)
    seen = receiver.hits(witness)
    for handle in (quiet, chatty):  # the same events, in event order for each message
        assert [(h.webhook_id, h.body) for h in replayed
                if h.body["message_handle"] == handle] == [
            (h.webhook_id, h.body) for h in seen if h.body["message_handle"] == handle]
    assert [h.body["status"] for h in replayed if h.body["message_handle"] == chatty] == [
        "QUEUED", "SENT", "DELIVERED", "READ"]
    logged = settled(api, 7, url=late_url)
    assert {d["state"] for d in logged} == {"delivered"}
    assert {d["message_handle"] for d in logged} == {quiet, chatty}

    # An endpoint limited to another line, and one that hears other events, get nothing.
    for url in (other_line_url, receive_url):
        answer = api.post(f"{BASE}/replay", json={"url": url, "since": since, "until": until})
        assert answer.json()["queued"] == 0, url

    # By endpoint id, and `until` defaulting to now: the witness hears its events once more.
    endpoint_id = deliveries(api, message=quiet, url=receiver.url(witness))[0]["endpoint_id"]
    answer = api.post(f"{BASE}/replay", json={"endpoint_id": endpoint_id, "since": since})
    assert answer.status_code == 200 and answer.json()["queued"] == 7
    again = wait_for(lambda: (hits := receiver.hits(witness)) and len(hits) == 14 and hits)
    assert sorted(h.webhook_id for h in again[7:]) == sorted(h.webhook_id for h in seen)


def test_an_account_never_sees_another_accounts_deliveries(
    server: ServerProcess, api: httpx.Client, receiver: Receiver, hook: AddHook,
) -> None:
    server.cli("accounts", "create", "dl-other@example.com")
    server.cli("keys", "create", "--account", "dl-other@example.com", "--key-id", "dl-other",
               "--secret", "dl-other-secret")
    server.cli("lines", "add", SANDBOX_LINE, "--account", "dl-other@example.com")
    mine_path, theirs_path = unique("mine"), unique("theirs")
    mine_url = hook(mine_path)
    with server.client("dl-other", "dl-other-secret") as other:
        assert other.get(BASE).json()["data"] == []
        added = other.post("/api/account/webhooks", json={
            "type": "outbound", "webhooks": [receiver.url(theirs_path)]})
        assert added.status_code == 200
        mine = send(api, "+16175550101", "mine")
        theirs = send(other, "+16175550101", "theirs")
        wait_for(lambda: len(receiver.hits(theirs_path)) == 3
                 and len(receiver.hits(mine_path)) == 3)
        their_log = settled(other, 3)
        assert {d["message_handle"] for d in their_log} == {theirs}
        my_log = deliveries(api, limit=500)
        assert theirs not in {d["message_handle"] for d in my_log}
        assert deliveries(api, message=theirs) == []
        mine_id = deliveries(api, message=mine, url=mine_url)[0]["id"]
        assert other.get(f"{BASE}/{mine_id}").status_code == 404
        assert other.post(f"{BASE}/{mine_id}/resend").status_code == 404
        assert api.get(f"{BASE}/{their_log[0]['id']}").status_code == 404
        refused = other.post(f"{BASE}/replay", json={"url": mine_url,
                                                     "since": "2024-01-01T00:00:00Z"})
        assert refused.status_code == 400
        assert "not a webhook endpoint of this account" in refused.json()["message"]


def test_the_webhooks_and_deliveries_commands(server: ServerProcess, api: httpx.Client,
                                              receiver: Receiver, hook: AddHook) -> None:
    path = unique("cli")
    url = receiver.url(path)
    added = server.cli("webhooks", "add", url, "--type", "outbound", "--secret", "s3cret",
                       "--line", SANDBOX_LINE)
    assert "Added 1 outbound webhook" in added.stdout
    listed = server.cli("webhooks", "list").stdout
    row = next(line for line in listed.splitlines() if path in line)
    assert "outbound" in row and "yes" in row and SANDBOX_LINE in row

    since = now_iso()
    handle = send(api, "+17185550101", "cli")
    wait_status(api, handle, "DELIVERED")
    logged = settled(api, 3, message=handle, url=url)
    table = server.cli("deliveries", "--message", handle, "--limit", "5").stdout
    for delivery in logged:
        assert re.search(rf"^\W*{delivery['id']}\b.*delivered.*200", table, re.M), table
    assert "message.created" in table and "3 deliveries" in table

    resent = server.cli("deliveries", "resend", str(logged[0]["id"])).stdout
    assert f"delivery {logged[0]['id']} queued again as" in resent
    assert logged[0]["event_id"] in resent
    wait_for(lambda: sum(h.webhook_id == logged[0]["event_id"]
                         for h in receiver.hits(path)) == 2)

    replayed = server.cli("deliveries", "replay", "--url", url, "--since", since).stdout
    assert "queued 3 deliveries" in replayed
    wait_for(lambda: len(receiver.hits(path)) == 3 + 1 + 3)

    dead = unique("cli-dead")
    receiver.fail(dead)
    dead_url = hook(dead)
    failing = send(api, "+17185550101", "will fail")
    settled(api, 3, message=failing, url=dead_url)
    failed = server.cli("deliveries", "--failed", "--limit", "3").stdout
    assert "failed" in failed and "HTTP 500" in failed and "delivered" not in failed

    removed = server.cli("webhooks", "remove", url, "--type", "outbound").stdout
    assert "Removed 1 webhook" in removed
    assert path not in server.cli("webhooks", "list").stdout
    refused = server.cli("deliveries", "resend", "987654", check=False)
    assert refused.returncode == 1 and "404" in refused.stderr


def test_openapi_describes_the_webhook_routes(server: ServerProcess) -> None:
    document = httpx.get(server.url + "/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    assert set(paths["/api/account/webhooks"]) == {"get", "post", "put", "delete"}
    assert "get" in paths[BASE] and "get" in paths[f"{BASE}/{{delivery_id}}"]
    assert "post" in paths[f"{BASE}/replay"]
    resend = paths[f"{BASE}/{{delivery_id}}/resend"]["post"]
    assert set(resend["responses"]) == {"201", "400", "401", "404"}
    (delivery_id,) = resend["parameters"]
    assert delivery_id["in"] == "path" and delivery_id["schema"]["maximum"] == 2**63 - 1
    delivery = schemas["Delivery"]
    assert "attempts_log" in delivery["properties"] and "secret" not in delivery["properties"]
    assert set(delivery["required"]) == set(delivery["properties"])
    assert delivery["properties"]["state"]["enum"] == ["cancelled", "delivered", "failed",
                                                       "pending"]
    query = {p["name"]: p for p in paths[BASE]["get"]["parameters"]}
    assert query["limit"]["schema"]["maximum"] == 500 and not query["limit"]["required"]
    assert schemas["ReplayRequest"]["required"] == ["since"]

    added = paths["/api/account/webhooks"]["post"]["requestBody"]["content"]["application/json"]
    assert added["schema"]["$ref"].endswith("/AddWebhooks")
    body = schemas["AddWebhooks"]
    assert body["required"] == ["webhooks"]
    assert "outbound" in body["properties"]["type"]["enum"]
    entry = body["properties"]["webhooks"]["items"]["anyOf"]
    assert entry[0] == {"type": "string"} and entry[1]["$ref"].endswith("/WebhookEntry")
    assert schemas["WebhookEntry"]["required"] == ["url"]
    # The answer's keys are the types; a type without endpoints is left out.
    shown = schemas["WebhooksByType"]
    assert shown["additionalProperties"] is False and not shown.get("required")
    assert "globalSecret" not in shown["properties"]
