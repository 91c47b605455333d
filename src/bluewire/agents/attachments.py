"""The gateway's end of inbound attachments (the frame format: `connectors.agent.attachments`):
each attachment an agent carried is stored as inbound media (expiring like any received media)
and its `file://` media_url replaced by the gateway's own download link; one that is refused is
logged and dropped, and never keeps the message from being stored."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Protocol

from ..connectors.agent.attachments import FILE_SCHEME
from ..connectors.protocol import Inbound
from ..domain.errors import ApiError

log = logging.getLogger(__name__)


class MediaPut(Protocol):
    """What the gateway needs of the MediaService."""

    async def put(self, account_id: int | None, filename: str, data: bytes, *,
                  source_url: str | None = None, expires: bool = False) -> Any: ...

    def download_url(self, media: Any) -> str: ...


async def _stored_link(media: MediaPut, attachment: dict[str, Any]) -> str | None:
    """The download link of one attachment once stored, or None (logged) if it is refused."""
    try:
        data = base64.b64decode(str(attachment["data"]), validate=True)
        stored = await media.put(None, str(attachment["name"]), data, expires=True)
    except (KeyError, binascii.Error, ApiError) as exc:
        log.warning("an inbound attachment %s was refused (%s); dropped",
                    attachment.get("name"), getattr(exc, "message", exc))
        return None
    return media.download_url(stored)


async def with_stored_media(media: MediaPut, message: Inbound,
                            attachments: Iterable[dict[str, Any]]) -> Inbound:
    """`message` with its attachments stored and its `file://` media_urls replaced by links."""
    links: dict[str, str | None] = {}
    for attachment in attachments:
        if isinstance(attachment, dict) and isinstance(attachment.get("url"), str):
            links[attachment["url"]] = await _stored_link(media, attachment)
    urls: list[str] = []
    for url in message.media_urls:
        if not url.startswith(FILE_SCHEME):
            urls.append(url)
        elif links.get(url):
            urls.append(str(links[url]))
    return replace(message, media_urls=tuple(urls))
