"""The status machine: every transition, on every service, and the terminal states."""

from __future__ import annotations

from itertools import product

import pytest

from bluewire.domain.statuses import (
    RANK,
    UNRESOLVED,
    Service,
    Status,
    can_transition,
    is_terminal,
    timestamp_field,
)

S = Status
SERVICES: tuple[Service | None, ...] = (Service.IMESSAGE, Service.SMS, Service.RCS, None)

NOTHING: frozenset[Status] = frozenset()

# Where a message may go next when it is not on SMS (iMessage, RCS, or service not yet known).
ALLOWED_OFF_SMS: dict[Status, frozenset[Status]] = {
    S.REGISTERED: frozenset({S.PENDING, S.QUEUED, S.ACCEPTED, S.SENT, S.DELIVERED, S.READ,
                             S.DECLINED, S.ERROR}),
    S.PENDING: frozenset({S.QUEUED, S.ACCEPTED, S.SENT, S.DELIVERED, S.READ,
                          S.DECLINED, S.ERROR}),
    S.QUEUED: frozenset({S.ACCEPTED, S.SENT, S.DELIVERED, S.READ, S.ERROR}),
    S.ACCEPTED: frozenset({S.SENT, S.DELIVERED, S.READ, S.ERROR}),
    S.SENT: frozenset({S.DELIVERED, S.READ, S.ERROR}),
    S.DELIVERED: frozenset({S.READ}),
    S.READ: NOTHING,
    S.DECLINED: NOTHING,
    S.ERROR: NOTHING,
    S.RECEIVED: NOTHING,
}

# SMS ends at SENT: never DELIVERED or READ, and nothing at all once SENT.
ALLOWED_ON_SMS: dict[Status, frozenset[Status]] = {
    S.REGISTERED: frozenset({S.PENDING, S.QUEUED, S.ACCEPTED, S.SENT, S.DECLINED, S.ERROR}),
    S.PENDING: frozenset({S.QUEUED, S.ACCEPTED, S.SENT, S.DECLINED, S.ERROR}),
    S.QUEUED: frozenset({S.ACCEPTED, S.SENT, S.ERROR}),
    S.ACCEPTED: frozenset({S.SENT, S.ERROR}),
    S.SENT: NOTHING,
    S.DELIVERED: NOTHING,
    S.READ: NOTHING,
    S.DECLINED: NOTHING,
    S.ERROR: NOTHING,
    S.RECEIVED: NOTHING,
}

TERMINAL: dict[Service | None, frozenset[Status]] = {
    Service.IMESSAGE: frozenset({S.DELIVERED, S.READ, S.DECLINED, S.ERROR, S.RECEIVED}),
    Service.RCS: frozenset({S.DELIVERED, S.READ, S.DECLINED, S.ERROR, S.RECEIVED}),
    Service.SMS: frozenset({S.SENT, S.DELIVERED, S.READ, S.DECLINED, S.ERROR, S.RECEIVED}),
    None: frozenset({S.DELIVERED, S.READ, S.DECLINED, S.ERROR, S.RECEIVED}),
}


def _service_id(service: Service | None) -> str:
    return service.value if service else "unknown"


def _expected(current: Status, new: Status, service: Service | None) -> bool:
    table = ALLOWED_ON_SMS if service is Service.SMS else ALLOWED_OFF_SMS
    return new in table[current]


TRANSITIONS = [
    pytest.param(current, new, service, id=f"{current}->{new}-{_service_id(service)}")
    for current, new, service in product(Status, Status, SERVICES)
]


@pytest.mark.parametrize(("current", "new", "service"), TRANSITIONS)
def test_every_transition_follows_the_design(current: Status, new: Status,
                                             service: Service | None) -> None:
    assert can_transition(current, new, service) is _expected(current, new, service)


def test_expected_tables_cover_every_status() -> None:
    assert set(ALLOWED_OFF_SMS) == set(Status)
    assert set(ALLOWED_ON_SMS) == set(Status)


def test_outbound_rank_order_is_the_design_order() -> None:
    order = [S.REGISTERED, S.PENDING, S.QUEUED, S.ACCEPTED, S.SENT, S.DELIVERED, S.READ]
    assert sorted(RANK, key=RANK.__getitem__) == order
    assert len(set(RANK.values())) == len(order)


@pytest.mark.parametrize("status", [S.DECLINED, S.ERROR, S.RECEIVED])
def test_statuses_outside_the_outbound_ladder_have_no_rank(status: Status) -> None:
    assert status not in RANK


@pytest.mark.parametrize("service", SERVICES, ids=_service_id)
@pytest.mark.parametrize("status", list(Status))
def test_a_repeated_status_is_never_a_transition(status: Status,
                                                 service: Service | None) -> None:
    assert not can_transition(status, status, service)


@pytest.mark.parametrize("service", SERVICES, ids=_service_id)
@pytest.mark.parametrize("current", list(Status))
def test_received_is_never_an_outbound_transition(current: Status,
                                                  service: Service | None) -> None:
    assert not can_transition(current, S.RECEIVED, service)


@pytest.mark.parametrize("service", SERVICES, ids=_service_id)
@pytest.mark.parametrize("status", list(Status))
def test_terminal_states_per_service(status: Status, service: Service | None) -> None:
    assert is_terminal(status, service) is (status in TERMINAL[service])


@pytest.mark.parametrize("service", SERVICES, ids=_service_id)
def test_sent_is_terminal_only_on_sms(service: Service | None) -> None:
    assert is_terminal(S.SENT, service) is (service is Service.SMS)


TERMINAL_PAIRS = [
    pytest.param(status, service, id=f"{status}-{_service_id(service)}")
    for service, statuses in TERMINAL.items()
    for status in sorted(statuses)
]


@pytest.mark.parametrize(("status", "service"), TERMINAL_PAIRS)
def test_nothing_but_read_follows_a_terminal_state(status: Status,
                                                   service: Service | None) -> None:
    followers = {new for new in Status if can_transition(status, new, service)}
    assert followers <= {S.READ}


@pytest.mark.parametrize(("status", "field"), [
    (S.SENT, "sent_at"),
    (S.DELIVERED, "delivered_at"),
    (S.READ, "read_at"),
])
def test_sent_delivered_and_read_have_timestamp_columns(status: Status, field: str) -> None:
    assert timestamp_field(status) == field


@pytest.mark.parametrize("status", [s for s in Status if s not in (S.SENT, S.DELIVERED, S.READ)])
def test_other_statuses_have_no_timestamp_column(status: Status) -> None:
    assert timestamp_field(status) is None


def test_unresolved_statuses_are_those_before_the_connector_answers() -> None:
    assert frozenset({S.REGISTERED, S.PENDING, S.QUEUED, S.ACCEPTED}) == UNRESOLVED


def test_wire_spellings_of_statuses_and_services() -> None:
    assert [s.value for s in Status] == [
        "REGISTERED", "PENDING", "QUEUED", "ACCEPTED", "SENT", "DELIVERED", "READ",
        "DECLINED", "ERROR", "RECEIVED",
    ]
    assert [s.value for s in Service] == ["iMessage", "SMS", "RCS"]
