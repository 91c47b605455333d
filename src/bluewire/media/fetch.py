"""Fetching a media URL: streamed, stopped at the size limit, type-checked, SSRF-guarded."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import aiohttp

from .. import __version__
from ..domain.limits import MAX_MEDIA_BYTES, MEDIA_EXTENSIONS
from ..domain.media_types import (
    content_type_for,
    content_type_refusal,
    extension_for,
    extension_of,
)
from ..outbound_guard import GuardedResolver, RefusedAddress, literal_refusal

MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


class FetchRefused(Exception):
    """The URL cannot be used as media; the message says why."""


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    filename: str
    content_type: str
    data: bytes


def limit_text(limit: int = MAX_MEDIA_BYTES) -> str:
    return f"{limit / (1024 * 1024):g} MB ({limit} bytes)"


class MediaFetcher:
    def __init__(self, *, allow_private: bool, timeout_s: float,
                 max_bytes: int = MAX_MEDIA_BYTES) -> None:
        self._allow_private = allow_private
        self._timeout_s = timeout_s
        self._max_bytes = max_bytes
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=64, resolver=None if self._allow_private else GuardedResolver())
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            headers={"user-agent": f"bluewire-media/{__version__}"},
            cookie_jar=aiohttp.DummyCookieJar(),  # shared by every account: keeps no cookies
        )

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str, *, by_type: bool = False) -> Fetched:
        """The file at `url` (whose name ends in a media extension, or, `by_type`, whose
        content type names one), or FetchRefused."""
        try:
            return await self._fetch(url, by_type)
        except FetchRefused:
            raise
        except TimeoutError:
            raise FetchRefused(f"fetching it timed out after {self._timeout_s:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedAddress):
                raise FetchRefused(str(exc.os_error)) from None
            raise FetchRefused(f"cannot connect: {exc.os_error or exc}") from None
        except (aiohttp.ClientError, OSError, ValueError, asyncio.IncompleteReadError) as exc:
            raise FetchRefused(f"{type(exc).__name__}: {exc}") from None

    async def _fetch(self, url: str, by_type: bool) -> Fetched:
        assert self._session is not None, "the media fetcher is not started"
        extension = extension_of(urlsplit(url).path)
        for _ in range(MAX_REDIRECTS + 1):
            if not self._allow_private:
                literal = literal_refusal(url)
                if literal is not None:
                    raise FetchRefused(literal)
            async with self._session.get(url, allow_redirects=False) as answer:
                if answer.status in (301, 302, 303, 307, 308) and "location" in answer.headers:
                    url = urljoin(url, answer.headers["location"])
                    if urlsplit(url).scheme not in ("http", "https"):
                        raise FetchRefused("it redirects to a URL that is not http(s)")
                    continue
                if answer.status != 200:
                    raise FetchRefused(f"the server answered HTTP {answer.status}")
                declared = answer.content_length
                if declared is not None and declared > self._max_bytes:
                    raise FetchRefused(self._too_large(declared))
                served = answer.headers.get("content-type")
                if by_type and extension not in MEDIA_EXTENSIONS:
                    extension = extension_for(served)
                refusal = content_type_refusal(extension, served)
                if refusal is not None:
                    raise FetchRefused(refusal)
                data = await self._read(answer)
                name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or f"file.{extension}"
                if extension_of(name) != extension:
                    name = f"file.{extension}"
                return Fetched(url, name, content_type_for(extension), data)
        raise FetchRefused(f"it redirects more than {MAX_REDIRECTS} times")

    async def _read(self, answer: aiohttp.ClientResponse) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in answer.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > self._max_bytes:
                raise FetchRefused(self._too_large(None))
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, size: int | None) -> str:
        said = f" ({size} bytes)" if size is not None else ""
        return f"the file{said} is larger than the {limit_text(self._max_bytes)} limit"

