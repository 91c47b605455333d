"""Read receipts and typing indicators we send (seed 001; reference §3.4, §3.5, §3.9)."""

from __future__ import annotations

from typing import Any

from ..domain.errors import exact_error
from ..services.read_receipts import NOT_A_BOOLEAN, ReadReceipts
from ..services.typing import TypingIndicators
from .http import Request, Router


def register_conversation_routes(router: Router, receipts: ReadReceipts,
                                 typing: TypingIndicators) -> None:
    async def mark_read(request: Request) -> dict[str, Any]:
        return await receipts.mark_read(request.account, request.json(allow_empty=True))

    async def auto_mark_read(request: Request) -> dict[str, Any]:
        try:
            body = request.json(allow_empty=True)
        except Exception:
            raise exact_error(400, NOT_A_BOOLEAN) from None
        return await receipts.set_auto(request.account, body)

    async def send_typing(request: Request) -> dict[str, Any]:
        return await typing.send(request.account, request.json(allow_empty=True))

    router.add("POST", "/api/mark-read", mark_read)
    router.add("POST", "/accounts/settings/auto-mark-read", auto_mark_read)
    router.add("POST", "/api/send-typing-indicator", send_typing)
