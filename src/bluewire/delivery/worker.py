"""Claims due deliveries with a lease, POSTs them, and records every attempt.

Each attempt is signed with the secret its delivery's signer has when the delivery is claimed
(read with the claim, in one query per batch; opened through the box's cache), so a rotated
secret signs the next attempt.

Deliveries for the same message and URL are first attempted one after another in event order:
claims come in id order, and a delivery claimed while an earlier one for the same message and
URL is still being attempted in this process waits for it (and goes out the moment it is
answered). Across processes (PostgreSQL) the claim itself also holds a delivery back while an
earlier one is in flight elsewhere. Results are written in group commits; a process killed
before it recorded an attempt loses nothing: the lease runs out and the delivery is claimed
again (the receiver may see it twice, with the same `webhook-id`).

No receiver can hold up the others' webhooks: attempts in flight to one URL take at most half
of the worker's slots, and to a URL whose last attempt was slow (half the webhook timeout or
more, or no answer at all) at most an eighth; its due deliveries are left to later claims
meanwhile. Without this, a receiver that hangs fills every slot for one whole timeout after
another, and the deliveries of every other account wait behind it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from functools import partial
from urllib.parse import urlsplit

from ..domain.webhooks import RETRY_SCHEDULE_S, next_attempt_at, parse_retry_after
from ..store import deliveries as store
from ..store import webhooks as webhook_store
from ..store.deliveries import (
    BY_ACCOUNT,
    BY_ENDPOINT,
    CANCELLED,
    DELIVERED,
    FAILED,
    PENDING,
    AttemptResult,
    DeliveryJob,
)
from ..store.secret_box import SecretBox, SecretKeyError
from ..store.webhooks import Signing
from ..store.writer import Tx, Writer
from ..sweeping import SweepingWorker
from .clock import Clock
from .sender import Reply, WebhookSender

log = logging.getLogger(__name__)

GONE = 410
UNSIGNED = Signing(None, True)

Claimed = tuple[DeliveryJob, Signing]


class DeliveryWorker(SweepingWorker):
    def __init__(self, writer: Writer, sender: WebhookSender, clock: Clock, *,
                 lease_ms: int = 60_000, batch: int = 256, concurrency: int = 128,
                 sweep_ms: int = 500, schedule: Sequence[float] = RETRY_SCHEDULE_S,
                 on_gone: Callable[[], None] | None = None,
                 secret_box: SecretBox | None = None) -> None:
        super().__init__(sweep_ms)
        self._box = secret_box  # None: secrets are stored in clear (tests of the loop alone)
        self._writer = writer
        self._sender = sender
        self._clock = clock
        self._lease_ms = lease_ms
        self._batch = batch
        self._concurrency = concurrency
        self._schedule = tuple(schedule)
        self._on_gone = on_gone
        self._rng = random.Random()
        self._results: list[tuple[AttemptResult, int | None]] = []
        self._recorder: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._chains: dict[tuple[str, str], asyncio.Task[None]] = {}  # latest per message+URL
        self._gone: set[int] = set()  # endpoints that answered 410 Gone
        # A claim left due deliveries behind (their URL had no room): a recorded attempt wakes
        # the worker to claim them.
        self._left_for_later = False
        self._per_url: Counter[str] = Counter()  # tasks in flight (or waiting in a chain)
        self._url_limit = max(1, concurrency // 2)
        self._slow_url_limit = max(1, concurrency // 8)
        self._slow: set[str] = set()  # URLs whose last attempt was slow
        self._slow_ms = sender.timeout_s * 1000 / 2
        # Called with each job delivered and when (epoch ms), e.g. to observe its latency.
        self.on_delivered: Callable[[DeliveryJob, int], None] | None = None

    async def _round(self) -> None:
        """Claim and start every due delivery there is room in flight for."""
        while not self._stopping:
            free = self._concurrency - len(self._in_flight)
            if free <= 0:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            full = [url for url, count in self._per_url.items() if count >= self._limit(url)]
            limit = min(free, self._batch)
            jobs = await self._writer.submit(partial(self._claim, limit=limit, skip_urls=full))
            if full:
                self._left_for_later = True
            if not jobs:
                return
            self._beat()
            loop = asyncio.get_running_loop()
            over: list[int] = []  # claimed beyond their URL's room: handed back
            for key, group in _by_message_and_url(jobs):
                url = group[0][0].url
                if self._per_url[url] >= self._limit(url):
                    over.extend(job.id for job, _ in group)
                    continue
                before = self._chains.get(key) if key is not None else None
                task = loop.create_task(self._deliver_in_order(group, after=before))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
                self._per_url[url] += 1
                task.add_done_callback(partial(self._end_url, url))
                if key is not None:
                    self._chains[key] = task
                    task.add_done_callback(partial(self._end_chain, key))
            if over:
                self._left_for_later = True
                await self._writer.submit(partial(store.release_claims, ids=over))
            if len(jobs) < limit:
                return  # every due delivery was claimed: what comes due next wakes the worker

    def _limit(self, url: str) -> int:
        return self._slow_url_limit if url in self._slow else self._url_limit

    def _end_url(self, url: str, _task: asyncio.Task[None]) -> None:
        self._per_url[url] -= 1
        if self._per_url[url] <= 0:
            del self._per_url[url]

    def _claim(self, tx: Tx, limit: int, skip_urls: Sequence[str] = ()) -> list[Claimed]:
        """Due jobs, each with the secret (as stored) that signs this attempt."""
        now = self._clock.claim_now_ms(tx)
        jobs = store.claim_due(tx, now, now + self._lease_ms, limit, skip_urls)
        endpoint_ids = {job.endpoint_id for job in jobs
                        if job.signer == BY_ENDPOINT and job.endpoint_id is not None}
        account_ids = {job.account_id for job in jobs if job.signer is not None}
        endpoints, owners = webhook_store.signing_of(tx, endpoint_ids, account_ids)
        return [(job, _signing(job, endpoints, owners)) for job in jobs]

    def _end_chain(self, key: tuple[str, str], task: asyncio.Task[None]) -> None:
        if self._chains.get(key) is task:
            del self._chains[key]

    async def _deliver_in_order(self, group: list[Claimed],
                                after: asyncio.Task[None] | None = None) -> None:
        if after is not None:
            await asyncio.wait([after])
        for job, signing in group:
            if job.endpoint_id in self._gone:
                # Cancelled by the transaction that recorded the 410, or enqueued just after it
                # by an endpoint cache that had not heard yet: cancelled now, never POSTed.
                await self._writer.submit(partial(
                    store.cancel_pending, endpoint_ids=[job.endpoint_id],
                    reason="endpoint disabled: it answered 410 Gone"))
                return
            try:
                secret = signing.secret if self._box is None \
                    else self._box.open_optional(signing.secret)
            except SecretKeyError as exc:  # never sent unsigned: retried, as a failure
                self._record(job, Reply(0.0, None, str(exc), None, None))
                continue
            reply = await self._sender.post(
                job.url, job.payload.encode(), webhook_id=job.event_id, secret=secret,
                timestamp=self._clock.now_ms() // 1000, send_secret=signing.send_secret_header)
            if reply.latency_ms >= self._slow_ms:
                self._slow.add(job.url)
            else:
                self._slow.discard(job.url)
            self._record(job, reply)
            if reply.status_code == GONE and job.endpoint_id is not None:
                # The endpoint is being disabled: what is still pending for it is cancelled
                # by the transaction that records this attempt; never POST it.
                self._gone.add(job.endpoint_id)
                return

    def _record(self, job: DeliveryJob, reply: Reply) -> None:
        now = self._clock.now_ms()
        gone_endpoint: int | None = None
        if reply.status_code is not None and 200 <= reply.status_code < 300:
            state, retry_at = DELIVERED, None
        elif reply.status_code == GONE:
            state, retry_at = FAILED, None
            gone_endpoint = job.endpoint_id
        elif reply.refused:  # refused by this server's policy: every retry would be too
            state, retry_at = FAILED, None
        else:
            retry_at = next_attempt_at(job.attempts + 1, now, schedule=self._schedule,
                                       retry_after_s=parse_retry_after(reply.retry_after),
                                       rng=self._rng)
            state = PENDING if retry_at is not None else FAILED
        error = reply.error
        if error is None and state != DELIVERED:
            error = f"HTTP {reply.status_code}"
        if state == DELIVERED:
            if self.on_delivered is not None:
                self.on_delivered(job, now)
        elif state == FAILED:
            log.warning("webhook %s of %s to %s given up after %d attempts: %s", job.event_id,
                        job.event_type, _shown(job.url), job.attempts + 1, error,
                        extra={} if job.message_handle is None
                        else {"message_handle": job.message_handle})
        result = AttemptResult(job.id, now, reply.latency_ms, reply.status_code, error,
                               reply.response, state, retry_at)
        self._results.append((result, gone_endpoint))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.get_running_loop().create_task(self._flush_results())

    async def _flush_results(self) -> None:
        while self._results:
            results, self._results = self._results, []
            try:
                await self._writer.submit(lambda tx, results=results: self._write(tx, results))
            except Exception:
                log.exception("could not record %d delivery attempts; retrying", len(results))
                self._results[:0] = results
                await asyncio.sleep(0.5)
                continue
            # Recorded, these attempts may let a claim take what earlier ones left: a delivery
            # held back for its URL's room, or (PostgreSQL) for this one's first attempt, or a
            # retry. Otherwise the next round waits for new deliveries or the sweep.
            left, self._left_for_later = self._left_for_later, False
            if left or self._writer.is_postgresql or any(
                    result.state == PENDING for result, _ in results):
                self.wake()

    def _write(self, tx: Tx, results: list[tuple[AttemptResult, int | None]]) -> None:
        store.record_attempts(tx, [result for result, _ in results])
        now = self._clock.now_ms()
        for endpoint_id in {gone for _, gone in results if gone is not None}:
            webhook_store.disable_endpoint(tx, endpoint_id, "the receiver answered 410 Gone",
                                           now)
            store.cancel_pending(tx, [endpoint_id], "endpoint disabled: it answered 410 Gone")
            if self._on_gone is not None:
                tx.after_commit(self._on_gone)

    async def stop(self) -> None:
        """Stop claiming, let attempts in flight finish, and record them."""
        self._begin_stop()
        if self._in_flight:
            await asyncio.wait(self._in_flight)
        while self._recorder is not None and not self._recorder.done():
            await asyncio.shield(self._recorder)

def _signing(job: DeliveryJob, endpoints: dict[int, Signing],
             owners: dict[int, Signing]) -> Signing:
    """What signs this attempt: the endpoint's own secret, else the account's global one (a
    delivery whose endpoint was removed since goes unsigned); `sb-signing-secret` only if
    both the account and the endpoint allow it."""
    owner = owners.get(job.account_id, UNSIGNED)
    if job.signer == BY_ACCOUNT:
        return owner
    if job.signer != BY_ENDPOINT or job.endpoint_id is None:
        return UNSIGNED
    endpoint = endpoints.get(job.endpoint_id)
    if endpoint is None:
        return UNSIGNED
    return Signing(endpoint.secret or owner.secret,
                   endpoint.send_secret_header and owner.send_secret_header)


def _shown(url: str) -> str:
    """A URL as logged: without credentials or query, either of which may carry a secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _by_message_and_url(
    jobs: list[Claimed],
) -> list[tuple[tuple[str, str] | None, list[Claimed]]]:
    """Jobs grouped by message and URL, each group in id (event) order; others alone."""
    groups: dict[tuple[str, str], list[Claimed]] = defaultdict(list)
    alone: list[tuple[tuple[str, str] | None, list[Claimed]]] = []
    for claimed in jobs:  # jobs come in id order, which is event order
        job = claimed[0]
        if job.message_handle is None:
            alone.append((None, [claimed]))
        else:
            groups[(job.message_handle, job.url)].append(claimed)
    return [*groups.items(), *alone]


__all__ = ["CANCELLED", "DeliveryWorker"]
