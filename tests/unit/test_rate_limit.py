"""The per-line token bucket, driven by a fake clock."""

from __future__ import annotations

import pytest

from bluewire.domain.rate_limit import TokenBucket


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def take_all_granted(bucket: TokenBucket, count: int) -> bool:
    return all(bucket.take() == 0.0 for _ in range(count))


def test_burst_defaults_to_the_rate(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=5, clock=clock)
    assert bucket.burst == 5
    assert take_all_granted(bucket, 5)
    assert bucket.take() > 0


def test_burst_is_at_least_one_for_slow_rates(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=0.5, clock=clock)
    assert bucket.burst == 1.0
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(2.0)


def test_an_explicit_burst_is_honoured(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=1, burst=3, clock=clock)
    assert take_all_granted(bucket, 3)
    assert bucket.take() == pytest.approx(1.0)


def test_the_wait_is_the_time_until_a_whole_token_is_free(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=4, clock=clock)
    assert take_all_granted(bucket, 4)
    assert bucket.take() == pytest.approx(0.25)
    clock.advance(0.1)
    assert bucket.take() == pytest.approx(0.15)


def test_a_refused_take_consumes_nothing(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=2, clock=clock)
    assert take_all_granted(bucket, 2)
    assert bucket.take() == pytest.approx(0.5)
    assert bucket.take() == pytest.approx(0.5)
    clock.advance(0.5)
    assert bucket.take() == 0.0


def test_tokens_refill_at_the_rate(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=8, clock=clock)
    assert take_all_granted(bucket, 8)
    clock.advance(0.375)
    assert take_all_granted(bucket, 3)
    assert bucket.take() == pytest.approx(0.125)


def test_refill_never_exceeds_the_burst(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=3, clock=clock)
    clock.advance(3600)
    assert take_all_granted(bucket, 3)
    assert bucket.take() == pytest.approx(1 / 3)


def test_waiting_exactly_the_returned_time_is_enough(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=7, clock=clock)
    assert take_all_granted(bucket, 7)
    for _ in range(20):
        wait = bucket.take()
        assert wait > 0
        clock.advance(wait + 1e-9)
        assert bucket.take() == 0.0


def test_a_steady_stream_at_the_rate_is_never_refused(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=50, clock=clock)
    for _ in range(500):
        clock.advance(1 / 50)
        assert bucket.take() == 0.0


def test_the_clock_is_read_when_the_bucket_is_made(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=1, clock=clock)
    assert bucket.take() == 0.0
    clock.advance(0.5)
    assert bucket.take() == pytest.approx(0.5)
