"""Counters and histograms kept in plain dicts and lists: the HTTP request count by method, route
and status, request latency by route, and the event-to-delivery latency.

They are updated on every request, send-message included, on the event loop's thread: a dict
look-up, an addition and a bisect, a fraction of what prometheus_client's locked Counter and
Histogram cost there. The Prometheus families are built only when scraped.

Each can also be written out as plain data (`state`) and add up the states of other processes
(`merge`): `bluewire serve --workers N` shares them that way (see shared.py).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

Key = tuple[str | int, ...]  # label values; ints (a status) are turned to text when scraped
State = list[list[Any]]  # JSON-able: [[label values, ...numbers]]
Others = Callable[[str], list[State]]  # the states other processes published under a name


def _no_others(_name: str) -> list[State]:
    return []


class Histograms(Collector):
    """A histogram per combination of `labels`' values."""

    def __init__(self, name: str, documentation: str, buckets: Sequence[float],
                 labels: Sequence[str] = (), others: Others = _no_others) -> None:
        self.name = name
        self._documentation = documentation
        self._labels = list(labels)
        self._bounds = tuple(sorted(buckets))  # upper bounds; +Inf is implied
        self._counts: dict[Key, list[int]] = {}  # key → observations per bucket, +Inf last
        self._sums: dict[Key, float] = {}
        self.others = others

    def observe(self, key: Key, seconds: float) -> None:
        counts = self._counts.get(key)
        if counts is None:
            counts = self._counts[key] = [0] * (len(self._bounds) + 1)
            self._sums[key] = 0.0
        counts[bisect_left(self._bounds, seconds)] += 1  # a bucket holds values <= its bound
        self._sums[key] += seconds

    def state(self) -> State:
        return [[list(key), list(counts), self._sums.get(key, 0.0)]
                for key, counts in list(self._counts.items())]

    def merged(self) -> dict[Key, tuple[list[int], float]]:
        """This process's observations plus those the others published."""
        total = {key: (list(counts), self._sums.get(key, 0.0))
                 for key, counts in list(self._counts.items())}
        if not self._labels:  # one histogram: exported, at zero, before its first observation
            total.setdefault((), ([0] * (len(self._bounds) + 1), 0.0))
        for state in self.others(self.name):
            for key_values, counts, total_s in state:
                key = tuple(key_values)
                if len(counts) != len(self._bounds) + 1:
                    continue  # another version's buckets: not comparable
                mine, mine_s = total.get(key, ([0] * len(counts), 0.0))
                total[key] = ([a + b for a, b in zip(mine, counts, strict=True)],
                              mine_s + total_s)
        return total

    def describe(self) -> list[Metric]:
        return [HistogramMetricFamily(self.name, self._documentation, labels=self._labels)]

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self._documentation, labels=self._labels)
        bucket_labels = [floatToGoString(bound) for bound in self._bounds] + ["+Inf"]
        for key, (counts, total_s) in sorted(self.merged().items()):
            cumulative, buckets = 0, []
            for label, count in zip(bucket_labels, counts, strict=True):
                cumulative += count
                buckets.append((label, cumulative))
            family.add_metric(list(key), buckets, total_s)
        yield family


class Counts(Collector):
    """A counter per combination of `labels`' values."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str],
                 others: Others = _no_others) -> None:
        self.name = name  # without `_total`, which the family adds
        self._documentation = documentation
        self._labels = list(labels)
        self._counts: dict[Key, int] = {}
        self.others = others

    def count(self, key: Key) -> None:
        self._counts[key] = self._counts.get(key, 0) + 1

    def state(self) -> State:
        return [[list(key), count] for key, count in list(self._counts.items())]

    def merged(self) -> dict[Key, int]:
        total = dict(self._counts)
        for state in self.others(self.name):
            for key_values, count in state:
                key = tuple(key_values)
                total[key] = total.get(key, 0) + int(count)
        return total

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for key, count in sorted(self.merged().items()):
            family.add_metric([str(value) for value in key], count)
        yield family

    def _family(self) -> CounterMetricFamily:
        return CounterMetricFamily(self.name, self._documentation, labels=self._labels)
