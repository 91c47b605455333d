"""A line whose agent keeps reconnecting is DEGRADED (domain/line_health.py)."""

from __future__ import annotations

from bluewire.domain.line_health import DEGRADED, OFFLINE, ONLINE, Health, LineHealth

MIN = 60_000


def flap(health: LineHealth, line: str, *times: int) -> None:
    """The line's agent connects at each of `times` and drops a second later."""
    for at in times:
        health.connected(line, at)
        health.disconnected(line, at + 1000)


def test_a_line_never_seen_has_no_health() -> None:
    assert LineHealth().of("+14155550100", 0) is None


def test_a_steady_line_is_online_since_it_connected() -> None:
    health = LineHealth()
    health.connected("L", 5 * MIN)
    assert health.of("L", 60 * MIN) == Health(ONLINE, 5 * MIN, None)
    health.disconnected("L", 61 * MIN)
    assert health.of("L", 62 * MIN) == Health(OFFLINE, 61 * MIN, None)


def test_three_connections_in_ten_minutes_make_it_degraded_until_one_ages_out() -> None:
    health = LineHealth()
    flap(health, "L", 0, 2 * MIN)
    health.connected("L", 4 * MIN)
    assert health.of("L", 5 * MIN) == Health(DEGRADED, 4 * MIN, 4 * MIN)
    # Degraded while three connections are within the window: the first ages out at 10 min.
    assert health.of("L", 10 * MIN - 1) == Health(DEGRADED, 4 * MIN, 4 * MIN)
    # Back to ONLINE from the moment it did, though nobody asked until later.
    assert health.of("L", 30 * MIN) == Health(ONLINE, 10 * MIN, None)


def test_a_line_that_drops_again_is_offline_then_still_degraded_when_back() -> None:
    health = LineHealth()
    flap(health, "L", 0, MIN, 2 * MIN)
    assert health.of("L", 3 * MIN) == Health(OFFLINE, 2 * MIN + 1000, None)
    health.connected("L", 4 * MIN)
    # The spell began with the third connection, and goes on with the fourth.
    assert health.of("L", 4 * MIN) == Health(DEGRADED, 4 * MIN, 2 * MIN)


def test_a_spell_that_ended_between_connections_begins_anew() -> None:
    health = LineHealth()
    flap(health, "L", 0, MIN, 2 * MIN)
    # At 11 min only the connection at 2 min is left in the window: the spell ended then.
    flap(health, "L", 11 * MIN)
    health.connected("L", 11 * MIN + 30_000)
    assert health.of("L", 11 * MIN + 45_000) == Health(DEGRADED, 11 * MIN + 30_000,
                                                     11 * MIN + 30_000)


def test_lines_are_apart_and_the_threshold_is_a_setting() -> None:
    health = LineHealth(connects=2, window_ms=MIN)
    health.connected("A", 0)
    health.disconnected("A", 10)
    health.connected("A", 20)
    health.connected("B", 20)
    assert health.of("A", 30).status == DEGRADED  # type: ignore[union-attr]
    assert health.of("B", 30).status == ONLINE  # type: ignore[union-attr]
