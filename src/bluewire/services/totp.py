"""TOTP secrets (RFC 6238) kept for an account, so an agent can answer a second-factor prompt
without an authenticator app: the secret is given once (a base32 secret, or the `otpauth://`
URI of a QR code), stored sealed as webhook secrets are (store/secret_box.py), and
`GET /api/v2/totp/code/{id}` answers the code of the moment. The secret (and its URI) is shown
in the answer that stores it alone, as an authenticator's setup shows it once."""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
import uuid
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlparse

import pyotp

from ..domain.errors import not_found, validation_error
from ..domain.payloads import iso
from ..domain.wire.totp import MAX_LABEL, MAX_PERIOD, MIN_PERIOD, NewTotpSecret
from ..store import verify as store
from ..store.accounts import Account
from ..store.database import Database, now_ms
from ..store.secret_box import SecretBox
from ..store.writer import Tx, Writer

BASE = "/api/v2/totp"
DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
MIN_SECRET_BITS = 80  # what many services still hand out (RFC 4226 asks 128, advises 160)
MAX_SECRET_CHARS = 256


class _Totp(pyotp.TOTP):
    min_secret_length_bits: ClassVar[int] = MIN_SECRET_BITS


def totp_of(secret: str, algorithm: str, digits: int, period: int) -> pyotp.TOTP:
    return _Totp(secret, digits=digits, digest=DIGESTS[algorithm], interval=period)


def _secret(value: str, field: str) -> str:
    """A base32 secret in its canonical form (upper case, no spaces or padding)."""
    text = "".join(value.split()).upper().rstrip("=")
    if not text or len(text) > MAX_SECRET_CHARS:
        raise validation_error(f"`{field}` must be a base32 secret of 16 to "
                               f"{MAX_SECRET_CHARS} characters")
    try:
        decoded = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise validation_error(f"`{field}` must be base32 (letters A-Z and digits 2-7)") from None
    if len(decoded) * 8 < MIN_SECRET_BITS:
        raise validation_error(f"`{field}` is too short: a TOTP secret has at least "
                               f"{MIN_SECRET_BITS} bits (16 base32 characters)")
    return text


def _from_uri(uri: str) -> dict[str, Any]:
    """The fields of an `otpauth://totp/Issuer:label?secret=…` URI."""
    parsed = urlparse(uri.strip())
    if parsed.scheme != "otpauth" or parsed.netloc != "totp":
        raise validation_error("`uri` must be an otpauth://totp/… URI (a TOTP QR code's)")
    name = unquote(parsed.path.lstrip("/"))
    issuer = None
    if ":" in name:
        issuer, name = (part.strip() for part in name.split(":", 1))
    try:
        query = dict(parse_qsl(parsed.query, strict_parsing=False))
    except ValueError:
        raise validation_error("`uri` has a query that cannot be read") from None
    if not query.get("secret"):
        raise validation_error("`uri` has no `secret` parameter")
    fields: dict[str, Any] = {"secret": _secret(query["secret"], "uri's secret"),
                              "label": name or None,
                              "issuer": query.get("issuer") or issuer or None}
    if "algorithm" in query:
        fields["algorithm"] = query["algorithm"].upper()
    for key in ("digits", "period"):
        if key in query:
            try:
                fields[key] = int(query[key])
            except ValueError:
                raise validation_error(f"`uri`'s {key} must be a whole number") from None
    return fields


def secret_data(row: Any, secret: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row.public_id, "label": row.label, "issuer": row.issuer,
        "algorithm": row.algorithm, "digits": row.digits, "period": row.period,
        "created_at": iso(row.created_at), "secret": None, "uri": None,
    }
    if secret is not None:
        data["secret"] = secret
        data["uri"] = totp_of(secret, row.algorithm, row.digits, row.period).provisioning_uri(
            name=row.label, issuer_name=row.issuer)
    return data


class TotpService:
    def __init__(self, database: Database, writer: Writer, box: SecretBox) -> None:
        self._database = database
        self._writer = writer
        self._box = box

    async def create(self, account: Account, body: NewTotpSecret) -> dict[str, Any]:
        fields: dict[str, Any] = {"label": body.label, "issuer": body.issuer,
                                  "algorithm": body.algorithm, "digits": body.digits,
                                  "period": body.period, "secret": None}
        if body.uri not in (None, ""):
            assert body.uri is not None
            fields = {**{key: None for key in fields}, **_from_uri(body.uri)}
        elif body.secret not in (None, ""):
            assert body.secret is not None
            fields["secret"] = _secret(body.secret, "secret")
        label = (fields["label"] or "").strip()
        if not label:
            raise validation_error("`label` is required (what the secret is for, e.g. "
                                   "`GitHub - agent@example.com`) unless `uri` is given")
        if len(label) > MAX_LABEL:
            raise validation_error(f"`label` must be at most {MAX_LABEL} characters")
        issuer = (fields["issuer"] or "").strip() or None
        if issuer is not None and len(issuer) > MAX_LABEL:
            raise validation_error(f"`issuer` must be at most {MAX_LABEL} characters")
        algorithm = fields["algorithm"] or "SHA1"
        if algorithm not in DIGESTS:
            raise validation_error("`algorithm` must be SHA1, SHA256 or SHA512")
        digits = 6 if fields["digits"] is None else fields["digits"]
        if digits not in (6, 8):
            raise validation_error("`digits` must be 6 or 8")
        period = 30 if fields["period"] is None else fields["period"]
        if isinstance(period, bool) or not MIN_PERIOD <= period <= MAX_PERIOD:
            raise validation_error(f"`period` must be from {MIN_PERIOD} to {MAX_PERIOD} seconds")
        secret = fields["secret"] or pyotp.random_base32(32)
        public_id = str(uuid.uuid4())
        sealed = self._box.seal(secret)

        def op(tx: Tx) -> Any:
            store.add_totp(tx, {
                "public_id": public_id, "account_id": account.id, "label": label,
                "issuer": issuer, "algorithm": algorithm, "digits": digits, "period": period,
                "secret": sealed, "created_at": now_ms()})
            return store.totp(tx, account.id, public_id)

        row = await self._writer.submit(op)
        return {"status": "OK", "totp_secret": secret_data(row, secret)}

    async def list(self, account: Account) -> dict[str, Any]:
        rows = await self._database.read_async(lambda conn: store.totps(conn, account.id))
        return {"status": "OK", "totp_secrets": [secret_data(row) for row in rows]}

    async def retrieve(self, account: Account, public_id: str) -> dict[str, Any]:
        return {"status": "OK", "totp_secret": secret_data(await self._row(account, public_id))}

    async def delete(self, account: Account, public_id: str) -> dict[str, Any]:
        deleted = await self._writer.submit(
            lambda tx: store.delete_totp(tx, account.id, public_id))
        if not deleted:
            raise not_found(f"No TOTP secret {public_id}")
        return {"status": "OK"}

    async def code(self, account: Account, public_id: str) -> dict[str, Any]:
        row = await self._row(account, public_id)
        totp = totp_of(self._box.open(row.secret), row.algorithm, row.digits, row.period)
        now = time.time()
        return {"status": "OK", "code": totp.at(now),
                "expires_in": max(1, round(row.period - now % row.period))}

    async def _row(self, account: Account, public_id: str) -> Any:
        row = await self._database.read_async(
            lambda conn: store.totp(conn, account.id, public_id))
        if row is None:
            raise not_found(f"No TOTP secret {public_id}")
        return row
