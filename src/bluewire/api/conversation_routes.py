"""Read receipts and typing indicators we send, as Sendblue's docs define them."""

from __future__ import annotations

from typing import Any

from ..domain.wire.conversations import (
    AutoMarkRead,
    AutoMarkReadAnswer,
    MarkRead,
    MarkReadAnswer,
    TypingAnswer,
    TypingIndicator,
)
from ..services.read_receipts import NOT_A_BOOLEAN, ReadReceipts
from ..services.typing import TypingIndicators
from .endpoint import Endpoint
from .http import Request, Router

TAG = "Read receipts and typing"
MARK_READ = Endpoint(
    "POST", "/api/mark-read", "Mark a conversation read", TAG, body=MarkRead,
    response=MarkReadAnswer, errors=(400, 401, 404), body_required=False, forms=True,
    description="Sends a read receipt for the conversation with `number` on the line "
                "`from_number` (iMessage and RCS conversations only), and records it.")
AUTO_MARK_READ = Endpoint(
    "POST", "/accounts/settings/auto-mark-read", "Turn auto mark-read on or off", TAG,
    body=AutoMarkRead, response=AutoMarkReadAnswer, errors=(400, 401), invalid=NOT_A_BOOLEAN,
    description="While on, every 1:1 iMessage that arrives is marked read at once.")
SEND_TYPING = Endpoint(
    "POST", "/api/send-typing-indicator", "Show or stop a typing indicator", TAG,
    body=TypingIndicator, response=TypingAnswer, errors=(400, 401), body_required=False,
    forms=True, description="Best effort, to a contact of a 1:1 conversation.")


def register_conversation_routes(router: Router, receipts: ReadReceipts,
                                 typing: TypingIndicators) -> None:
    async def mark_read(request: Request) -> dict[str, Any]:
        return await receipts.mark_read(request.account, request.data)

    async def auto_mark_read(request: Request) -> dict[str, Any]:
        return await receipts.set_auto(request.account, request.data)

    async def send_typing(request: Request) -> dict[str, Any]:
        return await typing.send(request.account, request.data)

    router.endpoint(MARK_READ, mark_read)
    router.endpoint(AUTO_MARK_READ, auto_mark_read)
    router.endpoint(SEND_TYPING, send_typing)
