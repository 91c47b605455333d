"""The account's lines as its clients see them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .common import Timestamp


class LineState(msgspec.Struct, kw_only=True):
    """A line in the official clients' shape (`sendblue_number`, `assignment`, `status`,
    `worker_id`), with bluewire's own `number`, `connector` and `state` beside it."""

    sendblue_number: Annotated[str, Meta(description="The line, in E.164 form")]
    assignment: Annotated[Literal["assigned", "shared"], Meta(
        description="assigned: the account's own line; shared: a line every account of the "
                    "server may send from (the sandbox's)")]
    status: Annotated[Literal["ONLINE", "OFFLINE", "DEGRADED"], Meta(
        description="OFFLINE: its connector cannot reach it now (a Mac's agent is away); "
                    "DEGRADED: reached, but its agent connected 3 or more times in the last 10 "
                    "minutes")]
    worker_id: Annotated[str, Meta(description="The connector serving it (sandbox, "
                                               "bluebubbles, agent)")]
    status_changed_at: Annotated[Timestamp | None, Meta(
        description="When it took this status, if the gateway process answering saw it")] = None
    degraded_since: Annotated[Timestamp | None, Meta(
        description="While DEGRADED: since when")] = None
    number: Annotated[str, Meta(description="The line, in E.164 form (as sendblue_number)")]
    connector: Annotated[str, Meta(description="The connector serving it (as worker_id)")]
    state: Annotated[Literal["online", "offline", "degraded"], Meta(
        description="status, in lower case")]


class LineStates(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    snapshot_at: Annotated[str, Meta(description="When the states were read (ISO 8601)")]
    data: list[LineState]


class UsageWindow(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=False):
    used: Annotated[int | None, Meta(description="First contacts counted in the window")] = None
    limit: Annotated[int | None, Meta(description="First contacts the window allows")] = None
    remaining: Annotated[int | None, Meta(description="First contacts still allowed")] = None
    next_slot_at: Annotated[str | None, Meta(
        description="When one more is allowed, if none is now (ISO 8601)")] = None


class DailyUsageWindow(UsageWindow, kw_only=True, rename="camel"):
    resets_at: Annotated[str | None, Meta(
        description="The next daily reset, 3 AM New York time (ISO 8601)")] = None


class LineUsage(msgspec.Struct, kw_only=True, rename="camel"):
    phone: Annotated[str, Meta(description="The line, in E.164 form")]
    state: Annotated[Literal["available", "limited", "paused", "not_applicable"], Meta(
        description="limited: a window is full; paused: the daily limit is 0; "
                    "not_applicable: no limits on this line (a sandbox line)")]
    sampled_at: Annotated[str, Meta(description="When it was read (ISO 8601)")]
    new_contact_lookback_days: Annotated[float | None, Meta(
        description="Days without a message before a contact counts as new again")] = None
    hourly: UsageWindow
    daily: DailyUsageWindow
    available_at: Annotated[str | None, Meta(
        description="When both windows allow a first contact again, if one is full")] = None


class LineUsages(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    enabled: bool
    lines: list[LineUsage]


class ContactStatusQuery(msgspec.Struct, kw_only=True):
    number: Annotated[str, Meta(description="The contact, in E.164 form")]
    sendblue_number: Annotated[str, Meta(description="The line, in E.164 form")]


class ContactStatus(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    number: str
    sendblue_number: str
    classification: Annotated[Literal["known", "new", "not_applicable"], Meta(
        description="known: a 1:1 message either way within the lookback; new: a send would "
                    "count as a first contact; not_applicable: the line has no limits")]
    known_contact: bool | None
    new_contact_lookback_days: float | None
    sampled_at: Annotated[str, Meta(description="When it was read (ISO 8601)")]


class BlueBubblesWebhookPath(msgspec.Struct, kw_only=True):
    line: Annotated[str, Meta(description="The line the BlueBubbles server serves, in E.164 "
                                          "form (URL-encoded: %2B for the `+`)")]
    secret: Annotated[str | None, Meta(
        description="The line's webhook secret, as the webhook URL registered with the server "
                    "gives it")] = None


BlueBubblesEvent = Annotated[dict[str, Any], Meta(
    description="A BlueBubbles server's webhook event as it sends it, `{\"type\": …, \"data\": "
                "…}`; events bluewire does not use are accepted and ignored")]
