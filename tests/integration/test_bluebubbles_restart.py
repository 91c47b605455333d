"""A BlueBubbles line's messages outlive the process that sent them. BlueBubbles names a sent
message by our handle (its `tempGuid`) only in the send's answer; later it names it by its own
guid (a delivery, a read, a phone's tapback on it), and we name it so when we react to it or
answer it inline. Those must reach the message after the gateway restarts, as they would from
another process on the same database."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ..bluebubbles_standin import BlueBubblesStandin
from ..databases import Engine
from ..server import ServerProcess, free_port, wait_for

EMAIL = "admin@bluewire.local"
LINE = "+14155550113"
PHONE = "+13125550177"


@pytest.fixture(scope="module")
def standin(engine: Engine) -> Iterator[BlueBubblesStandin]:
    served = BlueBubblesStandin(password="restart-pw", private_api=True).start()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, engine: Engine,
            standin: BlueBubblesStandin) -> Iterator[ServerProcess]:
    port = free_port()
    process = ServerProcess(tmp_path_factory.mktemp("bb-restart"), port=port, engine=engine,
                            env={"BLUEWIRE_PUBLIC_URL": f"http://127.0.0.1:{port}"}).start()
    try:
        process.cli("lines", "add", LINE, "--account", EMAIL, "--connector", "bluebubbles",
                    "--url", standin.url, "--password", standin.password)
        wait_for(lambda: standin.webhooks, timeout=15)
        yield process
    finally:
        process.stop()


def status_of(api: httpx.Client, handle: str) -> str:
    return str(api.get("/api/status", params={"handle": handle}).json()["status"])


def as_bluebubbles_updates(message: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An updated-message webhook's message: read again from the Mac's database, it has no
    `tempGuid`."""
    return {key: value for key, value in {**message, **changes}.items() if key != "tempGuid"}


def test_what_bluebubbles_says_of_an_earlier_message_reaches_it_after_a_restart(
        gateway: ServerProcess, standin: BlueBubblesStandin) -> None:
    with gateway.client() as api:
        sent = api.post("/api/send-message", json={"number": PHONE, "from_number": LINE,
                                                    "content": "See you at 6"})
        assert sent.status_code == 200, sent.text
        handle = sent.json()["message_handle"]
        wait_for(lambda: status_of(api, handle) == "SENT")
    guid = standin.sent[handle]["guid"]

    gateway.stop()
    gateway.start()
    with gateway.client() as api:
        now = int(time.time() * 1000)
        assert standin.post("updated-message", as_bluebubbles_updates(
            standin.sent[handle], isDelivered=True, dateDelivered=now)) == [200]
        wait_for(lambda: status_of(api, handle) == "DELIVERED")
        assert standin.post("updated-message", as_bluebubbles_updates(
            standin.sent[handle], isDelivered=True, dateDelivered=now,
            dateRead=now + 1000)) == [200]
        wait_for(lambda: status_of(api, handle) == "READ")

        assert standin.tapback(PHONE, guid, "love") == [200]

        def reacted_to() -> list[str]:
            rows = gateway.sql("SELECT data FROM events WHERE type = 'reaction.received'")
            return [json.loads(row["data"])["reacted_to"] for row in rows]

        assert wait_for(reacted_to) == [handle]

        wait_for(lambda: any(e["number"] == LINE and e["state"] == "online"
                             for e in api.get("/api/v2/lines/state").json()["data"]))
        ours = api.post("/api/send-reaction", json={"from_number": LINE,
                                                     "message_handle": handle,
                                                     "reaction": "like"})
        assert ours.status_code == 200, ours.text
        [react] = wait_for(lambda: standin.calls_to("POST", "/api/v1/message/react"))
        assert react.json["selectedMessageGuid"] == guid

        reply = api.post("/api/send-message", json={
            "number": PHONE, "from_number": LINE, "content": "6:30 then?",
            "reply_to": {"message_handle": handle}})
        assert reply.status_code == 200, reply.text
        [call] = wait_for(lambda: [c for c in standin.calls_to("POST", "/api/v1/message/text")
                                   if c.json.get("message") == "6:30 then?"])
        assert call.json["selectedMessageGuid"] == guid
