"""Reading values out of query strings and bodies, with errors that name the parameter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from .errors import validation_error

# A `+` of an offset arrives as a space when a query string was not percent-encoded.
_UNENCODED_OFFSET = re.compile(r" (\d\d:?\d\d)$")


LATEST_MS = 221845392000000  # 9000-01-01T00:00:00Z


def parse_moment(value: object, name: str) -> int | None:
    """ISO 8601 with a time zone (Z or an offset) as milliseconds since the epoch; None when
    absent. An offset's `+` that arrived as a space is put back."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise validation_error(f"`{name}` must be an ISO 8601 date-time string")
    try:
        text = _UNENCODED_OFFSET.sub(r"+\1", value.strip()).replace("Z", "+00:00")
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise validation_error(f"`{name}` must be an ISO 8601 date-time "
                               "(e.g. 2024-01-15T14:30:00Z)") from None
    if parsed.tzinfo is None:
        raise validation_error(f"`{name}` must carry a time zone (Z or +00:00)")
    ms = int(parsed.timestamp() * 1000)
    if not 0 <= ms < LATEST_MS:  # room left for windows that run on from it
        raise validation_error(f"`{name}` must be from 1970-01-01 to 9000-01-01")
    return ms


def parse_whole_number(query: Mapping[str, str], name: str, low: int,
                       high: int | None = None) -> int | None:
    """A whole number from `low` to `high` (no upper bound when None); None when absent."""
    value = query.get(name)
    if value in (None, ""):
        return None
    try:
        parsed = int(value)
    except ValueError:
        raise validation_error(f"`{name}` must be a whole number") from None
    if parsed < low or (high is not None and parsed > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise validation_error(f"`{name}` must be {bound}")
    return parsed
