"""Follow-ups: a durable, conditional action on a message, judged when due from the message's
state and ended once (fired, skipped or cancelled); ended early where a fact makes the
condition impossible; exactly once across a SIGKILL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..databases import Engine
from ..receiver import ReceiverProcess
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

FOLLOW_UPS = "/api/v2/follow-ups"
OTHER_EMAIL = "follow-ups-other@example.com"
OTHER_KEY, OTHER_SECRET = "follow-ups-other-key", "follow-ups-other-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    """Deliveries at once, reads after 1.5 s: a follow-up can be made before its message is
    read."""
    process = ServerProcess(tmp_path_factory.mktemp("follow-ups"), env={
        "BLUEWIRE_SANDBOX_READ_MS": "1500", "BLUEWIRE_SWEEP_INTERVAL_MS": "200",
    }, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def hooked(server: ServerProcess, receiver: ReceiverProcess) -> ReceiverProcess:
    with server.client() as api:
        answer = api.put("/api/account/webhooks", json={
            "webhooks": {"follow_up": [receiver.url_for("/fu")]}})
        assert answer.status_code == 200, answer.text
    return receiver


def send(api: httpx.Client, number: str, content: str = "first") -> str:
    answer = api.post("/api/send-message", json={"number": number, "from_number": SANDBOX_LINE,
                                                 "content": content})
    assert answer.status_code == 200, answer.text
    handle: str = answer.json()["message_handle"]
    return handle


def follow_up(api: httpx.Client, handle: str, condition: str, after: Any = 1,
              action: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = api.post(FOLLOW_UPS, json={
        "message_handle": handle, "condition": condition, "after": after,
        "action": action or {"send": {"content": "following up"}}})
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def ended(api: httpx.Client, fu_id: str, timeout: float = 15) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        data: dict[str, Any] = api.get(f"{FOLLOW_UPS}/{fu_id}").json()["data"]
        return data if data["state"] != "scheduled" else None

    found: dict[str, Any] = wait_for(check, timeout=timeout, interval=0.1)
    return found


def events_of(server: ServerProcess, type_: str) -> list[dict[str, Any]]:
    rows = server.sql("SELECT data FROM events WHERE type = ? ORDER BY id", type_)
    return [json.loads(row["data"]) for row in rows]


def test_not_read_fires_a_message_in_the_same_conversation(
        api: httpx.Client, server: ServerProcess, hooked: ReceiverProcess) -> None:
    number = phone(501, "01")  # never sends read receipts
    parent = send(api, number)
    created = follow_up(api, parent, "not_read", after=1)
    assert created["state"] == "scheduled" and created["id"].startswith("fu_")
    assert created["after"] == 1 and created["message_handle"] == parent
    done = ended(api, created["id"])
    assert done["state"] == "fired" and done["reason"] is None
    child = done["result_message_handle"]
    row = api.get(f"/api/v2/messages/{child}").json()["data"]
    assert row["number"] == number and row["from_number"] == SANDBOX_LINE
    assert row["content"] == "following up"
    linked = server.sql("SELECT follow_up_of FROM messages WHERE handle = ?", child)
    assert linked == [{"follow_up_of": parent}]
    made = [e for e in events_of(server, "message.created") if e.get("follow_up_of") == parent]
    assert [e["message_handle"] for e in made] == [child]
    assert made[0]["follow_up_id"] == created["id"]
    fired = [e for e in events_of(server, "follow_up.fired") if e["id"] == created["id"]]
    assert len(fired) == 1 and fired[0]["result_message_handle"] == child
    # Both webhooks arrive; the one for the firing may still be on its way when it is done.
    wait_for(lambda: {"scheduled", "fired"} <= {
        r.json["state"] for r in hooked.received("/fu") if r.json["id"] == created["id"]})


def test_a_group_message_is_followed_up_in_the_group(api: httpx.Client,
                                                     server: ServerProcess) -> None:
    numbers = [phone(520, "01"), phone(521, "01")]
    answer = api.post("/api/send-group-message", json={
        "numbers": numbers, "from_number": SANDBOX_LINE, "content": "hello, both"})
    assert answer.status_code == 200, answer.text
    parent, group_id = answer.json()["message_handle"], answer.json()["group_id"]
    created = follow_up(api, parent, "not_read", after=1)
    assert created["group_id"] == group_id
    done = ended(api, created["id"])
    assert done["state"] == "fired", done
    child = server.sql("SELECT group_id, follow_up_of, message_type FROM messages "
                       "WHERE handle = ?", done["result_message_handle"])
    assert child == [{"group_id": group_id, "follow_up_of": parent, "message_type": "group"}]


def test_not_read_is_skipped_as_soon_as_the_message_is_read(api: httpx.Client) -> None:
    parent = send(api, phone(502, "00"))  # read 1.5 s after delivery
    created = follow_up(api, parent, "not_read", after=3600)
    assert created["state"] == "scheduled"
    done = ended(api, created["id"], timeout=10)
    assert (done["state"], done["reason"]) == ("skipped", "condition_false")
    assert done["result_message_handle"] is None
    # made after the read: ended at once
    late = follow_up(api, parent, "not_read", after=3600)
    assert (late["state"], late["reason"]) == ("skipped", "condition_false")


def test_replied_fires_when_the_contact_wrote_back(api: httpx.Client) -> None:
    parent = send(api, phone(503, "06"))  # echoes
    created = follow_up(api, parent, "replied", after=2)
    no_reply = follow_up(api, parent, "not_replied", after=3600)
    done = ended(api, created["id"])
    assert done["state"] == "fired", done
    assert done["result_message_handle"]
    gone = ended(api, no_reply["id"])  # the reply ended it early
    assert (gone["state"], gone["reason"]) == ("skipped", "condition_false")


def test_a_failed_send_fires_not_delivered_and_skips_delivered(api: httpx.Client) -> None:
    parent = send(api, phone(504, "04"))  # its send fails (ERROR)
    escalate = follow_up(api, parent, "not_delivered", after=1,
                         action={"notify": {"call": "+14155550123"}})
    hoped = follow_up(api, parent, "delivered", after=3600)
    done = ended(api, escalate["id"])
    assert done["state"] == "fired"
    skipped = ended(api, hoped["id"])
    assert (skipped["state"], skipped["reason"]) == ("skipped", "parent_failed")


def test_a_stop_cancels_the_contacts_follow_ups(api: httpx.Client) -> None:
    parent = send(api, phone(509, "07"))  # answers STOP
    created = follow_up(api, parent, "not_replied", after=3600)
    done = ended(api, created["id"])
    assert (done["state"], done["reason"]) == ("cancelled", "opted_out")


def test_a_notify_action_emits_follow_up_due_only(api: httpx.Client,
                                                  server: ServerProcess) -> None:
    number = phone(505, "01")
    parent = send(api, number)
    created = follow_up(api, parent, "not_read", after=1,
                        action={"notify": {"escalate": "call", "level": 2}})
    done = ended(api, created["id"])
    assert done["state"] == "fired" and done["result_message_handle"] is None
    due = [e for e in events_of(server, "follow_up.due") if e["id"] == created["id"]]
    assert len(due) == 1 and due[0]["notify"] == {"escalate": "call", "level": 2}
    assert not [e for e in events_of(server, "follow_up.fired") if e["id"] == created["id"]]
    sent = server.sql("SELECT COUNT(*) AS n FROM messages WHERE number = ?", number)
    assert sent[0]["n"] == 1  # the parent alone


def test_the_event_stream_sends_follow_up_events_when_asked(api: httpx.Client) -> None:
    parent = send(api, phone(512, "01"))
    seen: list[str] = []
    with api.stream("GET", "/api/v2/events",
                    params={"types": "follow_up.scheduled,follow_up.fired"}) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert next(lines) == ": ready"
        created = follow_up(api, parent, "not_read", after=1)
        for line in lines:
            if line.startswith("data: "):
                event = json.loads(line.removeprefix("data: "))
                if event["data"]["id"] == created["id"]:
                    seen.append(event["type"])
                if "follow_up.fired" in seen:
                    break
    assert seen == ["follow_up.scheduled", "follow_up.fired"]
    assert api.get("/api/v2/events", params={"types": "follow_up.nope"}).status_code == 400


def test_cancel(api: httpx.Client, server: ServerProcess) -> None:
    parent = send(api, phone(506, "01"))
    created = follow_up(api, parent, "not_read", after="PT2H")
    assert created["after"] == 7200
    cancelled = api.delete(f"{FOLLOW_UPS}/{created['id']}")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["data"]["state"] == "cancelled"
    again = api.delete(f"{FOLLOW_UPS}/{created['id']}")
    assert again.status_code == 409, again.text
    assert api.get(f"{FOLLOW_UPS}/{created['id']}").json()["data"]["state"] == "cancelled"
    assert api.delete(f"{FOLLOW_UPS}/fu_nothing").status_code == 404
    listed = api.get(FOLLOW_UPS, params={"message": parent}).json()
    assert [row["id"] for row in listed["data"]] == [created["id"]]
    assert listed["pagination"]["total"] == 1
    states = api.get(FOLLOW_UPS, params={"state": "cancelled"}).json()["data"]
    assert created["id"] in {row["id"] for row in states}
    assert [e["id"] for e in events_of(server, "follow_up.cancelled")].count(created["id"]) == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"condition": "maybe"}, "condition"),
    ({"after": 0}, "after"),
    ({"after": -5}, "after"),
    ({"after": 31 * 86400}, "after"),
    ({"after": "P1M"}, "after"),
    ({"after": "soon"}, "after"),
    ({"action": {}}, "action"),
    ({"action": {"send": {"content": "a"}, "notify": {}}}, "action"),
    ({"action": {"send": {}}}, "action.send.content"),
    ({"action": {"send": {"content": "a", "send_style": "loudest"}}}, "send_style"),
    ({"action": {"notify": {"x": "y" * 5000}}}, "action.notify"),
    ({"message_handle": " "}, "message_handle"),
])
def test_bad_input_is_a_400_naming_the_field(api: httpx.Client, change: dict[str, Any],
                                             field: str) -> None:
    body = {"message_handle": "whatever", "condition": "not_read", "after": 60,
            "action": {"send": {"content": "a"}}, **change}
    answer = api.post(FOLLOW_UPS, json=body)
    assert answer.status_code == 400, answer.text
    assert f"`{field}" in answer.json()["message"], answer.text


def test_durations(api: httpx.Client) -> None:
    parent = send(api, phone(507, "01"))
    for after, seconds in (("PT90M", 5400), ("P1D", 86400), ("pt1h30m", 5400), (2.5, 2.5)):
        created = follow_up(api, parent, "not_read", after=after)
        assert created["after"] == seconds
        api.delete(f"{FOLLOW_UPS}/{created['id']}")


def test_another_accounts_message_is_not_found(api: httpx.Client,
                                                server: ServerProcess) -> None:
    server.cli("accounts", "create", OTHER_EMAIL)
    server.cli("keys", "create", "--account", OTHER_EMAIL, "--key-id", OTHER_KEY,
               "--secret", OTHER_SECRET)
    server.cli("lines", "add", SANDBOX_LINE, "--account", OTHER_EMAIL)
    with server.client(OTHER_KEY, OTHER_SECRET) as other:
        theirs = send(other, phone(508, "01"))
        mine = follow_up(other, theirs, "not_read", after=3600)
        assert other.get(f"{FOLLOW_UPS}/{mine['id']}").status_code == 200
    answer = api.post(FOLLOW_UPS, json={"message_handle": theirs, "condition": "not_read",
                                        "after": 60, "action": {"notify": {}}})
    assert answer.status_code == 404, answer.text
    assert api.get(f"{FOLLOW_UPS}/{mine['id']}").status_code == 404
    assert api.delete(f"{FOLLOW_UPS}/{mine['id']}").status_code == 404


def test_sigkill_as_follow_ups_come_due_fires_each_once(tmp_path: Path, engine: Engine) -> None:
    """Follow-ups coming due while the server is SIGKILLed, some left claimed by it: after a
    restart on the same database (on PostgreSQL, two servers at once) every one has ended,
    and none fired twice."""
    first = ServerProcess(tmp_path, env={"BLUEWIRE_SWEEP_INTERVAL_MS": "50"}).start()
    numbers = [phone(530 + i, "01") for i in range(12)]
    created: dict[str, str] = {}  # follow-up id -> number
    began = time.monotonic()
    try:
        with first.client() as api:
            for i, number in enumerate(numbers):
                parent = send(api, number)
                action = {"notify": {"i": i}} if i % 4 == 3 else {"send": {"content": f"{i}"}}
                created[follow_up(api, parent, "not_read", after=1.5 + 0.05 * i,
                                  action=action)["id"]] = number
            time.sleep(max(0.0, began + 1.7 - time.monotonic()))  # as the first come due
    finally:
        first.kill()
    # What a process killed between its claim and the outcome leaves: leases running on.
    first.sql("UPDATE follow_ups SET claimed_until = ? WHERE state = 'scheduled' "
              "AND id % 2 = 0", int(time.time() * 1000) + 2000)
    env = {"BLUEWIRE_DATABASE_URL": first.database_url, "BLUEWIRE_SWEEP_INTERVAL_MS": "50"}
    servers = [ServerProcess(tmp_path, env=env).start()]
    try:
        if engine.name == "postgresql":
            servers.append(ServerProcess(tmp_path, env=env).start())
        with servers[-1].client() as api:
            for fu_id, number in created.items():
                done = ended(api, fu_id, timeout=40)
                assert done["state"] == "fired", done
                outbound = first.sql("SELECT COUNT(*) AS n FROM messages WHERE number = ? "
                                     "AND is_outbound = ?", number, True)[0]["n"]
                wanted = 1 if "notify" in done["action"] else 2  # the parent, its follow-up
                assert outbound == wanted, (fu_id, done)
            for type_ in ("follow_up.fired", "follow_up.due"):
                ids = [e["id"] for e in events_of(first, type_)]
                assert len(ids) == len(set(ids)), type_
    finally:
        for server in servers:
            server.stop()
