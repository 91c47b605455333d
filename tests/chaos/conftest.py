"""Chaos tests: a fault injected into a running bluewire (its database restarted, its disk
full, its clock stepped back, webhook receivers that stall, hang or reset), then proof that
nothing accepted was lost.

Each test tells its `chaos` report what it did and what it found; the session's summary prints
one line per test, e.g. "PostgreSQL restarted mid-burst: faults survived, nothing lost
(400 accepted, 400 terminal, 37 answered 503 with Retry-After)". A test that fails reports
nothing: its assertion says what was lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

_REPORTS: list[ChaosReport] = []


@dataclass(slots=True)
class ChaosReport:
    fault: str  # what was done, e.g. "PostgreSQL restarted mid-burst"
    figures: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, value: int) -> None:
        """A figure of the run, e.g. count("accepted", 400)."""
        self.figures[name] = value

    def line(self) -> str:
        shown = ", ".join(f"{value:,} {name}" for name, value in self.figures.items())
        return f"{self.fault}: faults survived, nothing lost" + (f" ({shown})" if shown else "")


@pytest.fixture
def chaos(request: pytest.FixtureRequest) -> Iterator[ChaosReport]:
    """The test's report; its fault defaults to the test's first docstring line."""
    doc = (request.function.__doc__ or request.node.name).strip().splitlines()[0]
    report = ChaosReport(doc.rstrip("."))
    yield report
    outcome = getattr(request.node, "chaos_passed", False)
    if outcome:
        _REPORTS.append(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.chaos_passed = report.passed  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _REPORTS:
        terminalreporter.section("chaos")
        for report in _REPORTS:
            terminalreporter.write_line(report.line())
