"""Sends with an `Idempotency-Key`: a repeat is answered the first answer and sends nothing,
whether it comes after the first, at the same time, or to another process on the same
PostgreSQL database; the same key with another body is a 422; keys are per account; a refused
request keeps nothing, so its corrected retry may use the same key. Each test uses its own
area code, so it can count its messages by number."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bluewire.domain.errors import ApiError
from bluewire.domain.idempotency import KEY_TTL_MS, IdempotencyKey, StoredAnswer
from bluewire.services.idempotency import Answer, IdempotencyKeys, take
from bluewire.store.database import Database, now_ms
from bluewire.store.idempotency import stored as stored_answer
from bluewire.store.writer import Tx, Writer

from ..databases import Engine
from ..server import SANDBOX_LINE, ServerProcess, phone

OTHER_EMAIL = "idempotency-other@example.com"
OTHER_KEY, OTHER_SECRET = "idempotency-other-key", "idempotency-other-secret"


@pytest.fixture(scope="module")
def other(server: ServerProcess) -> Iterator[httpx.Client]:
    """A client of a second account, on the same line."""
    server.cli("accounts", "create", OTHER_EMAIL)
    server.cli("keys", "create", "--account", OTHER_EMAIL, "--key-id", OTHER_KEY,
               "--secret", OTHER_SECRET)
    server.cli("lines", "add", SANDBOX_LINE, "--account", OTHER_EMAIL)
    with server.client(OTHER_KEY, OTHER_SECRET) as client:
        yield client


def send(client: httpx.Client, key: str | None, path: str = "/api/send-message",
         **body: Any) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(path, json={"from_number": SANDBOX_LINE, **body}, headers=headers)


def stored(server: ServerProcess, number: str) -> int:
    return int(server.sql("SELECT count(*) AS n FROM messages WHERE number = ?", number)[0]["n"])


def listed(api: httpx.Client, number: str) -> list[dict[str, Any]]:
    answer = api.get("/api/v2/messages", params={"number": number})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def keys_kept(server: ServerProcess, key: str) -> int:
    return int(server.sql("SELECT count(*) AS n FROM idempotency_keys WHERE idempotency_key = ?",
                          key)[0]["n"])


def test_a_repeat_is_answered_the_first_answer_and_sends_nothing(
        server: ServerProcess, api: httpx.Client) -> None:
    number, key = phone(201), str(uuid.uuid4())
    first = send(api, key, number=number, content="once")
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    again = send(api, key, number=number, content="once")
    assert again.status_code == first.status_code
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert stored(server, number) == 1
    assert [m["message_handle"] for m in listed(api, number)] == [first.json()["message_handle"]]


def test_the_same_fields_as_a_form_or_in_another_order_are_the_same_request(
        server: ServerProcess, api: httpx.Client) -> None:
    number, key = phone(202), str(uuid.uuid4())
    first = api.post("/api/send-message", headers={"Idempotency-Key": key},
                     content=f'{{"content": "hi", "number": "{number}", '
                             f'"from_number": "{SANDBOX_LINE}"}}')
    assert first.status_code == 200, first.text
    form = f"number={number}&from_number={SANDBOX_LINE}&content=hi".replace("+", "%2B")
    again = api.post("/api/send-message", content=form, headers={
        "Idempotency-Key": key, "content-type": "application/x-www-form-urlencoded"})
    assert again.status_code == 200, again.text
    assert again.json()["message_handle"] == first.json()["message_handle"]
    assert stored(server, number) == 1


def test_the_same_key_with_another_body_is_a_422_naming_the_header(
        server: ServerProcess, api: httpx.Client) -> None:
    number, key = phone(203), str(uuid.uuid4())
    assert send(api, key, number=number, content="first").status_code == 200
    other = send(api, key, number=number, content="second")
    assert other.status_code == 422, other.text
    body = other.json()
    assert body["error_code"] == 4000 and body["error_key"] == "IDEMPOTENCY_KEY_REUSED"
    assert "Idempotency-Key" in body["message"]
    assert stored(server, number) == 1


def test_keys_are_per_account(server: ServerProcess, api: httpx.Client,
                              other: httpx.Client) -> None:
    number, key = phone(204), str(uuid.uuid4())
    mine = send(api, key, number=number, content="same key")
    theirs = send(other, key, number=number, content="same key")
    assert mine.status_code == theirs.status_code == 200, (mine.text, theirs.text)
    assert mine.json()["message_handle"] != theirs.json()["message_handle"]
    assert stored(server, number) == 2
    assert keys_kept(server, key) == 2


def test_concurrent_repeats_send_once_and_answer_one_handle(
        server: ServerProcess, api: httpx.Client) -> None:
    number = phone(205)
    for attempt in range(5):
        key = str(uuid.uuid4())
        answers = post_at_once([api.base_url] * 4, key, number=number, content=f"race {attempt}")
        assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
        assert len({a.json()["message_handle"] for a in answers}) == 1
    assert stored(server, number) == 5
    assert len(listed(api, number)) == 5


def post_at_once(urls: list[Any], key: str, path: str = "/api/send-message",
                 **body: Any) -> list[httpx.Response]:
    """POST the same keyed request to each of `urls` from threads released together."""
    ready = threading.Barrier(len(urls))
    answers: list[httpx.Response | None] = [None] * len(urls)

    def post(n: int) -> None:
        with httpx.Client(base_url=str(urls[n]), timeout=30, headers={
                "sb-api-key-id": "test-key-id", "sb-api-secret-key": "test-secret-key"}) as c:
            ready.wait()
            answers[n] = send(c, key, path, **body)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(urls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(a is not None for a in answers)
    return [a for a in answers if a is not None]


def test_a_refused_request_keeps_nothing_and_its_correction_may_reuse_the_key(
        server: ServerProcess, api: httpx.Client) -> None:
    number, key = phone(206), str(uuid.uuid4())
    refused = send(api, key, number=number)  # no content
    assert refused.status_code == 400, refused.text
    assert keys_kept(server, key) == 0
    corrected = send(api, key, number=number, content="now with content")
    assert corrected.status_code == 200, corrected.text
    assert send(api, key, number=number, content="now with content").json() == corrected.json()
    assert stored(server, number) == 1


@pytest.mark.parametrize(("key", "mention"), [
    ("k" * 256, "this one has 256"),
    ("", "this one has 0"),
    ("caf\u00e9", "outside them"),
])
def test_a_malformed_key_is_a_400_saying_what_to_fix(
        server: ServerProcess, api: httpx.Client, key: str, mention: str) -> None:
    number = phone(207)
    refused = api.post("/api/send-message", json={"number": number, "content": "x",
                                                  "from_number": SANDBOX_LINE},
                       headers=[("Idempotency-Key", key.encode("latin-1"))])
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert body["error_code"] == 4000 and body["error_key"] == "INVALID_IDEMPOTENCY_KEY"
    assert "Idempotency-Key" in body["message"] and "1 to 255" in body["message"]
    assert mention in body["message"]
    assert stored(server, number) == 0


def test_a_key_of_255_characters_is_taken(server: ServerProcess, api: httpx.Client) -> None:
    number = phone(208)
    assert send(api, "k" * 255, number=number, content="long key").status_code == 200


def test_group_sends_take_a_key_too(server: ServerProcess, api: httpx.Client) -> None:
    members, key = [phone(209, "01"), phone(209, "02")], str(uuid.uuid4())
    path = "/api/send-group-message"
    first = send(api, key, path, numbers=members, content="hi all")
    assert first.status_code == 200, first.text
    again = send(api, key, path, numbers=members, content="hi all")
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert send(api, key, path, numbers=members, content="changed").status_code == 422
    # The key is per account, not per endpoint: a 1:1 send with it is another request.
    assert send(api, key, number=members[0], content="hi all").status_code == 422
    groups = server.sql("SELECT count(*) AS n FROM messages WHERE group_id = ?",
                        first.json()["group_id"])
    assert groups[0]["n"] == 1
    answers = post_at_once([api.base_url] * 3, str(uuid.uuid4()), path, numbers=members,
                           content="together")
    assert len({a.json()["message_handle"] for a in answers}) == 1
    together = server.sql("SELECT count(*) AS n FROM messages WHERE content = ?", "together")
    assert together[0]["n"] == 1


def test_the_key_is_in_the_api_document(server: ServerProcess) -> None:
    document = httpx.get(f"{server.url}/openapi.json").json()
    for path in ("/api/send-message", "/api/send-group-message"):
        operation = document["paths"][path]["post"]
        (header,) = [p for p in operation["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key" and header["required"] is False
        assert header["schema"]["maxLength"] == 255
        assert {"409", "422"} <= set(operation["responses"])


def test_a_repeat_to_another_process_on_the_database_is_answered_the_first_answer(
        server: ServerProcess, api: httpx.Client, tmp_path: Path, engine: Engine) -> None:
    if engine.name != "postgresql":
        pytest.skip("one process serves a SQLite file")
    second = ServerProcess(tmp_path, {"BLUEWIRE_DATABASE_URL": server.database_url}).start()
    try:
        number, key = phone(210), str(uuid.uuid4())
        first = send(api, key, number=number, content="one of two")
        with second.client() as elsewhere:
            again = send(elsewhere, key, number=number, content="one of two")
        assert again.status_code == 200, again.text
        assert again.json() == first.json()
        for attempt in range(5):
            answers = post_at_once([server.url, second.url] * 2, str(uuid.uuid4()),
                                   number=number, content=f"across {attempt}")
            assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
            assert len({a.json()["message_handle"] for a in answers}) == 1
        assert stored(server, number) == 6
    finally:
        second.stop()


class KeptAnswers:
    """A stand-in for the database under IdempotencyKeys: the answer kept, if any."""

    def __init__(self) -> None:
        self.kept: StoredAnswer | None = None

    async def read_async(self, _fn: Any) -> StoredAnswer | None:
        return self.kept


def test_a_repeat_while_the_first_is_in_flight_waits_for_it_then_gets_a_409() -> None:
    async def scenario() -> None:
        database = KeptAnswers()
        keys = IdempotencyKeys(database, None, wait_s=0.2)  # type: ignore[arg-type]
        key = IdempotencyKey("k", "hash")
        release = asyncio.Event()
        sent: list[str] = []

        async def slow() -> dict[str, Any]:
            sent.append("first")
            await release.wait()
            database.kept = StoredAnswer("hash", 200, {"message_handle": "h1"})
            return {"message_handle": "h1"}

        async def repeat() -> dict[str, Any]:
            sent.append("repeat")
            return {"message_handle": "h2"}

        first = asyncio.create_task(keys.send(1, key, slow))
        await asyncio.sleep(0)
        with pytest.raises(ApiError) as refused:  # still in flight after the wait: 409
            await keys.send(1, key, repeat)
        assert refused.value.http_status == 409
        assert refused.value.headers == {"retry-after": "1"}
        waiting = asyncio.create_task(keys.send(1, key, repeat))
        await asyncio.sleep(0.05)
        release.set()
        assert (await first).body == {"message_handle": "h1"}
        replayed = await waiting  # waited for the first, then answered its answer
        assert replayed.replayed and replayed.body == {"message_handle": "h1"}
        assert sent == ["first"]

    asyncio.run(scenario())


def test_a_repeat_waiting_on_a_refused_first_is_processed_itself() -> None:
    async def scenario() -> None:
        keys = IdempotencyKeys(KeptAnswers(), None)  # type: ignore[arg-type]
        key = IdempotencyKey("k", "hash")
        release = asyncio.Event()

        async def refused() -> dict[str, Any]:
            await release.wait()
            raise ApiError(400, "no content")

        async def corrected() -> dict[str, Any]:
            return {"message_handle": "h2"}

        first = asyncio.create_task(keys.send(1, key, refused))
        await asyncio.sleep(0)
        second = asyncio.create_task(keys.send(1, key, corrected))
        await asyncio.sleep(0.01)
        release.set()
        with pytest.raises(ApiError):
            await first
        assert (await second) == Answer(200, {"message_handle": "h2"})

    asyncio.run(scenario())


async def test_a_key_is_forgotten_after_24_hours(tmp_path: Path, engine: Engine) -> None:
    """An expired key is ignored at once (a new send takes it over) and swept in batches."""
    url = engine.create(tmp_path)
    database = Database(url)
    database.migrate()
    writer = Writer(database)
    writer.start(asyncio.get_running_loop())
    try:
        now = now_ms()
        old = now - KEY_TTL_MS - 1

        def setup(tx: Tx) -> None:
            tx.query("INSERT INTO accounts (email, created_at) VALUES (?, ?) RETURNING id",
                     ("forget@example.com", now))

        await writer.submit(setup)
        account = database.read(lambda conn: conn.exec_driver_sql(
            "SELECT id FROM accounts WHERE email = 'forget@example.com'").scalar_one())
        for n in range(5):
            kept = await writer.submit(lambda tx, n=n: take(
                tx, account, IdempotencyKey(f"old-{n}", "a"), f"h{n}", {"n": n}, old))
            assert kept is None
        fresh = IdempotencyKey("fresh", "a")
        assert await writer.submit(lambda tx: take(tx, account, fresh, "hf", {}, now)) is None
        again = await writer.submit(lambda tx: take(tx, account, fresh, "hx", {}, now))
        assert again == StoredAnswer("a", 200, {})
        # Expired: not found on read, and taken over by a new request with another body.
        since = now - KEY_TTL_MS
        assert database.read(lambda conn: stored_answer(conn, account, "old-0", since)) is None
        taken = IdempotencyKey("old-0", "b")
        assert await writer.submit(lambda tx: take(tx, account, taken, "hn", {"new": 1},
                                                   now)) is None
        keys = IdempotencyKeys(database, writer, forget_batch=2)
        assert await keys.forget_expired() == 4  # old-1 .. old-4, two batches and one more
        left = database.read(lambda conn: conn.exec_driver_sql(
            "SELECT idempotency_key FROM idempotency_keys ORDER BY idempotency_key").scalars()
            .all())
        assert left == ["fresh", "old-0"]
    finally:
        writer.stop()
        database.dispose()
