"""The account's lines as its clients see them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta


class LineState(msgspec.Struct, kw_only=True):
    number: Annotated[str, Meta(description="The line, in E.164 form")]
    connector: Annotated[str, Meta(description="What serves it (e.g. sandbox, bluebubbles, "
                                               "agent)")]
    state: Annotated[Literal["online", "offline"], Meta(
        description="offline: its connector cannot reach it now (a Mac's agent is away)")]


class LineStates(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
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
