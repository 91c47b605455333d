"""The dispatcher asks the store for due messages only while there may be some.

A gateway in this process, on a real store (each engine), driven through its real HTTP app;
its sweep is an hour, so every claim counted was asked for by new work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bluewire.app import Gateway
from bluewire.config import Settings
from bluewire.store.schema import messages

from ..databases import Engine
from ..waiting import count_taken, eventually

KEY_ID, SECRET = "key_claims", "secret_claims_0123456789"
PHONE = "+14155550100"


@pytest.fixture
async def gateway(tmp_path: Path, engine: Engine) -> AsyncIterator[Gateway]:
    settings = Settings.from_env(database_url=engine.create(tmp_path), api_key_id=KEY_ID,
                                 api_secret_key=SECRET, secret_key="k" * 40,
                                 sweep_interval_ms=3_600_000, sandbox_deliver_ms=60_000,
                                 sandbox_read_ms=60_000)
    gateway = Gateway(settings)
    gateway.prepare()
    gateway.accounts.bootstrap(settings.bootstrap_email, settings.sandbox_line, KEY_ID, SECRET)
    await gateway.start()
    if gateway.listener is not None:  # PostgreSQL: once listening, every worker looks once
        dispatcher = gateway.dispatcher
        await eventually(lambda: dispatcher.last_round_at is not None, within_s=10)
    try:
        yield gateway
    finally:
        await gateway.stop()


def counted_claims(gateway: Gateway) -> list[int]:
    """How many messages each of the dispatcher's claims on the store took, from now on."""
    gateway.dispatcher._claim, taken = count_taken(  # type: ignore[method-assign]
        gateway.dispatcher._claim)
    return taken


def statuses(gateway: Gateway) -> list[str]:
    with gateway.database.engine.connect() as conn:
        return list(conn.scalars(select(messages.c.status).order_by(messages.c.id)))


async def test_a_claim_that_took_every_due_message_is_not_followed_by_an_empty_one(
        gateway: Gateway) -> None:
    taken = counted_claims(gateway)
    transport = httpx.ASGITransport(app=gateway.asgi())
    headers = {"sb-api-key-id": KEY_ID, "sb-api-secret-key": SECRET}
    async with httpx.AsyncClient(transport=transport, base_url="http://bluewire",
                                 headers=headers) as client:
        for n in range(3):
            answer = await client.post("/api/send-message",
                                       json={"number": PHONE, "content": f"hello {n}",
                                             "from_number": gateway.settings.sandbox_line})
            assert answer.status_code == 200, answer.text
            await eventually(lambda n=n: statuses(gateway)[n] != "QUEUED", within_s=10)
    await asyncio.sleep(0.05)
    assert statuses(gateway) == ["SENT"] * 3
    assert taken == [1, 1, 1]  # one claim for each message, none that came back empty
