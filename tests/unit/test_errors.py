"""Sendblue's error codes and the ApiError every layer raises."""

from __future__ import annotations

import pytest

from bluewire.domain.errors import (
    ERROR_TEXT,
    ApiError,
    ErrorCode,
    not_found,
    unauthorized,
    validation_error,
)


@pytest.mark.parametrize(("code", "value"), [
    (ErrorCode.VALIDATION, 4000),
    (ErrorCode.RATE_LIMIT, 4001),
    (ErrorCode.BLACKLISTED, 4002),
    (ErrorCode.INTERNAL, 5000),
    (ErrorCode.SERVER_RATE, 5003),
    (ErrorCode.SEND_FAILED, 10001),
    (ErrorCode.UNRESOLVED, 10002),
])
def test_error_codes_are_sendblues(code: ErrorCode, value: int) -> None:
    assert code == value


def test_there_are_exactly_the_seven_codes() -> None:
    assert sorted(int(code) for code in ErrorCode) == [4000, 4001, 4002, 5000, 5003, 10001, 10002]


def test_every_code_has_its_text() -> None:
    assert set(ERROR_TEXT) == set(ErrorCode)
    assert ERROR_TEXT[ErrorCode.SEND_FAILED] == "message failed to send"
    assert ERROR_TEXT[ErrorCode.UNRESOLVED] == "failed to resolve message status"


def test_api_error_carries_everything_needed_to_answer() -> None:
    error = ApiError(429, "slow down", error_code=ErrorCode.RATE_LIMIT,
                     error_key="LINE_RATE_LIMITED", headers={"retry-after": "1"})
    assert str(error) == "slow down"
    assert (error.http_status, error.message, error.error_code, error.error_key) == (
        429, "slow down", 4001, "LINE_RATE_LIMITED"
    )
    assert error.headers == {"retry-after": "1"}


def test_api_error_defaults_to_no_code_key_or_headers() -> None:
    error = ApiError(500, "boom")
    assert (error.error_code, error.error_key, error.headers) == (None, None, {})


def test_api_errors_do_not_share_their_default_headers() -> None:
    first, second = ApiError(500, "a"), ApiError(500, "b")
    first.headers["x"] = "1"
    assert second.headers == {}


def test_validation_error_is_a_400_with_4000() -> None:
    error = validation_error("`number` is required", error_key="MISSING")
    assert (error.http_status, error.error_code, error.error_key) == (400, 4000, "MISSING")
    assert error.message == "`number` is required"


def test_not_found_and_unauthorized_have_no_error_code() -> None:
    assert (not_found("no such message").http_status, not_found("x").error_code) == (404, None)
    assert (unauthorized("bad key").http_status, unauthorized("x").error_code) == (401, None)
