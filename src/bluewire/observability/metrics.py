"""This process's Prometheus metrics (GET /metrics), in a registry of its own.

Counted as things happen: HTTP requests by method, route template and status, and their latency
by route; the time from an event to its webhook's successful delivery. Under `--workers N` these
are the sums of all workers (shared.py). Read when scraped: the store's gauges
(store_collector.py) and how long ago each claim loop of the answering worker last made
progress.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from ..domain.handles import event_time_ms
from ..services.health import Pulse
from ..store.database import Database, now_ms
from ..store.deliveries import DeliveryJob
from ..store.gauges import read_gauges
from .families import Counts, Histograms
from .shared import SharedCounts
from .store_collector import StoreCollector

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
HTTP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                5.0, 10.0)
# Retries span about two days, so the tail buckets reach that far.
DELIVERY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
                    1800.0, 3600.0, 21600.0, 86400.0, 172800.0)


class WorkerRounds(Collector):
    """Seconds since each claim loop last completed a round (or claimed a batch)."""

    def __init__(self, workers: Mapping[str, Pulse]) -> None:
        self._workers = dict(workers)

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        now = time.monotonic()
        for name, worker in self._workers.items():
            last = worker.last_round_at or worker.running_since
            if last is not None:
                family.add_metric([name], max(0.0, now - last))
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily("bluewire_worker_last_round_age_seconds",
                                 "Seconds since the worker's claim loop last made progress",
                                 labels=["worker"])


class Metrics:
    """`shared_dir`: where the workers of `--workers N` share their counts (None: alone)."""

    def __init__(self, database: Database, workers: Mapping[str, Pulse],
                 shared_dir: Path | None = None) -> None:
        self._database = database
        # Every family is built at scrape from plain counts (families.py), without the
        # `*_created` samples prometheus_client's own metric classes would add.
        self.registry = CollectorRegistry()
        self._requests = Counts("bluewire_http_requests", "HTTP requests answered",
                                ["method", "route", "status"])
        self._latency = Histograms("bluewire_http_request_duration_seconds",
                                   "Time to answer an HTTP request, by route template",
                                   HTTP_BUCKETS, ["route"])
        self._delivery_latency = Histograms(
            "bluewire_webhook_delivery_latency_seconds",
            "From an event to the successful delivery of its webhook", DELIVERY_BUCKETS)
        counted = [self._requests, self._latency, self._delivery_latency]
        for family in counted:
            self.registry.register(family)
        self.shared = SharedCounts(shared_dir, counted) if shared_dir is not None else None
        self._store = StoreCollector()
        self.registry.register(self._store)
        self.registry.register(WorkerRounds(workers))

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answer (the App's `observe` hook): on every request, so kept cheap."""
        self._requests.count((method, route, status))
        self._latency.observe((route,), seconds)

    def webhook_delivered(self, job: DeliveryJob, delivered_at_ms: int) -> None:
        """The delivery worker's `on_delivered` hook. The event's time is the one in its
        UUIDv7 id, stamped when the event was written: no store read on the delivery path."""
        recorded_at = event_time_ms(job.event_id)
        if recorded_at is not None:
            self._delivery_latency.observe((), max(0, delivered_at_ms - recorded_at) / 1000)

    async def render(self) -> bytes:
        """The exposition text. The store is read in a thread; the rest on the loop."""
        read_at = now_ms()
        try:
            gauges = await asyncio.to_thread(self._database.read,
                                             partial(read_gauges, now=read_at))
        except Exception:
            log.warning("metrics: reading the store failed", exc_info=True)
            self._store.snapshot = None
        else:
            self._store.snapshot = (read_at, gauges)
        if self.shared is not None:
            await asyncio.to_thread(self.shared.refresh)
        return generate_latest(self.registry)
