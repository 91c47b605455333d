"""Where this server's own requests (webhooks, media fetches) may go: the addresses a host
resolves to are checked just before they are connected to, so DNS cannot swap them afterwards."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from .domain.ssrf import HOW_TO_ALLOW, refusal, refusal_of_all

AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str,
                 tuple[str, int] | tuple[str, int, int, int]]


class RefusedAddress(OSError):
    """The target resolves only to addresses this server may not reach."""


def _refuse_all(host: str, addresses: list[str]) -> None:
    reason = refusal_of_all(host, addresses)
    if reason is not None:
        raise RefusedAddress(f"refused: {reason}; {HOW_TO_ALLOW}")


async def addresses_of(host: str, port: int, *, guarded: bool) -> list[AddrInfo]:
    """What `host` resolves to (as aiohttp resolves it); `guarded`, less the addresses that are
    refused, and RefusedAddress if that leaves none."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG)
    if not guarded:
        return infos
    _refuse_all(host, [str(info[4][0]) for info in infos])
    return [info for info in infos if refusal(str(info[4][0])) is None]


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, less the refused addresses."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        _refuse_all(host, [result["host"] for result in results])
        return [result for result in results if refusal(result["host"]) is None]

    async def close(self) -> None:
        await self._inner.close()


def literal_refusal(url: str) -> str | None:
    """Why the IP literal `url` names may not be reached (no resolver is asked for one)."""
    host = urlsplit(url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    reason = refusal(host)
    return f"refused: {reason}; {HOW_TO_ALLOW}" if reason else None
