"""Moments on the wire: a date-time a client gives is bounded (1970 to 9000, so no window that
runs on from it leaves what a date can be), and every moment answered is ISO 8601 with a
four-digit year."""

from __future__ import annotations

import pytest

from bluewire.domain.errors import ApiError
from bluewire.domain.payloads import iso
from bluewire.domain.query import parse_moment


@pytest.mark.parametrize("given", ["0328-10-24T08:35:49.7-23:08", "1969-12-31T23:59:59Z",
                                   "9000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_a_moment_outside_the_range_is_a_400_naming_it(given: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_moment(given, "until")
    assert refused.value.http_status == 400
    assert "`until` must be from 1970-01-01 to 9000-01-01" in refused.value.message


def test_moments_inside_the_range_are_read() -> None:
    assert parse_moment("1970-01-01T00:00:00Z", "since") == 0
    assert parse_moment("2024-01-15T14:30:00+00:00", "since") == 1_705_329_000_000
    assert parse_moment("8999-12-31T23:59:59Z", "since") == 221_845_391_999_000


def test_every_answered_moment_has_a_four_digit_year() -> None:
    assert iso(0) == "1970-01-01T00:00:00.000Z"
    assert iso(221_845_391_999_000 + 366 * 86_400_000).startswith("9001-")
