"""The official `sendblue` Python SDK, sync and async, against a real `bluewire serve` process.

Every test talks to its own sandbox phones (a distinct area code per test), so the list filters
and pagination totals of one test are not disturbed by the messages of another.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sendblue_api import (
    AsyncSendblueAPI,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    SendblueAPI,
)

from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, phone, wait_for

T = TypeVar("T")


def extra(model: Any) -> dict[str, Any]:
    """The response as the wire had it, extra keys (service, date_read, ...) included."""
    return model.to_dict(mode="json")


def when(text: str) -> datetime:
    """A wire timestamp (ISO 8601, UTC, `Z`) as an aware datetime."""
    assert isinstance(text, str) and text.endswith("Z"), text
    return datetime.fromisoformat(text)


async def async_wait_for(predicate: Callable[[], Awaitable[T]], within: float = 10.0,
                         interval: float = 0.02) -> T:
    """`wait_for` for async predicates: poll until truthy; that value, or AssertionError."""
    deadline = time.monotonic() + within
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {value!r})")
        await asyncio.sleep(interval)


@pytest.fixture
def client(server: ServerProcess) -> Iterator[SendblueAPI]:
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url,
                     max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def strict_client(server: ServerProcess) -> Iterator[SendblueAPI]:
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url, max_retries=0,
                     _strict_response_validation=True) as sdk:
        yield sdk


@pytest.fixture
async def aclient(server: ServerProcess) -> AsyncIterator[AsyncSendblueAPI]:
    async with AsyncSendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url,
                                max_retries=0) as sdk:
        yield sdk


# ---------------------------------------------------------------------------------------------
# sync client


def test_send_then_get_status_until_read(client: SendblueAPI) -> None:
    number = phone(212, "00")
    sent = client.messages.send(number=number, from_number=SANDBOX_LINE, content="hello sdk")
    assert sent.status == "QUEUED"
    assert sent.message_handle
    assert sent.number == number
    assert sent.from_number == SANDBOX_LINE
    assert sent.content == "hello sdk"
    assert sent.is_outbound is True
    assert sent.message_type == "message"
    assert sent.error_code is None
    assert sent.date_created is not None and sent.date_created.tzinfo is not None
    assert sent.date_updated == sent.date_created

    def read():  # type: ignore[no-untyped-def]
        status = client.messages.get_status(handle=sent.message_handle)
        return status if status.status == "READ" else None

    status = wait_for(read)
    assert status.message_handle == sent.message_handle
    assert status.number == number
    assert status.date_created == sent.date_created
    assert status.date_updated is not None and status.date_updated >= sent.date_created
    assert extra(status)["service"] == "iMessage"


def test_list_filters_order_and_pagination(client: SendblueAPI) -> None:
    quiet, echo = phone(310, "01"), phone(310, "06")
    handles = [client.messages.send(number=quiet, from_number=SANDBOX_LINE,
                                    content=f"quiet {i}").message_handle for i in range(5)]
    echo_sent = client.messages.send(number=echo, from_number=SANDBOX_LINE, content="ping")

    everything = client.messages.list(number=quiet)
    assert everything.status == "OK"
    assert everything.pagination is not None
    assert everything.pagination.total == 5
    assert everything.pagination.has_more is False
    assert {row.message_handle for row in everything.data or []} == set(handles)
    assert all(row.number == quiet and row.is_outbound for row in everything.data or [])

    # Pages of two, oldest first, stitch together into the order the messages were sent in.
    stitched: list[str] = []
    for offset, size, more in ((0, 2, True), (2, 2, True), (4, 1, False)):
        page = client.messages.list(number=quiet, limit=2, offset=offset, order_by="createdAt",
                                    order_direction="asc")
        assert page.pagination is not None
        assert (page.pagination.total, page.pagination.limit, page.pagination.offset) == \
            (5, 2, offset)
        assert page.pagination.has_more is more
        assert len(page.data or []) == size
        stitched += [row.message_handle or "" for row in page.data or []]
    assert stitched == handles

    newest_first = client.messages.list(number=quiet, order_by="createdAt",
                                        order_direction="desc")
    assert [row.message_handle for row in newest_first.data or []] == handles[::-1]

    beyond = client.messages.list(number=quiet, limit=2, offset=10)
    assert beyond.data == []
    assert beyond.pagination is not None
    assert beyond.pagination.total == 5 and beyond.pagination.has_more is False

    # 01 ends at DELIVERED; SUCCESS is the SDK's synonym for it.
    wait_for(lambda: client.messages.list(number=quiet, status="DELIVERED").pagination.total == 5)
    assert client.messages.list(number=quiet, status="SUCCESS").pagination.total == 5
    assert client.messages.list(number=quiet, status="QUEUED").pagination.total == 0

    # Time filters: the SDK sends datetimes as isoformat() with +00:00.
    since = everything.data[2].date_sent if everything.data else None
    assert since is not None and since.tzinfo is not None
    expected = {row.message_handle for row in everything.data or []
                if row.date_sent and row.date_sent >= since}
    after = client.messages.list(number=quiet, created_at_gte=since)
    assert {row.message_handle for row in after.data or []} == expected
    before = client.messages.list(number=quiet, created_at_lte=since - timedelta(days=1))
    assert before.pagination is not None and before.pagination.total == 0
    recent = client.messages.list(number=quiet,
                                  updated_at_gte=datetime.now(UTC) - timedelta(hours=1))
    assert recent.pagination is not None and recent.pagination.total == 5

    by_update = client.messages.list(number=quiet, order_by="updatedAt", order_direction="asc")
    updated = [row.date_updated for row in by_update.data or []]
    assert updated == sorted(updated)  # type: ignore[type-var]

    # Inbound: the echo phone answers after delivery.
    def inbound():  # type: ignore[no-untyped-def]
        return client.messages.list(number=echo, is_outbound="false").data

    rows = wait_for(inbound)
    assert [row.content for row in rows] == ["echo: ping"]
    assert rows[0].is_outbound is False
    assert rows[0].status == "RECEIVED"
    assert rows[0].from_number == echo
    assert rows[0].to_number == SANDBOX_LINE
    outbound = client.messages.list(number=echo, is_outbound="true")
    assert [row.message_handle for row in outbound.data or []] == [echo_sent.message_handle]
    assert client.messages.list(number=quiet, is_outbound="false").pagination.total == 0
    assert client.messages.list(number=quiet, is_outbound="true").pagination.total == 5


def test_retrieve_a_message(client: SendblueAPI) -> None:
    number = phone(617, "00")
    sent = client.messages.send(number=number, from_number=SANDBOX_LINE, content="retrieve me")

    def read():  # type: ignore[no-untyped-def]
        found = client.messages.retrieve(sent.message_handle or "")
        return found if extra(found)["data"]["status"] == "READ" else None

    found = wait_for(read)
    assert found.status == "OK"
    assert found.data is not None
    row = found.data
    assert row.message_handle == sent.message_handle
    assert row.content == "retrieve me"
    assert row.number == number
    assert row.to_number == number
    assert row.from_number == SANDBOX_LINE
    assert row.sendblue_number == SANDBOX_LINE
    assert row.is_outbound is True
    assert row.service == "iMessage"
    assert row.account_email
    assert row.date_sent == sent.date_created
    wire = extra(found)["data"]
    delivered, read_at = when(wire["date_delivered"]), when(wire["date_read"])
    assert row.date_sent <= delivered <= read_at == row.date_updated

    with pytest.raises(NotFoundError):
        client.messages.retrieve("no-such-handle")
    with pytest.raises(NotFoundError):
        client.messages.get_status(handle="no-such-handle")


def test_campaign_and_tags_through_extra_body(client: SendblueAPI) -> None:
    number = phone(619, "00")
    sent = client.messages.send(number=number, from_number=SANDBOX_LINE, content="tagged",
                                extra_body={"campaign": "sdk-launch", "tags": ["vip", "west"]})
    assert (extra(sent)["campaign"], extra(sent)["tags"]) == ("sdk-launch", ["vip", "west"])
    group = client.groups.send_message(numbers=[number, phone(619, "01")],
                                       from_number=SANDBOX_LINE, content="tagged group",
                                       extra_body={"campaign": "sdk-launch", "tags": ["west"]})
    assert (extra(group)["campaign"], extra(group)["tags"]) == ("sdk-launch", ["west"])
    found = client.messages.retrieve(sent.message_handle or "")
    assert extra(found)["data"]["tags"] == ["vip", "west"]
    listed = client.messages.list(extra_query={"campaign": "sdk-launch", "tag": "vip"})
    assert [row.message_handle for row in listed.data or []] == [sent.message_handle]
    with pytest.raises(BadRequestError, match="`tags`"):
        client.messages.send(number=number, from_number=SANDBOX_LINE, content="too many",
                             extra_body={"tags": [str(i) for i in range(11)]})


def test_lookup_number(client: SendblueAPI) -> None:
    sms = client.lookups.lookup_number(number=phone(646, "02"))
    assert (sms.number, sms.service) == (phone(646, "02"), "SMS")
    default = client.lookups.lookup_number(number="+16465551234")
    assert (default.number, default.service) == ("+16465551234", "iMessage")
    magic_default = client.lookups.lookup_number(number=phone(646, "00"))
    assert magic_default.service == "iMessage"


def test_base_url_from_environment(server: ServerProcess,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDBLUE_API_BASE_URL", server.url)
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, max_retries=0) as sdk:
        assert str(sdk.base_url).rstrip("/") == server.url
        sent = sdk.messages.send(number=phone(718, "00"), from_number=SANDBOX_LINE,
                                 content="via env")
        assert sent.status == "QUEUED"
        assert sdk.messages.get_status(handle=sent.message_handle).message_handle == \
            sent.message_handle
        assert sdk.lookups.lookup_number(number=phone(718, "02")).service == "SMS"


def test_strict_validation_accepts_every_response(strict_client: SendblueAPI) -> None:
    # 01 ends at DELIVERED: every status it passes through is within the SDK's literals
    # (READ is not).
    number = phone(202, "01")
    sent = strict_client.messages.send(number=number, from_number=SANDBOX_LINE,
                                       content="strict")
    assert sent.status == "QUEUED"
    handle = sent.message_handle
    assert handle

    def delivered():  # type: ignore[no-untyped-def]
        status = strict_client.messages.get_status(handle=handle)
        return status if status.status == "DELIVERED" else None

    status = wait_for(delivered)
    assert status.message_handle == handle

    listed = strict_client.messages.list(number=number, limit=10, offset=0,
                                         order_by="createdAt", order_direction="desc",
                                         is_outbound="true")
    assert listed.pagination is not None and listed.pagination.total == 1
    assert listed.data is not None and listed.data[0].status == "DELIVERED"
    assert listed.data[0].service == "iMessage"

    found = strict_client.messages.retrieve(handle)
    assert found.data is not None and found.data.status == "DELIVERED"

    assert strict_client.lookups.lookup_number(number=phone(202, "02")).service == "SMS"
    assert strict_client.lookups.lookup_number(number="+12025551234").service == "iMessage"
    # RCS is "not iMessage" on the wire (the SDK's literal knows iMessage and SMS only).
    assert strict_client.lookups.lookup_number(number=phone(202, "03")).service == "SMS"
    assert strict_client.lookups.lookup_number(number="someone@example.com").service == "SMS"

    # An SMS message (02) ends at SENT, and a failed one (04) at ERROR: both strict-valid.
    sms = strict_client.messages.send(number=phone(202, "02"), from_number=SANDBOX_LINE,
                                      content="strict sms")
    failed = strict_client.messages.send(number=phone(202, "04"), from_number=SANDBOX_LINE,
                                         content="strict fail")
    wait_for(lambda: strict_client.messages.get_status(handle=sms.message_handle).status
             == "SENT")
    errored = wait_for(lambda: (s := strict_client.messages.get_status(
        handle=failed.message_handle)).status == "ERROR" and s)
    assert errored.error_code == 10001
    assert strict_client.messages.list(number=phone(202, "04"), status="ERROR") \
        .pagination.total == 1


def test_line_state_in_the_sdks_shape(strict_client: SendblueAPI) -> None:
    state = strict_client.lines.get_state()
    assert state.status == "OK"
    assert abs((datetime.now(UTC) - state.snapshot_at).total_seconds()) < 60
    line = next(entry for entry in state.data if entry.sendblue_number == SANDBOX_LINE)
    # The sandbox line is shared by every account of the server, and its connector always
    # serves it.
    assert line.assignment == "shared" and line.status == "ONLINE"
    assert line.worker_id == "sandbox"


def test_wrong_secret_is_an_authentication_error(server: ServerProcess) -> None:
    with SendblueAPI(api_key=KEY_ID, api_secret="not-the-secret", base_url=server.url,
                     max_retries=0) as sdk:
        with pytest.raises(AuthenticationError) as raised:
            sdk.messages.send(number=phone(303, "00"), from_number=SANDBOX_LINE, content="x")
        assert raised.value.status_code == 401
        with pytest.raises(AuthenticationError):
            sdk.messages.list()
    with SendblueAPI(api_key="no-such-key", api_secret=SECRET, base_url=server.url,
                     max_retries=0) as sdk, pytest.raises(AuthenticationError):
        sdk.lookups.lookup_number(number=phone(303, "00"))


def test_invalid_number_is_a_bad_request(client: SendblueAPI) -> None:
    with pytest.raises(BadRequestError) as raised:
        client.messages.send(number="not a number", from_number=SANDBOX_LINE, content="x")
    assert raised.value.status_code == 400
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error_code"] == 4000
    assert "number" in raised.value.body["error_message"]

    with pytest.raises(BadRequestError):
        client.messages.send(number="4155550100", from_number=SANDBOX_LINE, content="x")
    with pytest.raises(BadRequestError) as blocked:
        client.messages.send(number="911", from_number=SANDBOX_LINE, content="x")
    assert isinstance(blocked.value.body, dict)
    assert blocked.value.body["error_code"] == 4002
    with pytest.raises(BadRequestError):
        client.lookups.lookup_number(number="12")
    with pytest.raises(BadRequestError):
        client.messages.list(number="not a number")
    # Nothing was stored by the refused sends.
    assert client.messages.list(number=phone(303, "00")).pagination.total == 0


# ---------------------------------------------------------------------------------------------
# async client


async def test_async_send_status_retrieve_and_lookup(aclient: AsyncSendblueAPI) -> None:
    number = phone(415, "03")  # RCS: delivered, then read
    sent = await aclient.messages.send(number=number, from_number=SANDBOX_LINE,
                                       content="hello async")
    assert sent.status == "QUEUED"
    assert sent.number == number
    handle = sent.message_handle
    assert handle

    async def read():  # type: ignore[no-untyped-def]
        status = await aclient.messages.get_status(handle=handle)
        return status if status.status == "READ" else None

    status = await async_wait_for(read)
    assert extra(status)["service"] == "RCS"
    assert status.content == "hello async"

    found = await aclient.messages.retrieve(handle)
    assert found.data is not None
    assert found.data.message_handle == handle
    assert found.data.service == "RCS"
    wire = extra(found)["data"]
    assert wire["status"] == "READ"
    assert when(wire["date_delivered"]) <= when(wire["date_read"]) == found.data.date_updated

    sms, default = await asyncio.gather(
        aclient.lookups.lookup_number(number=phone(415, "02")),
        aclient.lookups.lookup_number(number="+14155551234"),
    )
    assert (sms.number, sms.service) == (phone(415, "02"), "SMS")
    assert (default.number, default.service) == ("+14155551234", "iMessage")

    with pytest.raises(NotFoundError):
        await aclient.messages.retrieve("no-such-handle")


async def test_async_concurrent_sends_then_list(aclient: AsyncSendblueAPI) -> None:
    number = phone(512, "00")
    sent = await asyncio.gather(*(
        aclient.messages.send(number=number, from_number=SANDBOX_LINE, content=f"burst {i}")
        for i in range(6)
    ))
    handles = {m.message_handle for m in sent}
    assert len(handles) == 6
    assert {m.status for m in sent} == {"QUEUED"}

    async def all_read():  # type: ignore[no-untyped-def]
        page = await aclient.messages.list(number=number)
        rows = page.data or []
        return len(rows) == 6 and all(extra(r)["status"] == "READ" for r in rows)

    await async_wait_for(all_read)

    pages = []
    for offset in (0, 4):
        page = await aclient.messages.list(number=number, limit=4, offset=offset,
                                           order_by="createdAt", order_direction="asc",
                                           is_outbound="true")
        assert page.pagination is not None
        assert page.pagination.total == 6
        assert page.pagination.has_more is (offset == 0)
        pages.append(page)
    listed = [row.message_handle for page in pages for row in page.data or []]
    assert len(listed) == 6 and set(listed) == handles
    created = [row.date_sent for page in pages for row in page.data or []]
    assert created == sorted(created)  # type: ignore[type-var]

    inbound = await aclient.messages.list(number=number, is_outbound="false")
    assert inbound.pagination is not None and inbound.pagination.total == 0


async def test_async_strict_validation(server: ServerProcess) -> None:
    async with AsyncSendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url,
                                max_retries=0, _strict_response_validation=True) as sdk:
        number = phone(206, "01")
        sent = await sdk.messages.send(number=number, from_number=SANDBOX_LINE,
                                       content="strict async")
        assert sent.status == "QUEUED"
        handle = sent.message_handle
        assert handle

        async def delivered():  # type: ignore[no-untyped-def]
            return (await sdk.messages.get_status(handle=handle)).status == "DELIVERED"

        await async_wait_for(delivered)
        listed = await sdk.messages.list(number=number, order_by="updatedAt",
                                         order_direction="asc", limit=5, offset=0)
        assert listed.pagination is not None and listed.pagination.total == 1
        assert listed.pagination.has_more is False
        found = await sdk.messages.retrieve(handle)
        assert found.data is not None and found.data.status == "DELIVERED"
        looked_up = await sdk.lookups.lookup_number(number=phone(206, "02"))
        assert looked_up.service == "SMS"
        state = await sdk.lines.get_state()
        assert [(line.sendblue_number, line.status) for line in state.data
                if line.sendblue_number == SANDBOX_LINE] == [(SANDBOX_LINE, "ONLINE")]


async def test_async_errors(server: ServerProcess, aclient: AsyncSendblueAPI) -> None:
    async with AsyncSendblueAPI(api_key=KEY_ID, api_secret="wrong", base_url=server.url,
                                max_retries=0) as sdk:
        with pytest.raises(AuthenticationError):
            await sdk.messages.send(number=phone(305, "00"), from_number=SANDBOX_LINE,
                                    content="x")
        with pytest.raises(AuthenticationError):
            await sdk.messages.get_status(handle="anything")
    with pytest.raises(BadRequestError) as raised:
        await aclient.messages.send(number="+1 (415) abc", from_number=SANDBOX_LINE,
                                    content="x")
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error_code"] in (4000, 4002)
    with pytest.raises(BadRequestError):
        await aclient.messages.send(number=phone(305, "00"), from_number="+19999999999",
                                    content="not my line")
    assert (await aclient.messages.list(number=phone(305, "00"))).pagination.total == 0
