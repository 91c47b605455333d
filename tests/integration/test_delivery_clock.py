"""The delivery worker on a controllable clock: retries wait for the schedule, not for sleeps.

A real worker, a real store (on each engine) and a real receiver on loopback; only time is ours
to move.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import insert, select

from bluewire.delivery.clock import ManualClock
from bluewire.delivery.sender import WebhookSender
from bluewire.delivery.worker import DeliveryWorker
from bluewire.domain.webhooks import JITTER
from bluewire.store import deliveries as store
from bluewire.store.database import Database
from bluewire.store.schema import accounts, deliveries
from bluewire.store.writer import Writer

from ..databases import Engine
from ..waiting import count_taken, eventually

SCHEDULE = (5.0, 60.0)  # seconds: long enough that only the clock can make them pass


class Receiver:
    """Answers with the queued statuses in turn (then 200), and counts what arrives."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.arrived: list[str] = []
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.arrived.append(request.headers["webhook-id"])
        self.changed.set()
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        return web.Response(status=status, headers=headers, text="noted")

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.arrived) < count:
                self.changed.clear()
                await self.changed.wait()


class Rig:
    def __init__(self, database: Database, writer: Writer, worker: DeliveryWorker,
                 clock: ManualClock, receiver: Receiver, url: str,
                 sender: WebhookSender) -> None:
        self.database, self.writer, self.worker, self.sender = database, writer, worker, sender
        self.clock, self.receiver, self.url = clock, receiver, url

    async def add_delivery(self, *event_ids: str) -> None:
        """Enqueue a delivery for each event id, in one transaction, and wake the worker."""
        def op(tx):  # type: ignore[no-untyped-def]
            for event_id in event_ids:
                store.add_delivery(tx, account_id=1, event_id=event_id,
                                   event_type="message.updated", endpoint_id=None, url=self.url,
                                   signer=None, message_handle=None,
                                   payload='{"status": "SENT"}', now=self.clock.now_ms())
        await self.writer.submit(op)
        self.worker.wake()

    def delivered(self) -> int:
        with self.database.engine.connect() as conn:
            return len(conn.execute(select(deliveries.c.id)
                                    .where(deliveries.c.state == "delivered")).all())

    async def wait_delivered(self, count: int) -> None:
        await eventually(lambda: self.delivered() >= count, within_s=10)

    def count_claims(self) -> list[int]:
        """How many deliveries each of the worker's claims on the store took, from now on."""
        self.worker._claim, taken = count_taken(self.worker._claim)  # type: ignore[method-assign]
        return taken

    def delivery(self) -> dict[str, object]:
        with self.database.engine.connect() as conn:
            return dict(conn.execute(select(deliveries)).one()._mapping)

    def advance(self, seconds: float) -> None:
        """Let time pass; the worker's sweep would notice, so wake it as the sweep would."""
        self.clock.advance(seconds)
        self.worker.wake()

    async def settle(self) -> None:
        """Let the worker look for due work and record what it did."""
        self.worker.wake()
        for _ in range(20):
            await asyncio.sleep(0.01)


@pytest.fixture
async def rig(tmp_path: Path, engine: Engine) -> AsyncIterator[Rig]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    database = Database(engine.create(tmp_path))
    database.migrate()
    with database.engine.begin() as conn:
        conn.execute(insert(accounts), [{"id": 1, "email": "a@x.com", "created_at": 0}])
    writer = Writer(database)
    writer.start(asyncio.get_running_loop())
    clock = ManualClock(start_ms=1_700_000_000_000)
    sender = WebhookSender(allow_private=True)
    await sender.start()
    # A sweep interval far longer than any test: the worker acts only when woken.
    worker = DeliveryWorker(writer, sender, clock, schedule=SCHEDULE, sweep_ms=600_000)
    worker._rng = random.Random(7)
    task = asyncio.create_task(worker.run())
    yield Rig(database, writer, worker, clock, receiver, f"http://127.0.0.1:{port}/hook", sender)
    await worker.stop()
    task.cancel()
    await sender.stop()
    writer.stop()
    database.dispose()
    await runner.cleanup()


