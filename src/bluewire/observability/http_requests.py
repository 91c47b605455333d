"""HTTP request metrics, kept in plain dicts and lists: a count by method, route and status, and a
latency histogram by route.

They are updated on every request, send-message included, on the event loop's thread: a dict
look-up, an addition and a bisect, a fraction of what prometheus_client's locked Counter and
Histogram cost there. The Prometheus families are built only when scraped.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString


class RouteLatency(Collector):
    def __init__(self, name: str, documentation: str, buckets: Sequence[float]) -> None:
        self._name = name
        self._documentation = documentation
        self._bounds = tuple(sorted(buckets))  # upper bounds; +Inf is implied
        self._counts: dict[str, list[int]] = {}  # route → observations per bucket, +Inf last
        self._sums: dict[str, float] = {}

    def observe(self, route: str, seconds: float) -> None:
        counts = self._counts.get(route)
        if counts is None:
            counts = self._counts[route] = [0] * (len(self._bounds) + 1)
            self._sums[route] = 0.0
        counts[bisect_left(self._bounds, seconds)] += 1  # a bucket holds values <= its bound
        self._sums[route] += seconds

    def describe(self) -> list[Metric]:
        return [HistogramMetricFamily(self._name, self._documentation, labels=["route"])]

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self._name, self._documentation, labels=["route"])
        labels = [floatToGoString(bound) for bound in self._bounds] + ["+Inf"]
        for route, counts in list(self._counts.items()):
            cumulative, buckets = 0, []
            for label, count in zip(labels, list(counts), strict=True):
                cumulative += count
                buckets.append((label, cumulative))
            family.add_metric([route], buckets, self._sums.get(route, 0.0))
        yield family


class RequestCounts(Collector):
    def __init__(self, name: str, documentation: str) -> None:
        self._name = name  # without `_total`, which the family adds
        self._documentation = documentation
        self._counts: dict[tuple[str, str, int], int] = {}

    def count(self, method: str, route: str, status: int) -> None:
        key = (method, route, status)
        self._counts[key] = self._counts.get(key, 0) + 1

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for (method, route, status), count in list(self._counts.items()):
            family.add_metric([method, route, str(status)], count)
        yield family

    def _family(self) -> CounterMetricFamily:
        return CounterMetricFamily(self._name, self._documentation,
                                   labels=["method", "route", "status"])
