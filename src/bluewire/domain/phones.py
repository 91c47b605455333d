"""Phone numbers: E.164 parsing with `phonenumbers`, and the numbers that may not be messaged."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import shortnumberinfo

from .errors import ApiError, ErrorCode, validation_error

# Emergency and short codes are judged as a US caller would dial them when no country is given.
_DEFAULT_REGION = "US"
_SHORT_NUMBER_MAX_DIGITS = 6


class InvalidNumber(ValueError):
    """The text is not a phone number we can message; `blocked` means it is one we refuse."""

    def __init__(self, reason: str, *, blocked: bool = False) -> None:
        super().__init__(reason)
        self.blocked = blocked


@lru_cache(maxsize=65536)
def parse_e164(text: str) -> str:
    """The canonical E.164 form of `text`, or InvalidNumber saying why it is not one.

    A number must carry its country code (`+` first). Spaces, dashes, dots and brackets are
    tolerated and removed. Emergency and short numbers raise InvalidNumber with blocked=True.
    """
    raw = text.strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    if not digits:
        raise InvalidNumber("is not a phone number")
    if any(ch.isalpha() for ch in raw):
        raise InvalidNumber("must hold only digits, a leading +, spaces, dashes, dots and brackets")
    if _is_short_or_emergency(raw, digits):
        raise InvalidNumber("is an emergency or short number, which cannot be messaged",
                            blocked=True)
    if not raw.startswith("+"):
        raise InvalidNumber("must be in E.164 format with its country code, e.g. +14155550100")
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        raise InvalidNumber("is not a valid E.164 phone number") from None
    if (phonenumbers.is_possible_number_with_reason(parsed)
            != phonenumbers.ValidationResult.IS_POSSIBLE):
        raise InvalidNumber("is not a possible phone number for its country code")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _is_short_or_emergency(raw: str, digits: str) -> bool:
    if shortnumberinfo.is_emergency_number(digits, _DEFAULT_REGION):
        return True
    # A handful of digits is a short code (with or without a leading country code).
    return len(digits) <= _SHORT_NUMBER_MAX_DIGITS + (1 if raw.startswith("+") else 0)


def require_number(value: object, field: str, *, recipient: bool = True) -> str:
    """The E.164 form of request field `field`, or the error that names it: 4000, or 4002
    for an emergency or short number that a message is addressed to (`recipient`)."""
    if not isinstance(value, str) or not value.strip():
        raise validation_error(f"`{field}` is required and must be an E.164 phone number string")
    try:
        return parse_e164(value)
    except InvalidNumber as exc:
        if exc.blocked and recipient:
            raise ApiError(400, f"`{field}` {exc}", error_code=ErrorCode.BLACKLISTED,
                           error_key="BLACKLISTED_NUMBER") from None
        raise validation_error(f"`{field}` {exc}") from None


def sandbox_suffix(number: str) -> str | None:
    """The two magic digits of a +1 NPA 555-01XX sandbox number, else None."""
    if len(number) == 12 and number.startswith("+1") and number[5:10] == "55501":
        return number[10:]
    return None


def parse_number_or_none(value: object) -> str | None:
    """The E.164 form of `value`, or None when it is missing or not a number."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_e164(value)
    except InvalidNumber:
        return None
