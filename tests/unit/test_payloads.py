"""Wire shapes of a message: MessageResponse, list rows and event data."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest

from bluewire.domain.messages import MessageRecord
from bluewire.domain.payloads import (
    event_message_data,
    iso,
    message_response,
    message_row,
    receive_payload,
    status_callback_payload,
)
from bluewire.domain.statuses import Service, Status

from .factories import CREATED_MS, LINE, PHONE, message_record

EMAIL = "you@company.com"
PLAN = "blue"
ISO_SHAPE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

MESSAGE_RESPONSE_FIELDS = {
    "account_email", "content", "date_created", "date_updated", "error_code", "error_message",
    "from_number", "is_outbound", "media_url", "message_handle", "number", "send_style", "status",
}
# The SDK's literal, and READ and RECEIVED (an inbound message), which strict clients reject.
SDK_RESPONSE_STATUSES = {"QUEUED", "SENT", "DELIVERED", "ERROR", "READ", "RECEIVED"}


def inbound_record(**overrides: object) -> MessageRecord:
    values: dict[str, object] = {
        "is_outbound": False, "status": Status.RECEIVED, "service": Service.IMESSAGE,
        "content": "Ahoy Developer!",
    }
    values.update(overrides)
    return message_record(**values)


def test_iso_matches_the_wire_example() -> None:
    assert iso(1_705_329_000_000) == "2024-01-15T14:30:00.000Z"


@pytest.mark.parametrize(("ms", "text"), [
    (0, "1970-01-01T00:00:00.000Z"),
    (1, "1970-01-01T00:00:00.001Z"),
    (1_599_718_505_962, "2020-09-10T06:15:05.962Z"),
    (1_765_553_735_410, "2025-12-12T15:35:35.410Z"),
    (1_705_329_000_999, "2024-01-15T14:30:00.999Z"),
    (1_709_164_799_999, "2024-02-28T23:59:59.999Z"),
    (1_709_251_200_000, "2024-03-01T00:00:00.000Z"),
])
def test_iso_formats_milliseconds_in_utc(ms: int, text: str) -> None:
    assert iso(ms) == text


def test_iso_of_nothing_is_null() -> None:
    assert iso(None) is None


def test_iso_agrees_with_exact_integer_arithmetic() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    picks = random.Random(20240115)
    for _ in range(2000):
        ms = picks.randrange(0, 4_102_444_800_000)
        moment = epoch + timedelta(milliseconds=ms)
        assert iso(ms) == moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z", ms


def test_message_response_carries_sendblues_message_fields() -> None:
    body = message_response(message_record(), EMAIL, PLAN)
    assert set(body) >= MESSAGE_RESPONSE_FIELDS


def test_message_response_of_a_queued_message() -> None:
    message = message_record(updated_at=CREATED_MS + 1)
    body = message_response(message, EMAIL, PLAN)
    assert body["account_email"] == EMAIL
    assert body["message_handle"] == message.handle
    assert body["status"] == "QUEUED"
    assert body["date_created"] == "2024-01-15T14:30:00.000Z"
    assert body["date_updated"] == "2024-01-15T14:30:00.001Z"
    assert body["content"] == "Hello, World!"
    assert body["is_outbound"] is True
    assert body["number"] == PHONE
    assert body["from_number"] == LINE
    assert body["message_type"] == "message"
    assert body["plan"] == PLAN
    assert body["error_code"] is None
    assert body["error_message"] is None
    assert body["media_url"] is None
    assert body["service"] is None


def test_message_response_send_style_is_null_when_unused() -> None:
    body = message_response(message_record(send_style=None), EMAIL, PLAN)
    assert body["send_style"] is None


def test_message_response_send_style_when_used() -> None:
    body = message_response(message_record(send_style="slam"), EMAIL, PLAN)
    assert body["send_style"] == "slam"


RESPONSE_STATUS = {
    Status.REGISTERED: "QUEUED",
    Status.PENDING: "QUEUED",
    Status.QUEUED: "QUEUED",
    Status.ACCEPTED: "QUEUED",
    Status.SENT: "SENT",
    Status.DELIVERED: "DELIVERED",
    Status.READ: "READ",
    Status.DECLINED: "ERROR",
    Status.ERROR: "ERROR",
    Status.RECEIVED: "RECEIVED",
}


@pytest.mark.parametrize(("status", "answered"), list(RESPONSE_STATUS.items()))
def test_message_response_status_is_one_the_sdk_knows(status: Status, answered: str) -> None:
    body = message_response(message_record(status=status), EMAIL, PLAN)
    assert body["status"] == answered


@pytest.mark.parametrize("status", list(Status))
def test_message_response_never_answers_a_status_outside_the_sdk_literal(status: Status) -> None:
    body = message_response(message_record(status=status), EMAIL, PLAN)
    assert body["status"] in SDK_RESPONSE_STATUSES


def test_message_response_of_an_error_carries_its_code() -> None:
    message = message_record(status=Status.ERROR, error_code=10001,
                             error_message="message failed to send")
    body = message_response(message, EMAIL, PLAN)
    assert (body["status"], body["error_code"], body["error_message"]) == (
        "ERROR", 10001, "message failed to send"
    )


def test_message_response_of_an_sms_send() -> None:
    message = message_record(status=Status.SENT, service=Service.SMS, was_downgraded=True)
    body = message_response(message, EMAIL, PLAN)
    assert body["service"] == "SMS"
    assert body["was_downgraded"] is True


def test_message_response_swaps_to_and_from_for_inbound() -> None:
    body = message_response(inbound_record(), EMAIL, PLAN)
    assert body["number"] == PHONE
    assert body["from_number"] == PHONE
    assert body["to_number"] == LINE
    assert body["is_outbound"] is False


def test_message_row_uses_the_webhook_spellings() -> None:
    message = message_record(status=Status.DELIVERED, service=Service.IMESSAGE,
                             updated_at=CREATED_MS + 250, delivered_at=CREATED_MS + 250)
    row = message_row(message, EMAIL, PLAN)
    assert row["accountEmail"] == EMAIL
    assert "account_email" not in row
    assert row["date_sent"] == "2024-01-15T14:30:00.000Z"
    assert "date_created" not in row
    assert row["date_updated"] == "2024-01-15T14:30:00.250Z"
    assert row["date_delivered"] == "2024-01-15T14:30:00.250Z"
    assert row["date_read"] is None
    assert row["message_handle"] == message.handle
    assert row["status"] == "DELIVERED"
    assert row["service"] == "iMessage"
    assert row["sendblue_number"] == LINE
    assert row["plan"] == PLAN
    assert row["participants"] == []
    assert row["opted_out"] is False


@pytest.mark.parametrize("status", list(Status))
def test_message_row_keeps_the_stored_status(status: Status) -> None:
    row = message_row(message_record(status=status), EMAIL, PLAN)
    assert row["status"] == status.value


def test_message_row_of_an_outbound_message() -> None:
    row = message_row(message_record(), EMAIL, PLAN)
    assert (row["number"], row["from_number"], row["to_number"]) == (PHONE, LINE, PHONE)
    assert row["is_outbound"] is True


def test_message_row_of_an_inbound_message() -> None:
    row = message_row(inbound_record(), EMAIL, PLAN)
    assert (row["number"], row["from_number"], row["to_number"]) == (PHONE, PHONE, LINE)
    assert row["status"] == "RECEIVED"
    assert row["is_outbound"] is False


def test_message_row_send_style_is_null_when_unused() -> None:
    assert message_row(message_record(), EMAIL, PLAN)["send_style"] is None


def test_message_row_of_a_read_message_has_date_read() -> None:
    message = message_record(status=Status.READ, read_at=CREATED_MS + 3000)
    row = message_row(message, EMAIL, PLAN)
    assert row["date_read"] == "2024-01-15T14:30:03.000Z"
    assert row["date_delivered"] is None


def test_event_data_has_the_keys_the_cli_reads() -> None:
    message = message_record(status=Status.SENT, service=Service.RCS,
                             updated_at=CREATED_MS + 42)
    data = event_message_data(message, EMAIL, PLAN)
    assert data["message_id"] == message.handle
    assert data["message_handle"] == message.handle
    assert data["status"] == "SENT"
    assert data["is_outbound"] is True
    assert data["number"] == PHONE
    assert data["sendblue_number"] == LINE
    assert data["service"] == "RCS"
    assert data["updated_at"] == "2024-01-15T14:30:00.042Z"
    assert data["error_code"] is None
    assert data["error_message"] is None


def test_every_date_in_the_payloads_has_the_wire_shape() -> None:
    message = message_record(status=Status.READ, updated_at=CREATED_MS + 7,
                             delivered_at=CREATED_MS + 5, read_at=CREATED_MS + 7)
    dates = [
        *(message_response(message, EMAIL, PLAN)[k] for k in ("date_created", "date_updated")),
        *(message_row(message, EMAIL, PLAN)[k]
          for k in ("date_sent", "date_updated", "date_delivered", "date_read")),
        event_message_data(message, EMAIL, PLAN)["updated_at"],
    ]
    assert all(ISO_SHAPE.match(date) for date in dates), dates


STATUS_CALLBACK_KEYS = {
    "accountEmail", "content", "is_outbound", "status", "error_code", "error_message",
    "error_reason", "message_handle", "date_sent", "date_updated", "from_number", "number",
    "to_number", "was_downgraded", "plan", "media_url", "message_type", "group_id",
    "participants", "send_style", "opted_out", "error_detail", "sendblue_number", "service",
    "group_display_name",
}
RECEIVE_KEYS = {
    "accountEmail", "content", "media_url", "is_outbound", "status", "error_code",
    "error_message", "message_handle", "date_sent", "date_updated", "from_number", "number",
    "to_number", "was_downgraded", "plan",
}


def test_a_status_callback_carries_sendblues_fields_and_a_read_receipts_message_id() -> None:
    message = message_record(status=Status.READ, service=Service.IMESSAGE,
                             updated_at=CREATED_MS + 9, read_at=CREATED_MS + 9)
    payload = status_callback_payload(message, EMAIL, PLAN)
    assert payload.keys() >= STATUS_CALLBACK_KEYS
    assert payload["accountEmail"] == EMAIL
    assert payload["message_id"] == payload["message_handle"] == message.handle
    assert payload["status"] == "READ"
    assert payload["number"] == payload["to_number"] == PHONE
    assert payload["from_number"] == payload["sendblue_number"] == LINE
    assert payload["date_updated"] == "2024-01-15T14:30:00.009Z"
    # Sendblue's status callback conventions: empty strings for no group and no style, null
    # was_downgraded unless the message went out as SMS.
    assert (payload["group_id"], payload["send_style"], payload["media_url"]) == ("", "", "")
    assert payload["participants"] == []
    assert payload["was_downgraded"] is None
    assert payload["group_display_name"] is None


def test_an_sms_status_callback_says_it_was_downgraded() -> None:
    message = message_record(status=Status.SENT, service=Service.SMS, was_downgraded=True)
    payload = status_callback_payload(message, EMAIL, PLAN)
    assert payload["was_downgraded"] is True
    assert payload["service"] == "SMS"


def test_a_receive_payload_carries_every_field_of_sendblues_receive_webhook() -> None:
    message = message_record(is_outbound=False, status=Status.RECEIVED,
                             service=Service.IMESSAGE, content="Ahoy Developer!")
    payload = receive_payload(message, EMAIL, PLAN)
    assert payload.keys() >= RECEIVE_KEYS
    assert payload["status"] == "RECEIVED"
    assert payload["is_outbound"] is False
    assert payload["from_number"] == payload["number"] == PHONE
    assert payload["to_number"] == LINE
    assert payload["was_downgraded"] is False
    assert payload["error_code"] is None and payload["error_message"] is None
    assert event_message_data(message, EMAIL, PLAN) == payload
