"""The `Idempotency-Key` header of the send endpoints (domain/idempotency.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..domain.idempotency import (
    HEADER,
    HEADER_DESCRIPTION,
    HEADER_SCHEMA,
    REPLAYED_HEADER,
    IdempotencyKey,
)
from ..services.idempotency import IdempotencyKeys
from .endpoint import Endpoint, HeaderParam
from .http import Request, Response, json_response

IDEMPOTENCY_KEY = HeaderParam(HEADER, HEADER_DESCRIPTION, HEADER_SCHEMA)
# What a key adds to a send's errors: 409 (the first is still in flight), 422 (reused).
IDEMPOTENCY_ERRORS = (409, 422)

Send = Callable[[IdempotencyKey | None], Awaitable[dict[str, Any]]]


async def idempotent(request: Request, endpoint: Endpoint, keys: IdempotencyKeys,
                     send: Send) -> Response | dict[str, Any]:
    """Answer `send` as the request's `Idempotency-Key`, if it has one, allows."""
    key = keys.key_of(request.header(HEADER.lower()), endpoint.path, request.data)
    if key is None:
        return await send(None)
    answer = await keys.send(request.account.id, key, lambda: send(key))
    return json_response(answer.body, answer.status,
                         {REPLAYED_HEADER: "true"} if answer.replayed else None)
