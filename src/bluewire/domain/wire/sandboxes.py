"""`/v3/sandboxes` as the official command-line client's `sandbox list|create|delete` read it:
there, a sandbox is one of the account's lines on the simulated phone network."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta


class SandboxLine(msgspec.Struct, kw_only=True):
    id: Annotated[str, Meta(description="`sbx_` and the line's digits, e.g. sbx_14155551000")]
    status: Annotated[str, Meta(description="Always `active`: a sandbox line serves at once")]
    created_at: Annotated[str, Meta(description="When the line was added (ISO 8601)")]
    number: Annotated[str, Meta(description="The line's number, to send from (E.164)")]
    shared: Annotated[bool, Meta(description="Whether every account shares it (the server's "
                                             "first sandbox line); a shared one cannot be "
                                             "deleted")]


class SandboxUsage(msgspec.Struct, kw_only=True):
    used_usd: Annotated[float, Meta(description="Always 0: sandbox lines cost nothing")]
    cap_usd: float
    remaining_usd: float
    rate_usd_per_hour: float
    max_active_sandboxes: Annotated[int, Meta(description="How many sandbox lines of its own "
                                                          "an account may have")]


class SandboxConnect(msgspec.Struct, kw_only=True):
    prompt: Annotated[str, Meta(description="Instructions to paste into an AI agent: where "
                                            "this server is and how to text through it")]


class SandboxList(msgspec.Struct, kw_only=True):
    sandboxes: list[SandboxLine]
    usage: SandboxUsage
    connect: SandboxConnect


class SandboxListAnswer(msgspec.Struct, kw_only=True):
    data: SandboxList


class SandboxAnswer(msgspec.Struct, kw_only=True):
    data: SandboxLine


class SandboxDeleted(msgspec.Struct, kw_only=True):
    id: str
    deleted: bool


class SandboxDeletedAnswer(msgspec.Struct, kw_only=True):
    data: SandboxDeleted


class SandboxPath(msgspec.Struct, kw_only=True):
    id: Annotated[str, Meta(description="The sandbox's id, as listed (sbx_…)")]
