"""The metrics read from the store at scrape time: messages by status, webhook deliveries pending
and failed, and claim lag (how long the oldest due work has waited unclaimed).

The store is read off the event loop before each scrape (`Metrics.render`), and the snapshot is
handed to this collector; without a snapshot (the store did not answer) only
`bluewire_store_up 0` is exported.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..domain.statuses import Status
from ..store.gauges import StoreGauges


def _lag_s(now_ms: int, since_ms: int | None) -> float:
    return 0.0 if since_ms is None else max(0, now_ms - since_ms) / 1000


class StoreCollector(Collector):
    def __init__(self) -> None:
        self.snapshot: tuple[int, StoreGauges] | None = None  # (read at, epoch ms; gauges)

    def describe(self) -> list[Metric]:
        return list(_families())

    def collect(self) -> Iterator[Metric]:
        up, messages, pending, failed, dispatch_lag, delivery_lag = _families()
        snapshot = self.snapshot
        if snapshot is None:
            up.add_metric([], 0)
            yield up
            return
        read_at, gauges = snapshot
        up.add_metric([], 1)
        counts = {status.value: 0 for status in Status}
        counts.update(gauges.messages_by_status)
        for status, count in sorted(counts.items()):
            messages.add_metric([status], count)
        pending.add_metric([], gauges.deliveries_pending)
        failed.add_metric([], gauges.deliveries_failed)
        dispatch_lag.add_metric([], _lag_s(read_at, gauges.oldest_due_message))
        delivery_lag.add_metric([], _lag_s(read_at, gauges.oldest_due_delivery))
        yield from (up, messages, pending, failed, dispatch_lag, delivery_lag)


def _families() -> tuple[GaugeMetricFamily, ...]:
    return (
        GaugeMetricFamily("bluewire_store_up",
                          "1 if the store answered this scrape's queries, else 0"),
        GaugeMetricFamily("bluewire_messages",
                          "Messages by status, counted in the store at scrape",
                          labels=["status"]),
        GaugeMetricFamily(
            "bluewire_webhook_deliveries_pending",
            "Webhook deliveries not delivered and not given up (due, or waiting to retry)"),
        GaugeMetricFamily(
            "bluewire_webhook_deliveries_failed",
            "Webhook deliveries given up (retries exhausted, or the endpoint answered 410)"),
        GaugeMetricFamily(
            "bluewire_dispatch_claim_lag_seconds",
            "Age of the oldest message due for dispatch but not claimed; 0 when none"),
        GaugeMetricFamily(
            "bluewire_delivery_claim_lag_seconds",
            "Age of the oldest webhook delivery due but not claimed; 0 when none"),
    )
