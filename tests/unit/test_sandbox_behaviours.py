"""The fixed behaviours of sandbox numbers +1 NPA 555-01XX."""

from __future__ import annotations

import pytest

from bluewire.connectors.sandbox import PHONE_BEHAVIOURS, Behaviour, behaviour_of, service_of
from bluewire.domain.statuses import Service

DESIGN_TABLE: dict[str, Behaviour] = {
    "00": Behaviour.READS,
    "01": Behaviour.NO_READ_RECEIPTS,
    "02": Behaviour.SMS,
    "03": Behaviour.RCS,
    "04": Behaviour.FAILS,
    "05": Behaviour.NEVER_RESOLVES,
    "06": Behaviour.ECHO,
    "07": Behaviour.REPLIES_STOP,
    "08": Behaviour.MANUAL,
    "09": Behaviour.SLOW_READ,
}


def test_phone_behaviours_are_the_design_table() -> None:
    assert PHONE_BEHAVIOURS == DESIGN_TABLE


@pytest.mark.parametrize(("suffix", "behaviour"), list(DESIGN_TABLE.items()))
def test_each_magic_number_has_its_behaviour(suffix: str, behaviour: Behaviour) -> None:
    assert behaviour_of(f"+141555501{suffix}") is behaviour
    assert behaviour_of(f"+121255501{suffix}") is behaviour


@pytest.mark.parametrize("number", [
    "+14155550110",
    "+14155550199",
    "+14155550200",
    "+14155551234",
    "+442079460018",
    "+33112345678",
    "+1 415 555 0102",
])
def test_other_numbers_are_ordinary_imessage_phones_with_read_receipts(number: str) -> None:
    assert behaviour_of(number) is Behaviour.READS


@pytest.mark.parametrize(("behaviour", "service"), [
    (Behaviour.SMS, Service.SMS),
    (Behaviour.RCS, Service.RCS),
    (Behaviour.READS, Service.IMESSAGE),
    (Behaviour.NO_READ_RECEIPTS, Service.IMESSAGE),
    (Behaviour.FAILS, Service.IMESSAGE),
    (Behaviour.NEVER_RESOLVES, Service.IMESSAGE),
    (Behaviour.ECHO, Service.IMESSAGE),
    (Behaviour.REPLIES_STOP, Service.IMESSAGE),
    (Behaviour.MANUAL, Service.IMESSAGE),
    (Behaviour.SLOW_READ, Service.IMESSAGE),
])
def test_service_of_each_behaviour(behaviour: Behaviour, service: Service) -> None:
    assert service_of(behaviour) is service


def test_every_behaviour_has_a_service() -> None:
    assert {service_of(b) for b in Behaviour} == {Service.IMESSAGE, Service.SMS, Service.RCS}


@pytest.mark.parametrize(("number", "service"), [
    ("+14155550102", Service.SMS),
    ("+14155550103", Service.RCS),
    ("+14155550100", Service.IMESSAGE),
    ("+16465551234", Service.IMESSAGE),
])
def test_the_service_of_a_sandbox_number(number: str, service: Service) -> None:
    assert service_of(behaviour_of(number)) is service
