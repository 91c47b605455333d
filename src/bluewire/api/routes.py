"""The Sendblue-compatible endpoints of the gateway core."""

from __future__ import annotations

from typing import Any

from ..domain.phones import require_number
from ..domain.wire.messages import (
    EvaluateServiceQuery,
    ListMessagesQuery,
    MessageId,
    MessageList,
    MessageResponse,
    OneMessage,
    SendMessage,
    ServiceAnswer,
    StatusQuery,
)
from ..services.idempotency import IdempotencyKeys
from ..services.lookup import LookupService
from ..services.messaging import MessagingService
from .endpoint import Endpoint
from .http import Request, Response, Router
from .idempotency import IDEMPOTENCY_ERRORS, IDEMPOTENCY_KEY, idempotent

TAG = "Messages"
SEND_MESSAGE = Endpoint(
    "POST", "/api/send-message", "Send a 1:1 message", TAG, body=SendMessage,
    response=MessageResponse, errors=(400, 401, *IDEMPOTENCY_ERRORS, 429, 503), forms=True,
    headers=(IDEMPOTENCY_KEY,),
    description="Accepted and committed as QUEUED before the answer; follow its status with "
                "GET /api/status, a `status_callback`, webhooks or the event stream. Send an "
                "`Idempotency-Key` to make a retry safe: a repeat gets the first answer.")
GET_STATUS = Endpoint("GET", "/api/status", "A message's current status", TAG,
                      params=StatusQuery, response=MessageResponse, errors=(400, 401, 404))
LIST_MESSAGES = Endpoint("GET", "/api/v2/messages", "List messages", TAG,
                         params=ListMessagesQuery, response=MessageList, errors=(400, 401))
RETRIEVE_MESSAGE = Endpoint("GET", "/api/v2/messages/{message_id}", "One message", TAG,
                            params=MessageId, response=OneMessage, errors=(400, 401, 404))
EVALUATE_SERVICE = Endpoint(
    "GET", "/api/evaluate-service", "Is a number on iMessage?", "Lookup",
    params=EvaluateServiceQuery, response=ServiceAnswer, errors=(400, 401, 503),
    description="Answers 503 with `error_code` 5003 when the lookup was inconclusive: retry.")


def build_router(messaging: MessagingService, lookup: LookupService,
                 idempotency: IdempotencyKeys) -> Router:
    router = Router()

    async def send_message(request: Request) -> Response | dict[str, Any]:
        return await idempotent(request, SEND_MESSAGE, idempotency,
                                lambda key: messaging.send(request.account, request.data, key))

    async def get_status(request: Request) -> dict[str, Any]:
        return await messaging.status(request.account, request.args)

    async def list_messages(request: Request) -> dict[str, Any]:
        return await messaging.list(request.account, request.args)

    async def retrieve_message(request: Request) -> dict[str, Any]:
        return await messaging.retrieve(request.account, request.args.message_id)

    async def evaluate_service(request: Request) -> dict[str, Any]:
        raw = request.args.number
        if "@" in raw:
            return await lookup.evaluate_email(request.account, raw)
        return await lookup.evaluate(request.account, require_number(raw, "number"))

    router.endpoint(SEND_MESSAGE, send_message)
    router.endpoint(GET_STATUS, get_status)
    router.endpoint(LIST_MESSAGES, list_messages)
    router.endpoint(RETRIEVE_MESSAGE, retrieve_message)
    router.endpoint(EVALUATE_SERVICE, evaluate_service)
    return router
