"""One webhook attempt over HTTP: signed, bounded in time and size, guarded against SSRF."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from .. import __version__
from ..domain.ssrf import HOW_TO_ALLOW, refusal, refusal_of_all
from ..domain.webhooks import RESPONSE_SNIPPET_BYTES, TIMEOUT_S, signature_headers


class RefusedAddress(OSError):
    """The target resolves only to addresses webhooks may not reach."""


class GuardedResolver(AbstractResolver):
    """Resolves as usual, then keeps only the addresses a webhook may reach: the check is made
    on the address that is about to be connected to, so DNS cannot swap it afterwards."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        reason = refusal_of_all(host, [result["host"] for result in results])
        if reason is not None:
            raise RefusedAddress(f"refused: {reason}; {HOW_TO_ALLOW}")
        return [result for result in results if refusal(result["host"]) is None]

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True, slots=True)
class Reply:
    latency_ms: float
    status_code: int | None
    error: str | None
    response: str | None
    retry_after: str | None
    # The address is one this server refuses: no retry can succeed.
    refused: bool = False


class WebhookSender:
    def __init__(self, *, allow_private: bool, connections: int = 256,
                 timeout_s: float = TIMEOUT_S) -> None:
        self._allow_private = allow_private
        self._connections = connections
        self._timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    @property
    def timeout_s(self) -> float:
        """How long an attempt may take, whole."""
        return self._timeout_s

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self._connections, limit_per_host=self._connections,
            resolver=None if self._allow_private else GuardedResolver(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            headers={"user-agent": f"bluewire-webhooks/{__version__}"},
            skip_auto_headers=("accept-encoding",),
            cookie_jar=aiohttp.DummyCookieJar(),  # shared by every account: keeps no cookies
        )

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, body: bytes, *, webhook_id: str, secret: str | None,
                   timestamp: int, send_secret: bool = True) -> Reply:
        assert self._session is not None, "the sender is not started"
        headers: dict[str, Any] = {"content-type": "application/json",
                                   **signature_headers(secret, webhook_id, timestamp, body,
                                                       send_secret=send_secret)}
        started = time.perf_counter()

        def reply(status: int | None = None, error: str | None = None,
                  response: str | None = None, retry_after: str | None = None,
                  refused: bool = False) -> Reply:
            return Reply(round((time.perf_counter() - started) * 1000, 3), status, error,
                         response, retry_after, refused)

        if not self._allow_private:
            literal = _literal_refusal(url)
            if literal is not None:
                return reply(error=literal, refused=True)
        try:
            async with self._session.post(url, data=body, headers=headers,
                                          allow_redirects=False) as answer:
                snippet = await answer.content.read(RESPONSE_SNIPPET_BYTES)
                return reply(answer.status, None, snippet.decode("utf-8", errors="replace"),
                             answer.headers.get("retry-after"))
        except TimeoutError:
            return reply(error=f"timed out after {self._timeout_s:g} s")
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedAddress):
                return reply(error=str(exc.os_error), refused=True)
            return reply(error=f"cannot connect: {exc.os_error or exc}")
        except aiohttp.ClientError as exc:
            return reply(error=f"{type(exc).__name__}: {exc}")
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            return reply(error=f"{type(exc).__name__}: {exc}")


def _literal_refusal(url: str) -> str | None:
    """aiohttp connects to an IP literal without asking the resolver: check it here."""
    host = urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    reason = refusal(host)
    return f"refused: {reason}; {HOW_TO_ALLOW}" if reason else None
