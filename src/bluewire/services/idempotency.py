"""Sends made safe to retry with an `Idempotency-Key` (see domain/idempotency.py).

Three layers make a key answer once, whatever the timing:

- a key already kept is answered from the store before the request is looked at again, so a
  repeat gets the first answer even if the request would now be refused (the contact opted
  out since, the line's rate is used up);
- a repeat that arrives while the first is still being processed in this process waits for it
  (up to `IN_FLIGHT_WAIT_S`, then a 409 with Retry-After), and then is answered from the store;
- the send keeps the key in the transaction that accepts its message (`take`, called by the
  sending services in their writer operation). Of two requests with one key that both got that
  far (in two processes on one PostgreSQL database, or in one), the first to commit keeps the
  key and its message; the other finds the key there, writes nothing, and answers the first's
  answer. So a message never exists without its key, nor a key without its message.

Keys are forgotten 24 hours after their send: older rows are ignored at once, and deleted in
batches by `run`, a sweep of its own (a large delete never holds up the dispatcher's rounds).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from ..domain.idempotency import (
    IN_FLIGHT_WAIT_S,
    KEY_TTL_MS,
    IdempotencyKey,
    KeptBefore,
    StoredAnswer,
    key_reused,
    parse_key,
    request_hash,
    still_processing,
)
from ..store import idempotency as store
from ..store.database import Database, now_ms
from ..store.writer import Tx, Writer

log = logging.getLogger(__name__)

FORGET_EVERY_S = 600.0
FORGET_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


Send = Callable[[], Awaitable[dict[str, Any]]]


def take(tx: Tx, account_id: int, key: IdempotencyKey, message_handle: str,
         answer: dict[str, Any], now: int) -> StoredAnswer | None:
    """In a send's writer operation, before it writes anything: keep `key` with `answer` (the
    send goes on), or the answer already kept with it (the send writes nothing, and raises
    `KeptBefore` with it once its operation has returned)."""
    return store.take(tx, account_id, key.key, key.request_hash, message_handle, 200, answer,
                      now, now - KEY_TTL_MS)


class IdempotencyKeys:
    def __init__(self, database: Database, writer: Writer, *,
                 wait_s: float = IN_FLIGHT_WAIT_S, forget_every_s: float = FORGET_EVERY_S,
                 forget_batch: int = FORGET_BATCH) -> None:
        self._database = database
        self._writer = writer
        self._wait_s = wait_s
        self._forget_every_s = forget_every_s
        self._forget_batch = forget_batch
        # (account, key) → done once the request with that key being processed here ends.
        self._in_flight: dict[tuple[int, str], asyncio.Future[None]] = {}

    @staticmethod
    def key_of(header: str | None, endpoint: str, body: msgspec.Struct) -> IdempotencyKey | None:
        """The request's key (None without the header), or the 400 for a malformed one."""
        key = parse_key(header)
        return None if key is None else IdempotencyKey(key, request_hash(endpoint, body))

    async def send(self, account_id: int, key: IdempotencyKey, send: Send) -> Answer:
        """`send` once per (account, key): the first answer, or the one kept with the key."""
        slot = (account_id, key.key)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        while True:
            running = self._in_flight.get(slot)
            if running is not None:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise still_processing()
                try:
                    await asyncio.wait_for(asyncio.shield(running), remaining)
                except TimeoutError:
                    raise still_processing() from None
                continue
            kept = await self._database.read_async(
                functools.partial(store.stored, account_id=account_id, key=key.key,
                                  since=now_ms() - KEY_TTL_MS))
            if kept is not None:
                return _replay(kept, key)
            if slot not in self._in_flight:  # no other request took the slot while we read
                break
        done = loop.create_future()
        self._in_flight[slot] = done
        try:
            return Answer(200, await send())
        except KeptBefore as kept:  # another process kept the key first
            return _replay(kept.answer, key)
        finally:
            del self._in_flight[slot]
            done.set_result(None)

    async def run(self) -> None:
        """Delete the keys kept more than 24 hours ago, every `forget_every_s`."""
        while True:
            await asyncio.sleep(self._forget_every_s)
            try:
                await self.forget_expired()
            except Exception as exc:  # the database is away: the next sweep deletes them
                log.warning("expired idempotency keys could not be deleted (%s)", exc)

    async def forget_expired(self) -> int:
        """Delete every expired key, a batch per transaction; how many."""
        before = now_ms() - KEY_TTL_MS
        total = 0
        while True:
            deleted = await self._writer.submit(
                lambda tx: store.forget(tx, before, self._forget_batch))
            total += deleted
            if deleted < self._forget_batch:
                return total


def _replay(kept: StoredAnswer, key: IdempotencyKey) -> Answer:
    if kept.request_hash != key.request_hash:
        raise key_reused()
    return Answer(kept.status, kept.body, replayed=True)
