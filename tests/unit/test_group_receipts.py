"""The group receipt rule: per-participant receipts, DELIVERED when every
participant has it, READ set by the first reader, one read event per reader."""

from __future__ import annotations

import pytest

from bluewire.domain.errors import ApiError
from bluewire.domain.groups import Receipt, apply_group_report, parse_participants
from bluewire.domain.statuses import Service, Status

from .factories import CREATED_MS, LINE, message_record

A, B, C = "+14155550100", "+14155550101", "+14155550102"


def group_message():  # type: ignore[no-untyped-def]
    return message_record(message_type="group", group_id="grp_1", participants=(A, B, C),
                          status=Status.SENT, service=Service.IMESSAGE)


def receipts() -> dict[str, Receipt]:
    return {number: Receipt(number) for number in (A, B, C)}


def test_delivered_only_when_every_participant_has_it() -> None:
    message, rows = group_message(), receipts()
    for at, number in enumerate((A, B), start=1):
        outcome = apply_group_report(message, rows, number, Status.DELIVERED, CREATED_MS + at)
        assert not outcome.message_changed and outcome.events == []
        assert [r.number for r in outcome.receipts] == [number]
    assert message.status is Status.SENT
    outcome = apply_group_report(message, rows, C, Status.DELIVERED, CREATED_MS + 3)
    assert outcome.message_changed and outcome.events == [None]
    assert message.status is Status.DELIVERED and message.delivered_at == CREATED_MS + 3


def test_a_repeated_delivery_changes_nothing() -> None:
    message, rows = group_message(), receipts()
    apply_group_report(message, rows, A, Status.DELIVERED, CREATED_MS + 1)
    outcome = apply_group_report(message, rows, A, Status.DELIVERED, CREATED_MS + 2)
    assert outcome.receipts == [] and outcome.events == [] and not outcome.message_changed
    assert rows[A].delivered_at == CREATED_MS + 1


def test_each_reader_is_its_own_event_and_the_first_sets_read() -> None:
    message, rows = group_message(), receipts()
    for number in (A, B, C):
        apply_group_report(message, rows, number, Status.DELIVERED, CREATED_MS + 1)
    first = apply_group_report(message, rows, B, Status.READ, CREATED_MS + 10)
    assert first.message_changed and first.events == [B]
    assert message.status is Status.READ and message.read_at == CREATED_MS + 10
    second = apply_group_report(message, rows, A, Status.READ, CREATED_MS + 20)
    assert not second.message_changed and second.events == [A]
    assert message.read_at == CREATED_MS + 10
    assert rows[A].read_at == CREATED_MS + 20
    again = apply_group_report(message, rows, A, Status.READ, CREATED_MS + 30)
    assert again.events == [] and again.receipts == []


def test_a_read_before_everyone_has_it_still_sets_read() -> None:
    message, rows = group_message(), receipts()
    outcome = apply_group_report(message, rows, A, Status.READ, CREATED_MS + 5)
    assert outcome.message_changed and outcome.events == [A]
    assert message.status is Status.READ and message.delivered_at is None
    late = apply_group_report(message, rows, B, Status.DELIVERED, CREATED_MS + 6)
    assert not late.message_changed and late.events == []
    assert rows[B].delivered_at == CREATED_MS + 6


def test_other_statuses_apply_to_the_message_as_a_whole() -> None:
    message = message_record(message_type="group", group_id="grp_1", participants=(A, B))
    rows = {A: Receipt(A), B: Receipt(B)}
    sent = apply_group_report(message, rows, A, Status.SENT, CREATED_MS + 1,
                              service=Service.IMESSAGE)
    assert sent.message_changed and sent.events == [None] and sent.receipts == []
    repeat = apply_group_report(message, rows, B, Status.SENT, CREATED_MS + 2)
    assert not repeat.message_changed and repeat.events == []


def test_a_receipt_from_a_non_participant_changes_nothing() -> None:
    message, rows = group_message(), receipts()
    for status in (Status.DELIVERED, Status.READ):
        outcome = apply_group_report(message, rows, "+14155550109", status, CREATED_MS)
        assert not outcome.message_changed and outcome.receipts == [] and outcome.events == []
    assert message.status is Status.SENT


def test_participants_are_validated() -> None:
    assert parse_participants([A, B], LINE) == (A, B)
    for raw, fragment in [([A], "at least 2"), ([A, A], "more than once"),
                          ([A, "12"], "numbers[1]"), ([A, LINE], "sending line"),
                          (A, "list"), (None, "list")]:
        with pytest.raises(ApiError) as caught:
            parse_participants(raw, LINE)
        assert fragment in caught.value.message
        assert caught.value.http_status == 400
