"""Error codes (Sendblue's error-code docs) and the error every layer raises to answer a request
with one."""

from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    VALIDATION = 4000
    RATE_LIMIT = 4001
    BLACKLISTED = 4002
    INTERNAL = 5000
    SERVER_RATE = 5003
    SEND_FAILED = 10001
    UNRESOLVED = 10002


ERROR_TEXT: dict[ErrorCode, str] = {
    ErrorCode.VALIDATION: "Validation error",
    ErrorCode.RATE_LIMIT: "Rate limit exceeded",
    ErrorCode.BLACKLISTED: "Blacklisted number",
    ErrorCode.INTERNAL: "Internal error",
    ErrorCode.SERVER_RATE: "Server rate exceeded",
    ErrorCode.SEND_FAILED: "message failed to send",
    ErrorCode.UNRESOLVED: "failed to resolve message status",
}


class ApiError(Exception):
    """A request that cannot be served, with the HTTP status and body fields to answer it."""

    def __init__(
        self,
        http_status: int,
        message: str,
        *,
        error_code: int | None = None,
        error_key: str | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.message = message
        self.error_code = error_code
        self.error_key = error_key
        self.headers = headers or {}
        # The whole answer, where a documented endpoint fixes its error bodies exactly.
        self.body = body


def exact_error(http_status: int, body: dict[str, object]) -> ApiError:
    """An error answered with exactly `body` (as Sendblue's read-receipt docs give them, field for
    field)."""
    return ApiError(http_status, str(body.get("message") or body.get("error_message") or ""),
                    body=body)


def validation_error(message: str, *, error_key: str | None = None) -> ApiError:
    return ApiError(400, message, error_code=ErrorCode.VALIDATION, error_key=error_key)


def v3_error(http_status: int, code: str, message: str) -> ApiError:
    """An error in the shape of Sendblue's v3 endpoints, `{"error": {"code", "message"}}` (with
    the older `status` and `message` beside it, which older clients read)."""
    return ApiError(http_status, message, body={
        "status": "ERROR", "message": message, "error": {"code": code, "message": message}})


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, message)
