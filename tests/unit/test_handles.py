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


def test_handles_are_canonical_text_and_keep_their_random_bits_across_refills() -> None:
    handles = [new_handle() for _ in range(10_000)]  # more than one batch of random bits
    assert all(str(uuid.UUID(handle)) == handle for handle in handles)
    assert {handle[19] for handle in handles} == set("89ab")  # the variant's two random bits
    randoms = {uuid.UUID(handle).int & ((1 << 62) - 1) for handle in handles}
    assert len(randoms) == len(handles)
