"""The live event stream, GET /api/v2/events (as in Sendblue's docs), against a real server.

The server of this module sends a heartbeat every 200 ms, so every stream here sees several
heartbeats between its events, and logs at INFO, so a test can see a stream being closed.
Every test talks to its own sandbox phones (a distinct area code per test).
"""

from __future__ import annotations

import asyncio
import json
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sendblue_api import AsyncSendblueAPI, AuthenticationError, BadRequestError, SendblueAPI

from bluewire.domain.account_events import EVENT_TYPES

from ..child_signals import default_sigint
from ..databases import Engine
from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, phone, wait_for

HEARTBEAT_MS = 200
OTHER_EMAIL = "other@example.com"
OTHER_KEY, OTHER_SECRET = "other-key-id", "other-secret-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("events"), env={
        "BLUEWIRE_SSE_HEARTBEAT_MS": str(HEARTBEAT_MS), "BLUEWIRE_LOG_LEVEL": "info",
    }, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def other_account(server: ServerProcess) -> tuple[str, str]:
    """A second account with its own keys, granted the shared sandbox line."""
    server.cli("accounts", "create", OTHER_EMAIL)
    server.cli("keys", "create", "--account", OTHER_EMAIL, "--key-id", OTHER_KEY,
               "--secret", OTHER_SECRET)
    server.cli("lines", "add", SANDBOX_LINE, "--account", OTHER_EMAIL)
    return OTHER_KEY, OTHER_SECRET


@pytest.fixture
def sdk(server: ServerProcess) -> Iterator[SendblueAPI]:
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url, max_retries=0,
                     _strict_response_validation=True) as client:
        yield client


class RawStream:
    """GET /api/v2/events over plain httpx, read line by line in a background thread."""

    def __init__(self, server: ServerProcess, key_id: str = KEY_ID, secret: str = SECRET,
                 types: str | None = None) -> None:
        self.client = httpx.Client(base_url=server.url, timeout=httpx.Timeout(10, read=30))
        request = self.client.build_request(
            "GET", "/api/v2/events", params={"types": types} if types else None,
            headers={"sb-api-key-id": key_id, "sb-api-secret-key": secret,
                     "accept": "text/event-stream"})
        # Returns once the headers are in: by then the server has subscribed this stream.
        self.response = self.client.send(request, stream=True)
        self.first_bytes = b""
        self.lines: list[str] = []
        self.ended_cleanly = False
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buffer = b""
        try:
            for chunk in self.response.iter_raw():
                if not self.first_bytes:
                    self.first_bytes = chunk
                buffer += chunk
                *complete, buffer = buffer.split(b"\n")
                with self._lock:
                    self.lines += [line.decode() for line in complete]
            self.ended_cleanly = True
        except BaseException as exc:  # the test looks at it
            self.error = exc

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            lines = list(self.lines)
        return [json.loads(line[len("data: "):]) for line in lines if line.startswith("data: ")]

    def wait_for_event(self, predicate: Callable[[dict[str, Any]], bool],
                       timeout: float = 10.0) -> list[dict[str, Any]]:
        """Every event so far, once one matching `predicate` has arrived."""
        def arrived() -> list[dict[str, Any]] | None:
            events = self.events()
            return events if any(map(predicate, events)) else None

        return wait_for(arrived, timeout)

    def close(self) -> None:
        self.response.close()
        self.client.close()
        self._thread.join(5)


@pytest.fixture
def open_stream(server: ServerProcess) -> Iterator[Callable[..., RawStream]]:
    streams: list[RawStream] = []

    def open_(**kwargs: Any) -> RawStream:
        stream = RawStream(server, **kwargs)
        streams.append(stream)
        return stream

    yield open_
    for stream in streams:
        stream.close()


