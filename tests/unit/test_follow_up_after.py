"""`after` of a follow-up: seconds or an ISO 8601 duration, bounded before any conversion, so
a huge, infinite or negative value is a 400 naming `after`, never an overflow."""

from __future__ import annotations

import pytest

from bluewire.domain.errors import ApiError
from bluewire.domain.follow_ups import after_ms


@pytest.mark.parametrize(("value", "ms"), [
    (1, 1000), (0.5, 500), ("PT2H", 7_200_000), ("PT90M", 5_400_000), ("P1D", 86_400_000),
    (2_592_000, 2_592_000_000),
])
def test_a_good_after_in_milliseconds(value: object, ms: int) -> None:
    assert after_ms(value) == ms


@pytest.mark.parametrize(("value", "says"), [
    (-1.7976931348623157e308, "more than zero"), (1e308, "at most 30 days"),
    (float("nan"), "finite"), (float("inf"), "finite"), (0, "more than zero"),
    (0.0001, "more than zero"), ("P" + "9" * 400 + "D", "finite"),
    ("P99999999999999999999D", "at most 30 days"), (2_592_000.1, "at most 30 days"),
    ("two hours", "ISO 8601"), (True, "number of seconds"), (None, "number of seconds"),
])
def test_a_bad_after_is_a_400_naming_it(value: object, says: str) -> None:
    with pytest.raises(ApiError) as refused:
        after_ms(value)
    assert refused.value.http_status == 400
    assert "`after`" in refused.value.message and says in refused.value.message
