"""Refusing a webhook URL when it is registered if this server would refuse to send to it.

The check made at each delivery (delivery/sender.py) stays the one that counts, since DNS may
change; this one only tells the caller at once, with the fix, what delivery would fail on. A
host that does not resolve now is accepted: it may resolve later.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from ..domain.errors import validation_error
from ..domain.ssrf import HOW_TO_ALLOW, refusal, refusal_of_all

RESOLVE_TIMEOUT_S = 2.0


class WebhookTargets:
    def __init__(self, *, allow_private: bool, timeout_s: float = RESOLVE_TIMEOUT_S) -> None:
        self._allow_private = allow_private
        self._timeout_s = timeout_s

    async def check(self, url: str, field: str) -> None:
        """The 400 naming `field` when `url`'s host is one webhooks may not be sent to."""
        if self._allow_private:
            return
        host = urlsplit(url).hostname or ""
        reason = await self._refusal(host)
        if reason is not None:
            raise validation_error(f"`{field}` cannot be used: {reason}; {HOW_TO_ALLOW}")

    async def check_all(self, urls: list[tuple[str, str]]) -> None:
        """`check` each (url, field), the hosts resolved concurrently; the first refused in
        order is the one named."""
        outcomes = await asyncio.gather(*(self.check(url, field) for url, field in urls),
                                        return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _refusal(self, host: str) -> str | None:
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            pass
        else:
            return refusal(host)
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM),
                self._timeout_s)
        except (OSError, TimeoutError, UnicodeError):
            return None
        return refusal_of_all(host, [str(info[4][0]) for info in infos])
