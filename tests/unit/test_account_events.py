"""Account events on the wire: the `types` allowlist and the SSE frame."""

from __future__ import annotations

import json

import pytest
from sendblue_api.types.account_event import AccountEvent

from bluewire.domain.account_events import ALL_TYPES, EVENT_TYPES, parse_types, sse_frame
from bluewire.domain.errors import ApiError


def test_the_twelve_types_are_the_sdks() -> None:
    literal = AccountEvent.model_fields["type"].annotation
    assert set(EVENT_TYPES) == set(literal.__args__)  # type: ignore[union-attr]
    assert len(EVENT_TYPES) == 12


@pytest.mark.parametrize("raw", [None, "", " , ,"])
def test_no_types_means_all_twelve(raw: str | None) -> None:
    assert parse_types(raw) == ALL_TYPES


def test_types_are_a_trimmed_comma_separated_allowlist() -> None:
    assert parse_types("message.received, typing.changed,,") == {"message.received",
                                                                 "typing.changed"}


def test_an_unknown_type_is_a_400_that_names_it() -> None:
    with pytest.raises(ApiError) as caught:
        parse_types("message.created,message.deleted,bogus")
    assert caught.value.http_status == 400
    assert caught.value.error_code == 4000
    assert "bogus, message.deleted" in caught.value.message


def test_a_frame_is_an_event_line_and_one_data_line_with_an_account_event() -> None:
    frame = sse_frame("evt_42", "message.updated", 1_705_329_000_123,
                      '{"status": "READ",\n "note": "two\\nlines"}')
    assert frame is not None
    assert frame.endswith(b"\n\n")
    lines = frame.decode().rstrip("\n").split("\n")
    assert lines[0] == "event: message.updated"
    assert len(lines) == 2 and lines[1].startswith("data: ")
    event = json.loads(lines[1][len("data: "):])
    assert event == {"version": 1, "id": "evt_42", "type": "message.updated",
                     "occurred_at": "2024-01-15T14:30:00.123Z",
                     "data": {"status": "READ", "note": "two\nlines"}}
    assert AccountEvent.model_validate(event).occurred_at.microsecond == 123_000


@pytest.mark.parametrize("data", ["[1, 2]", "not json", '"text"'])
def test_data_that_is_not_a_json_object_makes_no_frame(data: str) -> None:
    assert sse_frame("evt_1", "typing.changed", 0, data) is None
