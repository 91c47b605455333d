"""The console's sign-in rules that need no server: how failures are limited over time,
where a sign-in may lead, and how long a session may idle."""

from __future__ import annotations

import pytest

from bluewire.config import Settings
from bluewire.console.pages.signin import safe_next
from bluewire.services.failure_limits import FailureLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_a_minute_then_a_wait_until_the_oldest_leaves_the_window() -> None:
    clock = Clock()
    limiter = FailureLimiter(limit=5, window_s=60, clock=clock)
    for second in range(5):
        assert limiter.retry_after("address:a") == 0
        clock.now = 1000.0 + second * 10
        limiter.failed("address:a")
    assert limiter.retry_after("address:a") == 20  # the first failure, at 1000, leaves at 1060
    assert limiter.retry_after("address:b") == 0
    clock.now = 1060.0
    assert limiter.retry_after("address:a") == 0
    limiter.failed("address:a")
    assert limiter.retry_after("address:a") == 10  # the next oldest, at 1010, leaves at 1070


def test_the_longest_wait_of_the_subjects_applies_and_success_clears_them() -> None:
    clock = Clock()
    limiter = FailureLimiter(limit=2, window_s=60, clock=clock)
    limiter.failed("address:a", "key:k")
    clock.now += 30
    limiter.failed("address:b", "key:k")
    assert limiter.retry_after("address:c", "key:k") == 30
    assert limiter.retry_after("address:a") == 0
    limiter.succeeded("address:c", "key:k")
    assert limiter.retry_after("address:c", "key:k") == 0


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bluewire.services.failure_limits.MAX_SUBJECTS", 3)
    limiter = FailureLimiter(limit=1, window_s=60, clock=Clock())
    for name in "abcd":
        limiter.failed(name)
    assert limiter.retry_after("a") == 0  # forgotten first
    assert all(limiter.retry_after(name) == 60 for name in "bcd")


@pytest.mark.parametrize(("wanted", "lands"), [
    ("/console/lines", "/console/lines"),
    ("/console/messages?number=%2B1415", "/console/messages?number=%2B1415"),
    (None, "/console/conversations"),
    ("", "/console/conversations"),
    ("https://evil.example/console/", "/console/conversations"),
    ("//evil.example/console/", "/console/conversations"),
    ("/console/\\evil", "/console/conversations"),
    ("/consolex/", "/console/conversations"),
    ("/docs", "/console/conversations"),
    ("/console/login?next=/console/lines", "/console/conversations"),
    ("/console/lines\nSet-Cookie: x", "/console/conversations"),
])
def test_a_sign_in_leads_only_to_a_page_of_the_console(wanted: str | None, lands: str) -> None:
    assert safe_next("/console", wanted) == lands


def test_the_idle_time_is_a_positive_number_of_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env().console_idle_minutes == 60
    monkeypatch.setenv("BLUEWIRE_CONSOLE_IDLE_MINUTES", "15")
    assert Settings.from_env().console_idle_minutes == 15
    for bad, says in (("0", "more than 0"), ("soon", "whole number")):
        monkeypatch.setenv("BLUEWIRE_CONSOLE_IDLE_MINUTES", bad)
        with pytest.raises(SystemExit, match=says):
            Settings.from_env()
