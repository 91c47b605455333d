"""E.164 parsing, the numbers that may not be messaged, and sandbox number suffixes."""

from __future__ import annotations

import pytest

from bluewire.domain.errors import ApiError
from bluewire.domain.phones import InvalidNumber, parse_e164, require_number, sandbox_suffix


@pytest.mark.parametrize(("text", "canonical"), [
    ("+14155550100", "+14155550100"),
    ("+1 415 555 0100", "+14155550100"),
    ("+1 (415) 555-0100", "+14155550100"),
    ("+1.415.555.0100", "+14155550100"),
    ("+1-415-555-0100", "+14155550100"),
    ("  +14155550100\t", "+14155550100"),
    ("+44 20 7946 0018", "+442079460018"),
    ("+44 (0)20 7946 0018", "+442079460018"),
    ("+33 1 12 34 56 78", "+33112345678"),
    ("+1 911 555 0100", "+19115550100"),
    ("+911123456789", "+911123456789"),
])
def test_parse_e164_gives_the_canonical_form(text: str, canonical: str) -> None:
    assert parse_e164(text) == canonical


@pytest.mark.parametrize("text", ["14155550100", "4155550100", "(415) 555-0100",
                                  "0044 20 7946 0018"])
def test_a_number_without_a_plus_is_refused_as_not_e164(text: str) -> None:
    with pytest.raises(InvalidNumber, match=r"E\.164 format") as caught:
        parse_e164(text)
    assert not caught.value.blocked


@pytest.mark.parametrize("text", ["911", "112", "+911", "+112", " 9-1-1 ", "999", "+1 911"])
def test_emergency_numbers_are_blocked(text: str) -> None:
    with pytest.raises(InvalidNumber, match="emergency or short") as caught:
        parse_e164(text)
    assert caught.value.blocked


@pytest.mark.parametrize("text", ["12345", "123456", "+12345", "+44 999", "+1 23456"])
def test_short_codes_are_blocked(text: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        parse_e164(text)
    assert caught.value.blocked


@pytest.mark.parametrize("text", ["", "   ", "+", "abc", "+-()"])
def test_text_without_digits_is_not_a_phone_number(text: str) -> None:
    with pytest.raises(InvalidNumber, match="is not a phone number") as caught:
        parse_e164(text)
    assert not caught.value.blocked


@pytest.mark.parametrize("text", ["+1 415 555 0100 0000", "+999 1234 5678", "+15550100",
                                  "+4479460018"])
def test_impossible_or_incomplete_numbers_are_refused_but_not_blocked(text: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        parse_e164(text)
    assert not caught.value.blocked


@pytest.mark.parametrize("text", ["+1-800-FLOWERS", "+1 415 CALL NOW", "+1 415 555 O1OO"])
def test_letters_make_text_not_a_phone_number_rather_than_a_short_code(text: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        parse_e164(text)
    assert not caught.value.blocked


def test_require_number_returns_the_canonical_form() -> None:
    assert require_number("+1 (415) 555-0100", "number") == "+14155550100"


@pytest.mark.parametrize("value", [None, 14155550100, 1.5, ["+14155550100"], {}, "", "   "])
def test_require_number_refuses_missing_or_non_string_values_naming_the_field(
    value: object,
) -> None:
    with pytest.raises(ApiError) as caught:
        require_number(value, "from_number")
    error = caught.value
    assert (error.http_status, error.error_code) == (400, 4000)
    assert "`from_number`" in error.message


def test_require_number_refuses_a_missing_plus_with_4000_naming_the_field() -> None:
    with pytest.raises(ApiError) as caught:
        require_number("14155550100", "number")
    error = caught.value
    assert (error.http_status, error.error_code) == (400, 4000)
    assert error.message.startswith("`number` ")
    assert "E.164" in error.message


@pytest.mark.parametrize("value", ["911", "112", "+1 911", "12345"])
def test_require_number_refuses_emergency_and_short_recipients_with_4002(value: str) -> None:
    with pytest.raises(ApiError) as caught:
        require_number(value, "number")
    error = caught.value
    assert (error.http_status, error.error_code) == (400, 4002)
    assert error.error_key == "BLACKLISTED_NUMBER"
    assert error.message.startswith("`number` ")


def test_require_number_refuses_an_emergency_number_that_is_not_a_recipient_with_4000() -> None:
    with pytest.raises(ApiError) as caught:
        require_number("911", "from_number", recipient=False)
    error = caught.value
    assert (error.http_status, error.error_code) == (400, 4000)
    assert error.message.startswith("`from_number` ")


def test_require_number_refuses_an_impossible_number_with_4000() -> None:
    with pytest.raises(ApiError) as caught:
        require_number("+999 1234 5678", "number")
    assert caught.value.error_code == 4000


@pytest.mark.parametrize(("number", "suffix"), [
    ("+14155550100", "00"),
    ("+14155550104", "04"),
    ("+12125550109", "09"),
    ("+19995550199", "99"),
])
def test_sandbox_suffix_is_the_last_two_digits_of_555_01xx_numbers(number: str,
                                                                   suffix: str) -> None:
    assert sandbox_suffix(number) == suffix


@pytest.mark.parametrize("number", [
    "+14155550200",
    "+14155551234",
    "+14155560100",
    "+441555501000",
    "+4415550100",
    "+1415555010",
    "+141555501000",
    "14155550100",
])
def test_sandbox_suffix_is_none_for_other_numbers(number: str) -> None:
    assert sandbox_suffix(number) is None
