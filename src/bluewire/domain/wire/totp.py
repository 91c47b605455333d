"""TOTP: `/api/v2/totp`, as the official SDK's `v2.totp` calls it: secrets stored sealed, and
their current RFC 6238 code on request (an authenticator app for agents)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from .common import Timestamp

Algorithm = Literal["SHA1", "SHA256", "SHA512"]
MIN_PERIOD, MAX_PERIOD = 10, 3600
MAX_LABEL = 256


class NewTotpSecret(msgspec.Struct, kw_only=True):
    """POST /api/v2/totp/secrets: a `uri`, or a `label` (and a base32 `secret`, else one is
    made)."""

    label: Annotated[str | None, Meta(
        description="What the secret is for (e.g. `GitHub - agent@example.com`), "
                    f"{MAX_LABEL} characters at most; required unless `uri` is given")] = None
    uri: Annotated[str | None, Meta(
        description="An `otpauth://totp/…` URI (a QR code's); overrides every other field")
    ] = None
    secret: Annotated[str | None, Meta(
        description="The base32 secret; omitted, a 160-bit one is made")] = None
    issuer: Annotated[str | None, Meta(description="The service (e.g. `GitHub`)")] = None
    algorithm: Annotated[Algorithm | None, Meta(description="Default SHA1")] = None
    digits: Annotated[Literal[6, 8] | None, Meta(description="Default 6")] = None
    period: Annotated[int | None, Meta(
        description=f"Seconds each code lasts, {MIN_PERIOD} to {MAX_PERIOD}; default 30")] = None


class TotpSecret(msgspec.Struct, kw_only=True):
    id: Annotated[str, Meta(description="The secret's id (a UUID)")]
    label: str
    issuer: str | None
    algorithm: Algorithm
    digits: int
    period: int
    created_at: Timestamp
    secret: Annotated[str | None, Meta(
        description="The base32 secret: in the answer that creates it alone")] = None
    uri: Annotated[str | None, Meta(
        description="Its `otpauth://` URI (for a QR code): in the answer that creates it alone")
    ] = None


class TotpSecretAnswer(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    totp_secret: TotpSecret


class TotpSecretList(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    totp_secrets: list[TotpSecret]


class TotpSecretId(msgspec.Struct, kw_only=True):
    secret_id: Annotated[str, Meta(description="The secret's id")]


class TotpDeleted(msgspec.Struct, kw_only=True):
    status: Literal["OK"]


class TotpCode(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    code: Annotated[str, Meta(description="The current code")]
    expires_in: Annotated[int, Meta(description="Seconds until it changes")]
