"""POST /api/send-reaction: tapbacks, as Sendblue's reactions docs define them."""

from __future__ import annotations

from typing import Any

from ..domain.wire.reactions import ReactionAnswer, SendReaction
from ..services.idempotency import IdempotencyKeys
from ..services.reactions import ReactionService
from .endpoint import Endpoint
from .http import Request, Response, Router
from .idempotency import IDEMPOTENCY_ERRORS, IDEMPOTENCY_KEY, idempotent

SEND_REACTION = Endpoint(
    "POST", "/api/send-reaction", "Send a reaction (tapback)", "Messages", body=SendReaction,
    response=ReactionAnswer, errors=(400, 401, 404, *IDEMPOTENCY_ERRORS),
    headers=(IDEMPOTENCY_KEY,), body_required=False,
    description="Puts a tapback (love, like, dislike, laugh, emphasize, question) on a message "
                "of a conversation of `from_number`, or takes it off (the name prefixed with "
                "`-`, e.g. `-love`). Committed before the answer and handed to the line's "
                "connector by the reaction dispatcher (retried until it has it); a "
                "`reaction.created` event. 404 when `message_handle` is not a message of this "
                "account on that line; 400 when the line's connector cannot send reactions. "
                "An `Idempotency-Key` makes a retry safe, as for send-message.")


def register_reaction_routes(router: Router, reactions: ReactionService,
                             idempotency: IdempotencyKeys) -> None:
    async def send_reaction(request: Request) -> Response | dict[str, Any]:
        return await idempotent(request, SEND_REACTION, idempotency,
                                lambda key: reactions.send(request.account, request.data, key))

    router.endpoint(SEND_REACTION, send_reaction)
