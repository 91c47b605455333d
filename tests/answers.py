"""Whether a real answer is what its endpoint declares: every field, of its type."""

from __future__ import annotations

from typing import Any

import msgspec


def assert_answer(answer: Any, kind: Any) -> None:
    """`answer` (decoded JSON) converts strictly to `kind`, and a Struct's fields are exactly
    the answer's keys (no undeclared field)."""
    try:
        msgspec.convert(answer, kind)
    except msgspec.ValidationError as exc:
        raise AssertionError(f"not a {kind}: {exc}\n{answer}") from None
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        declared = {info.encode_name for info in msgspec.structs.fields(kind)}
        assert set(answer) == declared, (set(answer) ^ declared, answer)