def send(server: ServerProcess, number: str, content: str = "hello",
         key_id: str = KEY_ID, secret: str = SECRET) -> str:
    with server.client(key_id, secret) as api:
        answer = api.post("/api/send-message", json={"number": number, "content": content,
                                                     "from_number": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text
    return answer.json()["message_handle"]


def handle_of(event: dict[str, Any]) -> str | None:
    return event["data"].get("message_handle")


def is_status(handle: str, status: str) -> Callable[[dict[str, Any]], bool]:
    return lambda event: handle_of(event) == handle and event["data"].get("status") == status


def when(text: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text), text
    return datetime.fromisoformat(text)


# ---------------------------------------------------------------------------------------------
# the official SDK


class Consumer:
    """Iterates an SDK stream in a thread until `until(items)` holds."""

    def __init__(self, stream: Any, until: Callable[[list[Any]], bool]) -> None:
        self.stream = stream
        self.until = until
        self.items: list[Any] = []
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._consume, daemon=True)
        self.thread.start()

    def _consume(self) -> None:
        try:
            for item in self.stream:
                self.items.append(item)
                if self.until(self.items):
                    return
        except BaseException as exc:  # re-raised by result()
            self.failure = exc

    def result(self, timeout: float = 10.0) -> list[Any]:
        self.thread.join(timeout)
        self.stream.close()
        self.thread.join(5)
        if self.until(self.items):
            return self.items
        if self.failure is not None:
            raise self.failure
        raise AssertionError(f"the stream did not deliver in {timeout}s: {self.items}")


def collect_in_thread(stream: Any, until: Callable[[list[Any]], bool]) -> list[Any]:
    return Consumer(stream, until).result()


def test_sdk_stream_gets_created_and_updated_events_across_heartbeats(
    sdk: SendblueAPI,
) -> None:
    stream = sdk.events.stream()
    time.sleep(HEARTBEAT_MS * 4 / 1000)  # heartbeats before the first event
    number = phone(201, "00")
    sent = sdk.messages.send(number=number, from_number=SANDBOX_LINE, content="stream me")
    handle = sent.message_handle

    def read(items: list[Any]) -> bool:
        return any(e.data.get("message_handle") == handle and e.data.get("status") == "READ"
                   for e in items)

    events = [e for e in collect_in_thread(stream, read) if e.data.get("message_handle") == handle]
    assert [(e.type, e.data["status"]) for e in events] == [
        ("message.created", "QUEUED"), ("message.updated", "SENT"),
        ("message.updated", "DELIVERED"), ("message.updated", "READ")]
    ids = [e.id for e in events]
    assert all(i.startswith("evt_") for i in ids) and len(set(ids)) == len(ids)
    for event in events:
        assert event.version == 1
        assert event.occurred_at.tzinfo is not None
        assert event.occurred_at == when(str(event.data["updated_at"]))
        assert event.data["number"] == number
        assert event.data["sendblue_number"] == SANDBOX_LINE
        assert event.data["is_outbound"] is True
        assert event.data["accountEmail"] == "admin@bluewire.local"
    assert events[0].occurred_at == sent.date_created


def test_sdk_stream_carries_inbound_messages_and_keeps_going_after_heartbeats(
    sdk: SendblueAPI,
) -> None:
    consumer = Consumer(sdk.events.stream(types="message.received"),
                        lambda items: len(items) >= 2)
    number = phone(202, "06")  # echoes after delivery
    sdk.messages.send(number=number, from_number=SANDBOX_LINE, content="ping")
    wait_for(lambda: consumer.items or consumer.failure)
    time.sleep(HEARTBEAT_MS * 4 / 1000)  # heartbeats between the two events
    sdk.messages.send(number=number, from_number=SANDBOX_LINE, content="pong")
    events = consumer.result()
    assert [e.type for e in events] == ["message.received"] * 2
    assert [e.data["content"] for e in events] == ["echo: ping", "echo: pong"]
    assert all(e.data["is_outbound"] is False and e.data["number"] == number for e in events)


async def test_async_sdk_stream(server: ServerProcess) -> None:
    async with AsyncSendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url,
                                max_retries=0, _strict_response_validation=True) as client:
        stream = await client.events.stream(types="message.created,message.updated")
        await asyncio.sleep(HEARTBEAT_MS * 3 / 1000)
        number = phone(203, "02")  # SMS: ends at SENT
        sent = await client.messages.send(number=number, from_number=SANDBOX_LINE,
                                          content="async stream")
        seen: list[tuple[str, str]] = []
        async with asyncio.timeout(10):
            async for event in stream:
                if event.data.get("message_handle") != sent.message_handle:
                    continue
                seen.append((event.type, str(event.data["status"])))
                if event.data["status"] == "SENT":
                    break
        await stream.close()
        assert seen == [("message.created", "QUEUED"), ("message.updated", "SENT")]


