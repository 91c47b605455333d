"""Frames of the agent protocol (see the package docstring) and the values inside them."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import msgspec

from ...domain.statuses import Service
from ..protocol import Capabilities, Inbound, OutboundMessage, Reaction, StatusUpdate, Typing

PATH = "/api/agent/v1/connect"
TOKEN_PREFIX = "agt_"
AGENT_VERSION = "1"

CLOSE_BAD_TOKEN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_REPLACED = 4409
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "try again later": the agent retries with its backoff
# Refusals an agent waits out and retries; any other refusal stops it.
RETRY_LATER = frozenset({"line_held_elsewhere", "unavailable"})
# The kinds of event an agent sends. A gateway's welcome lists those it takes (`events`); one
# whose welcome does not predates the list and takes the first ones only.
FIRST_EVENTS = ("status", "inbound", "typing")
EVENTS = (*FIRST_EVENTS, "reaction")
# What no command of this protocol carries: an agent line cannot do it, whatever its engine can.
_NOT_CARRIED = {"reactions": False, "group_names": False, "group_photos": False}
_FLAGS = tuple(f.name for f in fields(Capabilities) if f.name != "services")

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def encode(frame: dict[str, Any]) -> str:
    return _encoder.encode(frame).decode()


def decode(text: str | bytes) -> dict[str, Any]:
    value = _decoder.decode(text)
    if not isinstance(value, dict):
        raise ValueError("a frame must be a JSON object")
    return value


def to_plain(value: Any) -> Any:
    """A protocol dataclass as JSON-ready builtins."""
    return msgspec.to_builtins(value)


def capabilities_from(data: dict[str, Any]) -> Capabilities:
    """What an agent announced for a line (a flag it does not name, as an older agent would
    not, is False), less what this protocol cannot carry."""
    services = frozenset(Service(s) for s in data.get("services") or [Service.IMESSAGE])
    flags = {name: bool(data.get(name, False)) for name in _FLAGS}
    return carried(Capabilities(services=services, **flags))


def carried(caps: Capabilities) -> Capabilities:
    """`caps` less what no command of this protocol carries (tapbacks, group names and
    photos): an engine able to do them cannot be asked to over an agent connection."""
    return replace(caps, **_NOT_CARRIED)


def capabilities_plain(caps: Capabilities) -> dict[str, Any]:
    plain = to_plain(caps)
    plain["services"] = sorted(plain["services"])
    return plain


def outbound_from(data: dict[str, Any]) -> OutboundMessage:
    return msgspec.convert(data, OutboundMessage)


def status_from(data: dict[str, Any]) -> StatusUpdate:
    return msgspec.convert(data, StatusUpdate)


def inbound_from(data: dict[str, Any]) -> Inbound:
    return msgspec.convert(data, Inbound)


def typing_from(data: dict[str, Any]) -> Typing:
    return msgspec.convert(data, Typing)


def reaction_from(data: dict[str, Any]) -> Reaction:
    return msgspec.convert(data, Reaction)
