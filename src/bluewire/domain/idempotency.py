"""The `Idempotency-Key` header of the sends: what a key may be, how a request is compared with
the one that first used its key, and the answers a key gives.

A key is remembered with the answer of the send that used it, in the transaction that accepts
the message, for `KEY_TTL_MS` (24 hours). A repeat of the same request with the same key is
answered that answer again and sends nothing; the same key with another request is a 422.
A request refused before anything is written (a 400, 404, 429 or 503) stores nothing, so the
client can correct it and retry with the same key.

Requests are compared by the SHA-256 of their canonical form: the endpoint, and the decoded
body's fields that were given (not the absent ones), encoded as JSON with sorted keys. So the
same fields sent as JSON or as a form, in another order or spacing, are the same request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec

from .errors import ApiError, ErrorCode, validation_error

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_TTL_MS = 24 * 3600 * 1000
# A repeat that arrives while the first request with its key is still being processed in the
# same process waits this long for it, then is answered 409 (retry).
IN_FLIGHT_WAIT_S = 10.0
REPLAYED_HEADER = "idempotent-replayed"

HEADER_DESCRIPTION = (
    "A key of your choosing (a UUID, say: 1 to 255 printable ASCII characters) that makes the "
    "send safe to retry. A repeat with the same key and the same body within 24 hours is "
    "answered the first answer again (same status and JSON, so the same `message_handle`, "
    "with the header `idempotent-replayed: true`) and sends nothing. The same key with "
    "another body is a 422; a repeat while the first is still being processed waits for it, "
    "or is a 409 to retry after Retry-After. Only an accepted send keeps its key: a refused "
    "request (400, 404, 429, 503) stores nothing, so correct it and retry with the same key. "
    "Keys are per account.")
HEADER_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                 "pattern": "^[\\x20-\\x7e]+$"}


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A request's key, and the hash of the request it came with."""

    key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The answer remembered with a key: what a repeat is answered."""

    request_hash: str
    status: int
    body: dict[str, Any]


class KeptBefore(Exception):
    """Raised by a send whose key turned out to be kept already (by a request that committed
    first, in this process or another): it wrote nothing, and `answer` is what to answer."""

    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__("the idempotency key is kept already")
        self.answer = answer


def parse_key(raw: str | None) -> str | None:
    """The header's key, None when it is absent, or the 400 that says what to fix."""
    if raw is None:
        return None
    if not 1 <= len(raw) <= MAX_KEY_LENGTH:
        raise _bad_key(f"this one has {len(raw)}")
    if not all(" " <= c <= "~" for c in raw):
        raise _bad_key("this one has a character outside them")
    return raw


def _bad_key(what: str) -> ApiError:
    return validation_error(f"The {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable "
                            f"ASCII characters ({what}): use a UUID, say",
                            error_key="INVALID_IDEMPOTENCY_KEY")


def request_hash(endpoint: str, body: msgspec.Struct) -> str:
    """SHA-256 (hex) of the canonical request: `endpoint` and the body's given fields."""
    given = {name: value for name, value in msgspec.structs.asdict(body).items()
             if value is not None}
    canonical = msgspec.json.encode({"endpoint": endpoint, "body": given}, order="sorted")
    return hashlib.sha256(canonical).hexdigest()


def key_reused() -> ApiError:
    return ApiError(422, f"This {HEADER} was already used with a different request: send "
                    "the same body to get its answer again, or use a new key for a new "
                    "request", error_code=ErrorCode.VALIDATION, error_key="IDEMPOTENCY_KEY_REUSED")


def still_processing() -> ApiError:
    return ApiError(409, f"A request with this {HEADER} is still being processed; retry",
                    error_key="IDEMPOTENCY_KEY_IN_PROGRESS", headers={"retry-after": "1"})
