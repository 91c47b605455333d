"""The media fetcher sends no cookies: it fetches every account's URLs with one client, so a
cookie one host set would otherwise go with another account's fetches from that host."""

from __future__ import annotations

import asyncio

from bluewire.media.fetch import MediaFetcher

from ..file_server import serving

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
COOKIE = "media-session=s3cr3t"


def test_a_cookie_a_media_host_sets_is_never_sent_back() -> None:
    heard: list[dict[str, str]] = []

    async def fetch_twice(base: str) -> list[bytes]:
        fetcher = MediaFetcher(allow_private=True, timeout_s=10)
        await fetcher.start()
        try:
            return [(await fetcher.fetch(f"{base}/{name}")).data for name in ("a.png", "b.png")]
        finally:
            await fetcher.stop()

    files = {"/a.png": ("image/png", PNG), "/b.png": ("image/png", PNG)}
    with serving(files, set_cookie=f"{COOKIE}; Path=/", heard=heard) as base:
        # By name: a cookie set by an IP address would not be kept anyway.
        fetched = asyncio.run(fetch_twice(base.replace("127.0.0.1", "localhost")))

    assert fetched == [PNG, PNG]
    assert len(heard) == 2
    assert [h["cookie"] for h in heard if "cookie" in h] == []
