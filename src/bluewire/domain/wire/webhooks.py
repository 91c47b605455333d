"""Webhooks: the account's configuration (`/api/account/webhooks`, as in Sendblue's docs) and
bluewire's own delivery log, resend and replay (`/api/v2/webhook-deliveries`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from ..webhooks import ENDPOINT_TYPES, MAX_SECRET_CHARS
from .common import Line, Moment, Timestamp, url

EndpointType = Literal["receive", "outbound", "typing_indicator", "contact_created",
                       "line_blocked", "line_assigned", "call_log", "call_completed",
                       "inbound_call", "contact_profile", "follow_up",
                       "verification", "group"]
assert EndpointType.__args__ == ENDPOINT_TYPES  # type: ignore[attr-defined]

WebhookUrl = Annotated[str, url("An absolute http:// or https:// URL")]
Secret = Annotated[str, Meta(max_length=MAX_SECRET_CHARS,
                             description="The HMAC key of `webhook-signature`, also sent as "
                                         "`sb-signing-secret` unless that is turned off; "
                                         "write-only: answers show `secret_hint`")]
SecretHeader = Annotated[bool, Meta(
    description="Whether webhooks carry the secret itself in `sb-signing-secret` (Sendblue's "
                "scheme) besides the Standard Webhooks signature (default: true)")]
GlobalSecret = Annotated[str, Meta(max_length=MAX_SECRET_CHARS)]
_GLOBAL = "The secret of every endpoint without one of its own"
_HEADER = ("The account's setting: whether webhooks carry their secret in `sb-signing-secret` "
           "(default true; an endpoint can also turn it off for itself)")
Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]
EndpointId = Annotated[int, Meta(ge=1, le=2**31 - 1)]  # a 32-bit column in PostgreSQL


class WebhookEntry(msgspec.Struct, kw_only=True):
    """An endpoint given as an object: its URL, its own secret, the lines it hears."""

    url: WebhookUrl
    secret: Secret | None = None
    sendblue_numbers: Annotated[list[Line] | None, Meta(
        description="Only events of these lines (default: every line)")] = None
    send_secret_header: SecretHeader | None = None


Entry = str | WebhookEntry
Entries = Annotated[list[Entry], Meta(
    description="URL strings, or {url, secret, sendblue_numbers, send_secret_header} "
                "objects")]
_Set = Entries | UnsetType


class AddWebhooks(msgspec.Struct, kw_only=True):
    """POST /api/account/webhooks: endpoints of one type, added to those there are."""

    webhooks: Entries
    type: Annotated[EndpointType, Meta(description="The type of every endpoint added")] = (
        "receive")
    globalSecret: Annotated[GlobalSecret | UnsetType | None, Meta(
        description=f"{_GLOBAL} (left out: unchanged; null or \"\": none)")] = UNSET
    send_secret_header: Annotated[bool | UnsetType, Meta(
        description=f"{_HEADER} (left out: unchanged)")] = UNSET


class WebhookSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Every endpoint, by type; a type left out has none. `{}` clears them all."""

    receive: _Set = UNSET
    outbound: _Set = UNSET
    typing_indicator: _Set = UNSET
    contact_created: _Set = UNSET
    line_blocked: _Set = UNSET
    line_assigned: _Set = UNSET
    call_log: _Set = UNSET
    call_completed: _Set = UNSET
    inbound_call: _Set = UNSET
    contact_profile: _Set = UNSET
    follow_up: _Set = UNSET
    verification: _Set = UNSET
    group: _Set = UNSET
    globalSecret: Annotated[GlobalSecret | None, Meta(
        description=f"{_GLOBAL} (left out, null or \"\": none)")] = None
    send_secret_header: Annotated[bool | UnsetType, Meta(
        description=f"{_HEADER} (left out: unchanged)")] = UNSET


class ReplaceWebhooks(msgspec.Struct, kw_only=True):
    """PUT /api/account/webhooks: the whole configuration, replacing what there was."""

    webhooks: WebhookSettings


class RemoveWebhooks(msgspec.Struct, kw_only=True):
    """DELETE /api/account/webhooks: endpoints by URL, of every type or of one."""

    webhooks: Annotated[list[str], Meta(min_length=1, description="The URLs to remove")]
    type: Annotated[EndpointType | None, Meta(
        description="Only the endpoints of this type (default: of every type)")] = None


class Webhook(msgspec.Struct, kw_only=True):
    """An endpoint with a secret, lines or a setting of its own (one without is its URL
    string). Its secret is never shown once set: `secret_hint` says it has one."""

    url: str
    secret_hint: Annotated[str, Meta(
        description="The endpoint has a secret of its own: `…` and its last four characters "
                    "(only `…` for a secret shorter than 12)")] | UnsetType = UNSET
    sendblue_numbers: list[str] | UnsetType = UNSET
    send_secret_header: Annotated[bool, Meta(
        description="Present (false) when this endpoint's webhooks leave out "
                    "`sb-signing-secret`")] | UnsetType = UNSET


_Shown = Annotated[list[str | Webhook], Meta(min_length=1)] | UnsetType


