"""`advance`: connector reports applied to a message, in order, out of order, or twice."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from bluewire.domain.errors import ErrorCode
from bluewire.domain.messages import MESSAGE_COLUMNS, MessageRecord, advance
from bluewire.domain.statuses import Service, Status

from .factories import CREATED_MS, message_record

T0 = CREATED_MS


def test_a_forward_report_moves_the_status_and_says_so() -> None:
    message = message_record()
    assert advance(message, Status.SENT, T0 + 10, service=Service.IMESSAGE)
    assert message.status is Status.SENT
    assert message.service is Service.IMESSAGE


def test_the_full_imessage_path_stamps_each_step() -> None:
    message = message_record()
    assert advance(message, Status.ACCEPTED, T0 + 5)
    assert advance(message, Status.SENT, T0 + 10, service=Service.IMESSAGE)
    assert advance(message, Status.DELIVERED, T0 + 20)
    assert advance(message, Status.READ, T0 + 30)
    assert (message.sent_at, message.delivered_at, message.read_at) == (T0 + 10, T0 + 20, T0 + 30)
    assert message.updated_at == T0 + 30
    assert message.status is Status.READ


def test_accepted_has_no_timestamp_column_but_updates_updated_at() -> None:
    message = message_record()
    assert advance(message, Status.ACCEPTED, T0 + 5)
    assert (message.sent_at, message.delivered_at, message.read_at) == (None, None, None)
    assert message.updated_at == T0 + 5


@pytest.mark.parametrize("status", [Status.SENT, Status.DELIVERED, Status.READ])
def test_a_duplicate_report_changes_nothing(status: Status) -> None:
    message = message_record()
    assert advance(message, status, T0 + 10, service=Service.IMESSAGE)
    before = asdict(message)
    assert not advance(message, status, T0 + 99, service=Service.IMESSAGE)
    assert asdict(message) == before


def test_a_lower_status_after_a_higher_one_changes_nothing() -> None:
    message = message_record()
    assert advance(message, Status.DELIVERED, T0 + 20, service=Service.IMESSAGE)
    before = asdict(message)
    assert not advance(message, Status.SENT, T0 + 30, service=Service.IMESSAGE)
    assert not advance(message, Status.ACCEPTED, T0 + 40)
    assert asdict(message) == before
    assert message.sent_at is None


def test_read_without_delivered_leaves_delivered_at_null() -> None:
    message = message_record()
    assert advance(message, Status.SENT, T0 + 10, service=Service.IMESSAGE)
    assert advance(message, Status.READ, T0 + 30)
    assert message.status is Status.READ
    assert message.delivered_at is None
    assert message.read_at == T0 + 30
    assert message.sent_at == T0 + 10


def test_delivered_straight_from_queued_leaves_sent_at_null() -> None:
    message = message_record()
    assert advance(message, Status.DELIVERED, T0 + 20, service=Service.RCS)
    assert message.sent_at is None
    assert message.delivered_at == T0 + 20


def test_delivered_arriving_after_read_is_dropped() -> None:
    message = message_record()
    assert advance(message, Status.READ, T0 + 30, service=Service.IMESSAGE)
    assert not advance(message, Status.DELIVERED, T0 + 20)
    assert message.status is Status.READ
    assert message.delivered_at is None


def test_updated_at_never_goes_backwards() -> None:
    message = message_record(updated_at=T0 + 100)
    assert advance(message, Status.SENT, T0 + 50, service=Service.IMESSAGE)
    assert message.updated_at == T0 + 100
    assert advance(message, Status.DELIVERED, T0 + 70)
    assert message.updated_at == T0 + 100


def test_timestamps_keep_rank_order_when_the_reports_clock_runs_backwards() -> None:
    message = message_record()
    assert advance(message, Status.SENT, T0 + 50, service=Service.IMESSAGE)
    assert advance(message, Status.DELIVERED, T0 + 40)
    assert advance(message, Status.READ, T0 + 30)
    assert message.sent_at is not None
    assert message.delivered_at is not None
    assert message.read_at is not None
    assert message.sent_at <= message.delivered_at <= message.read_at <= message.updated_at


def test_a_refused_report_does_not_touch_updated_at() -> None:
    message = message_record(status=Status.READ, service=Service.IMESSAGE)
    assert not advance(message, Status.READ, T0 + 500)
    assert message.updated_at == T0


def test_error_records_its_code_and_message() -> None:
    message = message_record()
    assert advance(message, Status.ERROR, T0 + 10, error_code=ErrorCode.SEND_FAILED,
                   error_message="message failed to send")
    assert message.status is Status.ERROR
    assert message.error_code == 10001
    assert message.error_message == "message failed to send"
    assert message.updated_at == T0 + 10


def test_declined_records_its_code_and_message() -> None:
    message = message_record(status=Status.PENDING)
    assert advance(message, Status.DECLINED, T0 + 10, error_code=ErrorCode.BLACKLISTED,
                   error_message="the recipient opted out")
    assert message.status is Status.DECLINED
    assert message.error_code == 4002
    assert message.error_message == "the recipient opted out"


def test_error_codes_are_ignored_on_a_non_error_status() -> None:
    message = message_record()
    assert advance(message, Status.SENT, T0 + 10, service=Service.IMESSAGE,
                   error_code=10001, error_message="ignored")
    assert (message.error_code, message.error_message) == (None, None)


def test_error_is_terminal_for_later_reports() -> None:
    message = message_record()
    assert advance(message, Status.ERROR, T0 + 10, error_code=10002,
                   error_message="failed to resolve message status")
    for status in (Status.SENT, Status.DELIVERED, Status.READ, Status.ERROR):
        assert not advance(message, status, T0 + 20, service=Service.IMESSAGE)
    assert message.status is Status.ERROR
    assert message.error_code == 10002
    assert message.sent_at is None


def test_error_after_delivered_is_dropped() -> None:
    message = message_record()
    assert advance(message, Status.DELIVERED, T0 + 20, service=Service.IMESSAGE)
    assert not advance(message, Status.ERROR, T0 + 30, error_code=10001, error_message="late")
    assert message.status is Status.DELIVERED
    assert (message.error_code, message.error_message) == (None, None)


def test_error_after_sent_on_imessage_is_applied() -> None:
    message = message_record()
    assert advance(message, Status.SENT, T0 + 10, service=Service.IMESSAGE)
    assert advance(message, Status.ERROR, T0 + 20, error_code=10001, error_message="failed")
    assert message.status is Status.ERROR
    assert message.sent_at == T0 + 10


def test_an_sms_send_ends_at_sent() -> None:
    message = message_record()
    assert advance(message, Status.SENT, T0 + 10, service=Service.SMS, was_downgraded=True)
    assert message.service is Service.SMS
    assert message.was_downgraded is True
    before = asdict(message)
    assert not advance(message, Status.DELIVERED, T0 + 20)
    assert not advance(message, Status.READ, T0 + 30)
    assert not advance(message, Status.ERROR, T0 + 40, error_code=10001, error_message="x")
    assert asdict(message) == before


def test_the_service_a_report_names_decides_the_transition() -> None:
    message = message_record(status=Status.SENT, service=Service.IMESSAGE)
    assert not advance(message, Status.DELIVERED, T0 + 20, service=Service.SMS)
    assert message.service is Service.IMESSAGE
    assert message.status is Status.SENT


def test_a_report_without_a_service_keeps_the_known_one() -> None:
    message = message_record(status=Status.SENT, service=Service.RCS)
    assert advance(message, Status.DELIVERED, T0 + 20)
    assert message.service is Service.RCS


def test_was_downgraded_is_kept_when_a_report_does_not_say() -> None:
    message = message_record(was_downgraded=False)
    assert advance(message, Status.SENT, T0 + 10, service=Service.IMESSAGE)
    assert message.was_downgraded is False


def test_an_inbound_message_never_moves() -> None:
    message = message_record(is_outbound=False, status=Status.RECEIVED,
                             service=Service.IMESSAGE)
    for status in Status:
        assert not advance(message, status, T0 + 10)
    assert message.status is Status.RECEIVED


def test_received_cannot_be_reported_for_an_outbound_message() -> None:
    message = message_record()
    assert not advance(message, Status.RECEIVED, T0 + 10)
    assert message.status is Status.QUEUED


def _stored_row(**changes: object) -> tuple[object, ...]:
    values = {**asdict(message_record()), **changes}
    return tuple(values[name] for name in MESSAGE_COLUMNS)


def test_from_row_turns_stored_strings_into_enums() -> None:
    record = MessageRecord.from_row(_stored_row(status="DELIVERED", service="SMS"))
    assert record.status is Status.DELIVERED
    assert record.service is Service.SMS
    assert record.handle == message_record().handle


def test_from_row_keeps_an_unknown_service_null() -> None:
    record = MessageRecord.from_row(_stored_row(status="QUEUED", service=None))
    assert record.status is Status.QUEUED
    assert record.service is None


def test_from_row_turns_stored_integers_into_booleans() -> None:
    record = MessageRecord.from_row(_stored_row(status="SENT", is_outbound=1,
                                                was_downgraded=0))
    assert record.is_outbound is True
    assert record.was_downgraded is False
    assert MessageRecord.from_row(_stored_row(status="SENT", was_downgraded=None)
                                  ).was_downgraded is None