def test_sdk_errors_before_streaming(server: ServerProcess, sdk: SendblueAPI) -> None:
    with pytest.raises(BadRequestError, match=r"message\.deleted"):
        sdk.events.stream(types="message.created,message.deleted")
    with (SendblueAPI(api_key=KEY_ID, api_secret="wrong", base_url=server.url,
                      max_retries=0) as wrong, pytest.raises(AuthenticationError)):
        wrong.events.stream()


# ---------------------------------------------------------------------------------------------
# the wire format


def test_wire_format_ready_first_then_event_frames_and_comment_heartbeats(
    server: ServerProcess, open_stream: Callable[..., RawStream],
) -> None:
    stream = open_stream()
    assert stream.response.status_code == 200
    assert stream.response.headers["content-type"] == "text/event-stream"
    assert stream.response.headers["cache-control"] == "no-cache"
    assert "content-length" not in stream.response.headers
    wait_for(lambda: stream.first_bytes)
    assert stream.first_bytes.startswith(b": ready\n\n")
    time.sleep(HEARTBEAT_MS * 5 / 1000)
    handle = send(server, phone(204, "01"))  # ends at DELIVERED
    stream.wait_for_event(is_status(handle, "DELIVERED"))

    def heartbeat_after_the_events() -> list[str] | None:
        with stream._lock:
            lines = list(stream.lines)
        last_data = max(i for i, line in enumerate(lines) if line.startswith("data: "))
        return lines if ": heartbeat" in lines[last_data:] else None

    lines = wait_for(heartbeat_after_the_events)
    assert lines[:2] == [": ready", ""]
    assert lines.count(": heartbeat") >= 3
    # Frames: a comment alone, or `event:` then `data:`; never `id:` or `retry:`, never an
    # event without data.
    frames: list[list[str]] = [[]]
    for line in lines:
        if line:
            frames[-1].append(line)
        elif frames[-1]:
            frames.append([])
    for frame in frames[:-1] if not frames[-1] else frames:
        assert not any(line.startswith(("id:", "retry:")) for line in frame), frame
        if frame[0].startswith(":"):
            assert frame in ([": ready"], [": heartbeat"]), frame
            continue
        assert len(frame) == 2 and frame[0].startswith("event: ") and \
            frame[1].startswith("data: "), frame
        event = json.loads(frame[1][len("data: "):])
        assert frame[0] == f"event: {event['type']}"
        assert set(event) == {"version", "id", "type", "occurred_at", "data"}
        assert event["version"] == 1 and event["id"].startswith("evt_")
        when(event["occurred_at"])
    assert stream.error is None


def test_types_filter(server: ServerProcess, open_stream: Callable[..., RawStream]) -> None:
    created_only = open_stream(types="message.created")
    updated_only = open_stream(types=" message.updated , typing.changed")
    first = send(server, phone(205, "00"))
    with server.client() as api:
        wait_for(lambda: api.get("/api/status", params={"handle": first}).json()["status"]
                 == "READ")
    # Events reach a stream in log order: once the marker's event is in, so are the first's.
    marker = send(server, phone(205, "08"))
    created = created_only.wait_for_event(lambda e: handle_of(e) == marker)
    assert {e["type"] for e in created} == {"message.created"}
    assert [handle_of(e) for e in created] == [first, marker]
    updated = updated_only.wait_for_event(is_status(marker, "SENT"))
    assert {e["type"] for e in updated} == {"message.updated"}
    assert [e["data"]["status"] for e in updated if handle_of(e) == first] == [
        "SENT", "DELIVERED", "READ"]


