"""What the console's Messages and Webhooks pages read from the store, on each engine: a
message's events (by its handle), the account's endpoints with their ids, and how each
endpoint's recent deliveries went (the "failing" mark). The pages themselves are driven in a
browser in tests/console/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiohttp import web

from ..console_client import ConsoleClient
from ..receiver import ThreadedReceiver
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for


class Receiver(ThreadedReceiver):
    """200 "ok" on every path but /failing, which answers 500 "boom"."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        with self._lock:
            self.paths.append(request.path)
        if request.path == "/failing":
            return web.Response(status=500, text="boom")
        return web.Response(text="ok")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def console(server: ServerProcess) -> Iterator[ConsoleClient]:
    with ConsoleClient(server.url) as client:
        assert client.sign_in().status_code == 303
        yield client


def test_a_message_page_reads_its_events_and_endpoints_their_outcomes(
        server: ServerProcess, console: ConsoleClient, receiver: Receiver) -> None:
    with server.client() as api:
        api.post("/api/account/webhooks", json={
            "webhooks": [receiver.url("/ok"), receiver.url("/failing")], "type": "outbound",
        }).raise_for_status()
        try:
            handle = api.post("/api/send-message", json={
                "number": phone(231, "01"), "from_number": SANDBOX_LINE, "content": "trail",
            }).json()["message_handle"]
            wait_for(lambda: "/failing" in receiver.paths and "/ok" in receiver.paths)

            shown = console.get(f"/console/messages/{handle}")
            assert shown.status_code == 200
            assert "message.created" in shown.text and receiver.url("/ok") in shown.text

            listed = console.get("/console/webhooks")
            assert listed.status_code == 200
            rows = listed.text.split("<tr>")
            failing = next(row for row in rows if receiver.url("/failing") in row
                           and "Remove" in row)
            fine = next(row for row in rows if receiver.url("/ok") in row and "Remove" in row)
            assert "failing: " in failing and "failing: " not in fine
            assert "delivered" in fine
        finally:
            api.request("DELETE", "/api/account/webhooks", json={
                "webhooks": [receiver.url("/ok"), receiver.url("/failing")]})
