from __future__ import annotations

import time
import uuid

from bluewire.domain.handles import new_handle


def test_handles_are_version_7_uuids_that_sort_in_creation_order() -> None:
    handles = [new_handle() for _ in range(5000)]
    assert len(set(handles)) == len(handles)
    parsed = [uuid.UUID(handle) for handle in handles]
    assert {value.version for value in parsed} == {7}
    assert {value.variant for value in parsed} == {uuid.RFC_4122}
    stamps = [value.int >> 80 for value in parsed]
    assert stamps == sorted(stamps)
    assert abs(stamps[-1] - time.time_ns() // 1_000_000) < 5_000