def test_an_unknown_type_is_a_400_json_error_naming_it(server: ServerProcess) -> None:
    with server.client() as api:
        answer = api.get("/api/v2/events", params={"types": "message.created,line.exploded"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["status"] == "ERROR" and body["error_code"] == 4000
    assert body["message"].startswith("`types` has unknown event type(s) line.exploded;")


def test_missing_credentials_are_a_401_json_error(server: ServerProcess) -> None:
    answer = httpx.get(server.url + "/api/v2/events", headers={"accept": "text/event-stream"})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["status"] == "ERROR"


# ---------------------------------------------------------------------------------------------
# accounts, disconnects


def test_two_accounts_never_see_each_others_events(
    server: ServerProcess, open_stream: Callable[..., RawStream],
    other_account: tuple[str, str],
) -> None:
    key_id, secret = other_account
    mine, theirs = open_stream(), open_stream(key_id=key_id, secret=secret)
    my_phone, their_phone = phone(206, "06"), phone(207, "06")  # both echo back
    my_handle = send(server, my_phone, "mine")
    mine.wait_for_event(lambda e: e["type"] == "message.received")
    their_handle = send(server, their_phone, "theirs", key_id, secret)
    theirs.wait_for_event(lambda e: e["type"] == "message.received")
    # Each account's marker comes after all of the other's events in the log.
    my_marker = send(server, phone(206, "08"), "marker")
    their_marker = send(server, phone(207, "08"), "marker", key_id, secret)
    mine_seen = mine.wait_for_event(lambda e: handle_of(e) == my_marker)
    theirs_seen = theirs.wait_for_event(lambda e: handle_of(e) == their_marker)

    def numbers(seen: list[dict]) -> set[str]:  # a contact event names its number `phone`
        return {e["data"].get("number") or e["data"]["phone"] for e in seen}

    assert numbers(mine_seen) == {my_phone, phone(206, "08")}
    assert numbers(theirs_seen) == {their_phone, phone(207, "08")}
    assert {e["data"]["accountEmail"] for e in mine_seen
            if e["type"].startswith("message.")} == {"admin@bluewire.local"}
    assert {e["data"]["accountEmail"] for e in theirs_seen
            if e["type"].startswith("message.")} == {OTHER_EMAIL}
    assert my_handle in {handle_of(e) for e in mine_seen}
    assert their_handle in {handle_of(e) for e in theirs_seen}
    assert not {e["id"] for e in mine_seen} & {e["id"] for e in theirs_seen}


def test_a_client_that_disconnects_is_unsubscribed(
    server: ServerProcess, open_stream: Callable[..., RawStream],
) -> None:
    def closed_count() -> int:
        return server.log().count("ended (client disconnected)")

    before = closed_count()
    leaving = RawStream(server)
    wait_for(lambda: leaving.first_bytes)
    leaving.close()
    wait_for(lambda: closed_count() > before)
    # The server keeps serving, and other streams keep getting events.
    staying = open_stream()
    handle = send(server, phone(208, "01"))
    staying.wait_for_event(is_status(handle, "DELIVERED"))
    log = server.log()
    assert "Traceback" not in log and "ERROR" not in log, log


# ---------------------------------------------------------------------------------------------
# the CLI


def read_line(pipe: Any, timeout: float = 10.0) -> str:
    """The next line of an unbuffered pipe (a buffered one could hold the line already read
    from the OS, and `select` would wait for it in vain)."""
    ready, _, _ = select.select([pipe], [], [], timeout)
    assert ready, f"no output within {timeout}s"
    return pipe.readline().decode()


def start_cli(server: ServerProcess, *args: str) -> subprocess.Popen[bytes]:
    env = {**server.env, "BLUEWIRE_URL": server.url, "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "bluewire", "events", *args],
                            cwd=server.workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, bufsize=0, preexec_fn=default_sigint)


def test_cli_prints_events_as_json_lines_and_stops_on_ctrl_c(server: ServerProcess) -> None:
    cli = start_cli(server, "--jsonl", "--types", "message.created")
    try:
        assert "connected" in read_line(cli.stderr)
        handle = send(server, phone(209, "01"), "for the cli")
        event = json.loads(read_line(cli.stdout))
        assert event["type"] == "message.created"
        assert event["data"]["message_handle"] == handle
        assert event["data"]["content"] == "for the cli"
        assert event["version"] == 1 and event["id"].startswith("evt_")
        cli.send_signal(signal.SIGINT)
        assert cli.wait(10) == 0
        assert b"Traceback" not in cli.stderr.read()
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()


# ---------------------------------------------------------------------------------------------
# rotation and shutdown (a server of their own)


ROTATE_S = 3  # long enough for the test to send while the CLI's next stream is open


@pytest.fixture
def rotating_server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path, env={
        "BLUEWIRE_SSE_MAX_SECONDS": str(ROTATE_S),
        "BLUEWIRE_SSE_HEARTBEAT_MS": str(HEARTBEAT_MS),
        "BLUEWIRE_LOG_LEVEL": "info",
    }).start()
    yield process
    process.stop()


def test_streams_rotate_and_the_cli_reconnects(rotating_server: ServerProcess) -> None:
    started = time.monotonic()  # before the request: the server's clock starts on it
    stream = RawStream(rotating_server)
    wait_for(lambda: stream.ended_cleanly or stream.error, timeout=10)
    assert stream.ended_cleanly, stream.error
    assert ROTATE_S - 0.1 <= time.monotonic() - started < ROTATE_S + 5
    assert stream.lines[:2] == [": ready", ""]
    stream.close()

    cli = start_cli(rotating_server)
    try:
        assert "connected" in read_line(cli.stderr)
        wait_for(lambda: "reconnected" in read_line(cli.stderr), timeout=10)
        handle = send(rotating_server, phone(210, "01"), "after rotation")
        line = read_line(cli.stdout)
        if "contact.created" in line:  # the first message to a number makes it a contact
            line = read_line(cli.stdout)
        assert "message.created" in line and "after rotation" in line and handle in line
        cli.send_signal(signal.SIGINT)
        assert cli.wait(10) == 0
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()


def test_open_streams_end_cleanly_and_promptly_when_the_server_stops(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, env={"BLUEWIRE_LOG_LEVEL": "info"}).start()
    try:
        streams = [RawStream(server) for _ in range(3)]
        for stream in streams:
            wait_for(lambda stream=stream: stream.first_bytes)
        started = time.monotonic()
        assert server.terminate() in (0, -15)  # uvicorn re-raises the signal once stopped
        # uvicorn would wait 10 s for open responses before cancelling them.
        assert time.monotonic() - started < 6
        for stream in streams:
            wait_for(lambda stream=stream: stream.ended_cleanly or stream.error)
            assert stream.ended_cleanly, stream.error
            stream.close()
        log = server.log()
        assert log.count("ended (server stopping)") == 3
        assert "graceful shutdown exceeded" not in log and "ERROR" not in log, log
    finally:
        server.stop()


def test_the_endpoint_is_in_the_openapi_document(server: ServerProcess) -> None:
    document = httpx.get(server.url + "/openapi.json").json()
    operation = document["paths"]["/api/v2/events"]["get"]
    stream = operation["responses"]["200"]["content"]["text/event-stream"]
    assert stream["schema"]["$ref"].endswith("/AccountEvent")
    assert [p["name"] for p in operation["parameters"]] == ["types"]
    assert {"400", "401"} <= set(operation["responses"])
    event = document["components"]["schemas"]["AccountEvent"]
    assert event["required"] == ["version", "id", "type", "occurred_at", "data"]
    assert sorted(event["properties"]["type"]["enum"]) == sorted(EVENT_TYPES)
