"""Verify: `/api/v2/verify`, as the official SDK's `verify.verifications` (and
`messages.v2.verify.services.verifications`) call it. An inverted one-time code: the answer
gives a code and a line, and the phone being verified texts the code to that line."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .common import Timestamp

VerificationStatus = Literal["pending", "approved", "expired", "canceled"]
MAX_PAGE = 100
MAX_OFFSET = 100_000
MIN_CODE, MAX_CODE, DEFAULT_CODE = 4, 10, 6
MIN_TTL_S, MAX_TTL_S, DEFAULT_TTL_S = 60, 86_400, 600
MAX_ATTEMPTS, DEFAULT_ATTEMPTS = 10, 5


class NewVerifyService(msgspec.Struct, kw_only=True):
    """POST /api/v2/verify/services."""

    friendly_name: Annotated[str | None, Meta(
        description="What the service is for (64 characters at most); default `Verify`")] = None
    code_length: Annotated[int | None, Meta(
        description=f"Digits in each code, {MIN_CODE} to {MAX_CODE}; default {DEFAULT_CODE}")
    ] = None
    ttl_seconds: Annotated[int | None, Meta(
        description=f"How long a verification stays pending, {MIN_TTL_S} to {MAX_TTL_S} "
                    f"seconds; default {DEFAULT_TTL_S} (10 minutes)")] = None
    max_attempts: Annotated[int | None, Meta(
        description=f"Wrong codes the phone may send before the verification is canceled, 1 "
                    f"to {MAX_ATTEMPTS}; default {DEFAULT_ATTEMPTS}")] = None
    from_number: Annotated[str | None, Meta(
        description="The account's line the codes are texted to; default the account's "
                    "first line")] = None


class VerifyService(msgspec.Struct, kw_only=True):
    sid: Annotated[str, Meta(description="The service's id (VA…)")]
    account_sid: str
    friendly_name: str
    code_length: int
    ttl_seconds: int
    max_attempts: int
    from_number: str | None
    date_created: Timestamp
    date_updated: Timestamp
    url: str


class VerifyServiceList(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    data: list[VerifyService]


class ServiceSid(msgspec.Struct, kw_only=True):
    service_sid: Annotated[str, Meta(description="The service's id (VA…)")]


class NewVerification(msgspec.Struct, kw_only=True):
    """POST /api/v2/verify/services/{service_sid}/verifications."""

    to: Annotated[str, Meta(description="E.164 number of the phone that must text the code")]
    hosted: Annotated[dict[str, Any] | None, Meta(
        description="Hosted widget sessions are not served by bluewire: a 400 if given")] = None


class DeliveryTarget(msgspec.Struct, kw_only=True):
    code: Annotated[str, Meta(description="The code the phone must text to `pool_number`")]
    pool_number: Annotated[str, Meta(description="The line that receives the code")]
    sms_deep_link: Annotated[str, Meta(description="An sms: link with the line and the code "
                                                   "filled in")]


class Verification(msgspec.Struct, kw_only=True):
    sid: Annotated[str, Meta(description="The verification's id (VE…)")]
    service_sid: str
    account_sid: str
    channel: Literal["imessage"]
    status: VerificationStatus
    to: str | None
    date_created: Timestamp
    date_updated: Timestamp
    expires_at: Timestamp
    url: str
    delivery_target: Annotated[DeliveryTarget | None, Meta(
        description="In the answer that creates it alone: only a hash of the code is kept")
    ] = None
    hosted: None = None


class VerificationPath(msgspec.Struct, kw_only=True):
    service_sid: Annotated[str, Meta(description="The service's id (VA…)")]
    verification_sid: Annotated[str, Meta(description="The verification's id (VE…)")]


class UpdateVerification(msgspec.Struct, kw_only=True):
    """POST /api/v2/verify/services/{service_sid}/verifications/{verification_sid}."""

    status: Annotated[Literal["canceled"], Meta(
        description="`canceled` cancels a pending verification")]


class VerificationQuery(msgspec.Struct, kw_only=True):
    """GET /api/v2/verify/verifications."""

    limit: Annotated[int, Meta(ge=1, le=MAX_PAGE)] = 50
    offset: Annotated[int, Meta(ge=0, le=MAX_OFFSET)] = 0
    updated_at_gte: Annotated[str | None, Meta(
        description="Only verifications updated at or after this ISO 8601 date-time")] = None


class VerificationState(msgspec.Struct, kw_only=True):
    sid: str
    service_sid: str
    channel: str
    status: VerificationStatus
    to: str | None
    date_created: Timestamp
    date_updated: Timestamp
    date_completed: Timestamp | None


class VerificationPage(msgspec.Struct, kw_only=True):
    count: int
    has_more: bool
    limit: int
    offset: int


class VerificationList(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    data: list[VerificationState]
    pagination: VerificationPage
