"""Attachments of inbound events: the agent reads the engine's `file://` media (files on its
host, useless to anyone else) and carries their bytes in the event frame; the gateway stores
them as inbound media and puts its own download links in their place (agents/attachments.py).

In the frame, next to "message": `"attachments": [{"url": "file:///…", "name": "IMG_1.jpeg",
"content_type": "image/jpeg", "data": "<base64>"}]`. Each `url` is the media_url it replaces
(order kept); a `file://` media_url without an attachment (missing, unreadable, too large) is
dropped. Other media_urls (http/https) pass through unchanged.

Bounds: the gateway's WebSocket takes frames up to 16 MiB (uvicorn's default) and stores media
up to limits.MAX_MEDIA_BYTES, so each file is read only up to that size and one event carries
at most _MAX_EVENT_BYTES of them: whatever does not fit is logged and dropped, and never keeps
the event from being delivered."""

from __future__ import annotations

import base64
import logging
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ...domain import limits

log = logging.getLogger(__name__)

FILE_SCHEME = "file://"
MAX_FILE_BYTES = limits.MAX_MEDIA_BYTES
_MAX_EVENT_BYTES = 10 * 1024 * 1024  # base64 adds a third: stays well under a 16 MiB frame


def file_path(url: str) -> Path | None:
    """The local path a `file://` URL names, or None for any other URL."""
    if not url.startswith(FILE_SCHEME):
        return None
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parts.path))


def _read_bounded(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None (logged) when it is missing, unreadable or over `limit`."""
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        log.warning("attachment %s cannot be read (%s); dropped", path, exc)
        return None
    if len(data) > limit:
        log.warning("attachment %s is larger than %d bytes; dropped", path, limit)
        return None
    return data


def attachment_plain(url: str, path: Path, data: bytes) -> dict[str, Any]:
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return {"url": url, "name": path.name, "content_type": content_type,
            "data": base64.b64encode(data).decode("ascii")}


def read_attachments(media_urls: Iterable[str]) -> list[dict[str, Any]]:
    """The `file://` media of an inbound, read for its event frame (see the module docstring)."""
    attachments: list[dict[str, Any]] = []
    budget = _MAX_EVENT_BYTES
    for url in media_urls:
        path = file_path(url)
        if path is None:
            continue
        data = _read_bounded(path, min(MAX_FILE_BYTES, budget))
        if data is not None:
            budget -= len(data)
            attachments.append(attachment_plain(url, path, data))
    return attachments