async def test_a_failed_delivery_is_retried_only_when_its_scheduled_time_comes(rig: Rig) -> None:
    rig.receiver.answers = [(500, {})]
    await rig.add_delivery("evt_a")
    await rig.receiver.wait_for(1)
    await rig.settle()
    failed = rig.delivery()
    assert failed["state"] == "pending" and failed["attempts"] == 1
    wait_ms = failed["next_attempt_at"] - rig.clock.now_ms()  # type: ignore[operator]
    assert SCHEDULE[0] * (1 - JITTER) * 1000 <= wait_ms <= SCHEDULE[0] * (1 + JITTER) * 1000

    rig.advance(wait_ms / 1000 - 0.5)  # not yet
    await rig.settle()
    assert rig.receiver.arrived == ["evt_a"]

    rig.advance(1.0)  # now it is due
    await rig.receiver.wait_for(2)
    await rig.settle()
    delivered = rig.delivery()
    assert delivered["state"] == "delivered" and delivered["attempts"] == 2
    assert rig.receiver.arrived == ["evt_a", "evt_a"]  # the same webhook-id both times


async def test_retry_after_holds_the_next_attempt_back_past_the_schedule(rig: Rig) -> None:
    rig.receiver.answers = [(429, {"Retry-After": "30"})]
    await rig.add_delivery("evt_b")
    await rig.receiver.wait_for(1)
    await rig.settle()
    waiting = rig.delivery()
    assert waiting["next_attempt_at"] - rig.clock.now_ms() == 30_000  # type: ignore[operator]
    rig.advance(SCHEDULE[0] * (1 + JITTER) + 1)  # the schedule alone would be due
    await rig.settle()
    assert len(rig.receiver.arrived) == 1
    rig.advance(30)
    await rig.receiver.wait_for(2)


async def test_when_the_schedule_is_spent_the_delivery_fails_for_good(rig: Rig) -> None:
    rig.receiver.answers = [(503, {}), (503, {}), (503, {})]
    await rig.add_delivery("evt_c")
    for attempt in range(1, len(SCHEDULE) + 2):
        await rig.receiver.wait_for(attempt)
        await rig.settle()
        rig.advance(SCHEDULE[-1] * (1 + JITTER) + 1)
    await rig.settle()
    final = rig.delivery()
    assert final["state"] == "failed"
    assert final["attempts"] == len(SCHEDULE) + 1
    assert final["next_attempt_at"] is None
    assert final["last_status"] == 503
    rig.advance(3600)
    await rig.settle()
    assert len(rig.receiver.arrived) == len(SCHEDULE) + 1


async def test_a_claim_that_takes_every_due_delivery_is_the_rounds_only_one(rig: Rig) -> None:
    """Neither an empty claim after it nor the recording of the attempts asks the store again:
    at a moderate rate those were most of the worker's transactions. (On PostgreSQL a recorded
    attempt may free a delivery another process held back, so it does ask again.)"""
    taken = rig.count_claims()
    await rig.add_delivery("evt_1", "evt_2", "evt_3")
    await rig.receiver.wait_for(3)
    await rig.wait_delivered(3)
    await rig.add_delivery("evt_4")  # new work wakes it again
    await rig.wait_delivered(4)
    await asyncio.sleep(0.05)
    if rig.writer.is_postgresql:
        assert taken[0] == 3 and sum(taken) == 4
    else:
        assert taken == [3, 1]


async def test_deliveries_left_for_a_busy_url_go_out_as_its_attempts_end(rig: Rig) -> None:
    """With room for one attempt in flight to the URL, a claim leaves the others behind; each
    recorded attempt brings the next one, without waiting for the (hour-long) sweep."""
    await rig.worker.stop()
    worker = DeliveryWorker(rig.writer, rig.sender, rig.clock, schedule=SCHEDULE,
                            sweep_ms=600_000, concurrency=2)  # one attempt in flight per URL
    task = asyncio.create_task(worker.run())
    try:
        await rig.add_delivery("evt_1", "evt_2", "evt_3")
        worker.wake()
        await rig.receiver.wait_for(3)
        await rig.wait_delivered(3)
        assert rig.receiver.arrived == ["evt_1", "evt_2", "evt_3"]
    finally:
        await worker.stop()
        task.cancel()
