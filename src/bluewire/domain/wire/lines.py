"""The account's lines as its clients see them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta


class LineState(msgspec.Struct, kw_only=True):
    """A line in the official clients' shape (`sendblue_number`, `assignment`, `status`,
    `worker_id`), with bluewire's own `number`, `connector` and `state` beside it."""

    sendblue_number: Annotated[str, Meta(description="The line, in E.164 form")]
    assignment: Annotated[Literal["assigned", "shared"], Meta(
        description="assigned: the account's own line; shared: a line every account of the "
                    "server may send from (the sandbox's)")]
    status: Annotated[Literal["ONLINE", "OFFLINE"], Meta(
        description="OFFLINE: its connector cannot reach it now (a Mac's agent is away)")]
    worker_id: Annotated[str, Meta(description="The connector serving it (sandbox, "
                                               "bluebubbles, agent)")]
    number: Annotated[str, Meta(description="The line, in E.164 form (as sendblue_number)")]
    connector: Annotated[str, Meta(description="The connector serving it (as worker_id)")]
    state: Annotated[Literal["online", "offline"], Meta(
        description="status, in lower case")]


class LineStates(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    snapshot_at: Annotated[str, Meta(description="When the states were read (ISO 8601)")]
    data: list[LineState]


class BlueBubblesWebhookPath(msgspec.Struct, kw_only=True):
    line: Annotated[str, Meta(description="The line the BlueBubbles server serves, in E.164 "
                                          "form (URL-encoded: %2B for the `+`)")]
    secret: Annotated[str | None, Meta(
        description="The line's webhook secret, as the webhook URL registered with the server "
                    "gives it")] = None


BlueBubblesEvent = Annotated[dict[str, Any], Meta(
    description="A BlueBubbles server's webhook event as it sends it, `{\"type\": …, \"data\": "
                "…}`; events bluewire does not use are accepted and ignored")]