class WebhooksByType(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The endpoints by type; a type without any is left out (and never the global secret)."""

    receive: _Shown = UNSET
    outbound: _Shown = UNSET
    typing_indicator: _Shown = UNSET
    contact_created: _Shown = UNSET
    line_blocked: _Shown = UNSET
    line_assigned: _Shown = UNSET
    call_log: _Shown = UNSET
    call_completed: _Shown = UNSET
    inbound_call: _Shown = UNSET
    contact_profile: _Shown = UNSET
    follow_up: _Shown = UNSET
    verification: _Shown = UNSET
    group: _Shown = UNSET


for _kind in (WebhookSettings, WebhooksByType):
    assert set(_kind.__struct_fields__) - {"globalSecret", "send_secret_header"} == set(
        ENDPOINT_TYPES), _kind

_GlobalHint = Annotated[str, Meta(
    description="The account has a globalSecret (never shown once set): `…` and its last four "
                "characters")] | UnsetType
_AccountHeader = Annotated[bool, Meta(description=_HEADER)]


class WebhookList(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    webhooks: WebhooksByType
    global_secret_hint: _GlobalHint = UNSET
    send_secret_header: _AccountHeader


class WebhooksChanged(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    message: str
    webhooks: WebhooksByType
    global_secret_hint: _GlobalHint = UNSET
    send_secret_header: _AccountHeader


class WebhooksRemoved(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    message: str


# -- the delivery log ---------------------------------------------------------------------------

DEFAULT_PAGE = 50
MAX_PAGE = 500
MAX_REPLAY_EVENTS = 10_000

DeliveryState = Literal["pending", "delivered", "failed", "cancelled"]


# Absent rather than null: a query has no null, and the error for `abc` says "a whole number".
_EndpointFilter = Annotated[EndpointId, Meta(
    description="Only deliveries to this endpoint")] | UnsetType


class DeliveryQuery(msgspec.Struct, kw_only=True):
    """GET /api/v2/webhook-deliveries: filters (all optional) and page."""

    message: Annotated[str | None, Meta(
        description="Only deliveries about this message handle")] = None
    endpoint_id: _EndpointFilter = UNSET
    url: Annotated[str | None, Meta(description="Only deliveries to this URL")] = None
    state: Annotated[DeliveryState | None, Meta(
        description="Only deliveries in this state")] = None
    since: Annotated[Moment | None, Meta(description="Created at or after")] = None
    until: Annotated[Moment | None, Meta(description="Created at or before")] = None
    limit: Annotated[int, Meta(ge=1, le=MAX_PAGE, description="Page size")] = DEFAULT_PAGE
    offset: Annotated[int, Meta(ge=0, le=2**63 - 1, description="Rows to skip")] = 0


class DeliveryId(msgspec.Struct, kw_only=True):
    delivery_id: Annotated[Id, Meta(description="The delivery's id")]


class ReplayRequest(msgspec.Struct, kw_only=True):
    """POST /api/v2/webhook-deliveries/replay. Exactly one of `url` and `endpoint_id`."""

    since: Annotated[Moment, Meta(description="Events that occurred at or after this")]
    until: Annotated[Moment | None, Meta(
        description="… and at or before this (default: now)")] = None
    url: Annotated[str | None, Meta(
        description="A configured endpoint's URL (its endpoints of every type)")] = None
    endpoint_id: Annotated[EndpointId | None, Meta(description="Or one endpoint's id")] = None


class DeliveryAttempt(msgspec.Struct, kw_only=True):
    attempted_at: Timestamp
    status_code: Annotated[int | None, Meta(
        description="The receiver's HTTP status; null when none came")]
    error: str | None
    latency_ms: float
    response: Annotated[str | None, Meta(description="The first 1 KB of the reply")]


class Delivery(msgspec.Struct, kw_only=True):
    """One event sent (or to be sent) to one URL, with each attempt; never its secret."""

    id: int
    event_id: Annotated[str, Meta(description="The `webhook-id` header, the same on every "
                                              "retry, resend and replay")]
    event_type: str
    endpoint_id: Annotated[int | None, Meta(
        description="null for a status_callback or a removed endpoint")]
    url: str
    signed: Annotated[bool, Meta(description="Whether a secret signs it")]
    message_handle: str | None
    state: DeliveryState
    attempts: int
    next_attempt_at: Annotated[Timestamp | None, Meta(description="While pending")]
    created_at: Timestamp
    last_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    last_status: int | None
    last_error: str | None
    attempts_log: list[DeliveryAttempt]


class DeliveryDetail(Delivery, kw_only=True):
    payload: Annotated[dict[str, Any], Meta(description="The JSON body every attempt sends")]


class DeliveryPage(msgspec.Struct, kw_only=True):
    limit: int
    offset: int
    hasMore: bool


class DeliveryList(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    data: list[Delivery]
    pagination: DeliveryPage


class OneDelivery(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    data: DeliveryDetail


class Resent(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    message: str
    resent_from: int
    data: Annotated[Delivery, Meta(description="The new pending delivery")]


class Replayed(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    message: str
    queued: Annotated[int, Meta(description="How many deliveries were queued")]
    url: str
    endpoint_ids: list[int]
    since: Timestamp
    until: Timestamp
