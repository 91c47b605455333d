"""The operations endpoints' answers: liveness and readiness."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class Alive(msgspec.Struct, kw_only=True):
    status: Literal["ok"]


class ReadinessCheck(msgspec.Struct, kw_only=True):
    name: Literal["database", "migrations", "dispatcher", "delivery", "follow-ups",
                  "reactions"]
    ok: bool
    detail: Annotated[str, Meta(description="What was seen, or why the check failed")]


class Readiness(msgspec.Struct, kw_only=True):
    status: Literal["ready", "not ready"]
    checks: Annotated[list[ReadinessCheck], Meta(description="Every check, in a fixed order")]
