"""Fetching an outbound message's media_url to a file Messages.app can send."""

from __future__ import annotations

import re
import shutil
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiohttp

from ...domain.errors import ErrorCode
from ..protocol import SendFailed

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(url: str) -> str:
    name = _UNSAFE.sub("_", unquote(urlsplit(url).path.rsplit("/", 1)[-1])).strip("._")
    return name[:100] or "attachment"


async def download(url: str, into: Path, max_bytes: int = DEFAULT_MAX_BYTES,
                   timeout_s: float = 60.0) -> Path:
    """Save `url` under `into` (a fresh folder each time, keeping the file's own name, which
    the recipient sees); SendFailed when it cannot be fetched or is too large."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise SendFailed(ErrorCode.SEND_FAILED, f"media_url must be http(s): {url}")
    target = into / uuid.uuid4().hex / file_name(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        await _fetch(url, target, max_bytes, timeout_s)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        target.unlink(missing_ok=True)
        raise SendFailed(ErrorCode.SEND_FAILED, f"could not download media_url: {exc}") from exc
    except SendFailed:
        target.unlink(missing_ok=True)
        raise
    return target


def prune(into: Path, older_than_s: float) -> int:
    """Remove the downloads under `into` older than `older_than_s` (long sent by then); how
    many. Blocking: run it in a thread."""
    if not into.is_dir():
        return 0
    cutoff, removed = time.time() - older_than_s, 0
    for folder in into.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)
                removed += 1
        except OSError:
            continue  # in use or gone: the next round tries again
    return removed


async def _fetch(url: str, target: Path, max_bytes: int, timeout_s: float) -> None:
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        response.raise_for_status()
        if (response.content_length or 0) > max_bytes:
            raise _too_large(max_bytes)
        size = 0
        with target.open("wb") as f:
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(max_bytes)
                f.write(chunk)


def _too_large(max_bytes: int) -> SendFailed:
    return SendFailed(ErrorCode.SEND_FAILED, f"media_url is larger than {max_bytes} bytes")
