"""Whether a number is on iMessage (GET /api/evaluate-service)."""

from __future__ import annotations

from typing import Any

from ..domain.errors import ApiError, ErrorCode
from ..domain.statuses import Service
from ..store.accounts import Account
from .lines import ConnectorRegistry, LineDirectory

SANDBOX = "sandbox"  # the simulated network's connector


class LookupService:
    def __init__(self, lines: LineDirectory, registry: ConnectorRegistry) -> None:
        self._lines = lines
        self._registry = registry

    async def evaluate(self, account: Account, number: str) -> dict[str, Any]:
        lines = self._lookup_lines(account)
        service, asked = None, []
        for line in lines:
            connector = self._registry.for_line(line)
            if connector is None:
                continue
            asked.append(line)
            service = await connector.evaluate_service(line, number)
            if service is not None:
                break
        if service is None:  # the wire reference: an inconclusive lookup is a retryable error
            raise ApiError(503, f"Unknown: the lookup of {number} from "
                           f"{'line' if len(asked) == 1 else 'lines'} {', '.join(asked)} "
                           "was inconclusive (a Mac answers from the "
                           "conversations it has had, when its agent is connected; a "
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

    def _lookup_lines(self, account: Account) -> list[str]:
        """The account's lines that can look numbers up: those on a real network (a Mac,
        BlueBubbles), asked in turn; the sandbox's only when there is none, since it can only
        make an answer up for a real number."""
        numbers = self._lines.numbers_of(account.id)
        if not numbers:
            raise ApiError(400, "This account has no line to look numbers up from",
                           error_code=ErrorCode.VALIDATION)
        able = [n for n in numbers if (caps := self._registry.capabilities_for(n)) is not None
                and caps.lookup]
        if not able:
            notes = "".join(self._registry.capability_note(n) for n in numbers)
            raise ApiError(400, f"No line of this account can look numbers up: "
                           f"{', '.join(numbers)} lack the lookup capability{notes}",
                           error_code=ErrorCode.VALIDATION)
        real = [n for n in able if (line := self._lines.line(n)) is not None
                and line.connector != SANDBOX]
        return real or able

    async def evaluate_email(self, account: Account, email: str) -> dict[str, Any]:
        # Sandbox phones are numbers; an address has no simulated device behind it.
        return {"number": email, "service": "SMS"}
