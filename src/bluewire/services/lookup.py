"""Whether a number is on iMessage (GET /api/evaluate-service)."""

from __future__ import annotations

from typing import Any

from ..domain.errors import ApiError, ErrorCode
from ..domain.statuses import Service
from ..store.accounts import Account
from .lines import ConnectorRegistry, LineDirectory


class LookupService:
    def __init__(self, lines: LineDirectory, registry: ConnectorRegistry) -> None:
        self._lines = lines
        self._registry = registry

    async def evaluate(self, account: Account, number: str) -> dict[str, Any]:
        numbers = self._lines.numbers_of(account.id)
        if not numbers:
            raise ApiError(400, "This account has no line to look numbers up from",
                           error_code=ErrorCode.VALIDATION)
        line = numbers[0]
        connector = self._registry.for_line(line)
        service = await connector.evaluate_service(line, number) if connector else None
        if service is None:  # the wire reference: an inconclusive lookup is a retryable error
            raise ApiError(503, f"Unknown: the lookup of {number} from line {line} was "
                           "inconclusive (a Mac answers from the conversations it has had, a "
                           "BlueBubbles server only with its Private API); try again later",
                           error_code=ErrorCode.SERVER_RATE, headers={"x-should-retry": "true"})
        # The wire type knows iMessage and SMS only: RCS is "not iMessage".
        answer: dict[str, Any] = {
            "number": number,
            "service": Service.IMESSAGE.value if service is Service.IMESSAGE else "SMS",
        }
        if service is Service.RCS:
            answer["rcs"] = True
        return answer

    async def evaluate_email(self, account: Account, email: str) -> dict[str, Any]:
        # Sandbox phones are numbers; an address has no simulated device behind it.
        return {"number": email, "service": "SMS"}
