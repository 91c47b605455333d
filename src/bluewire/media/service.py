"""Media objects: fetch or take a file, store it, name it by an unguessable id, serve it back.

Accepted wherever an outbound `media_url` is given (send-message): an http(s) URL ending in a
media extension (fetched now, at most 5 MB), a media object id (`mo_…`, from
/api/upload-media-object or /api/upload-file), `bluewire-media://<id>`, or the download URL of
one of the account's media objects.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

from ..domain import limits
from ..domain.errors import ApiError, not_found, validation_error
from ..domain.media_types import content_type_for, extension_of
from ..domain.wire.media import UploadMediaObject
from ..store import media as media_store
from ..store.database import Database, now_ms
from ..store.media import MediaObject
from ..store.writer import Writer
from .fetch import FetchRefused, MediaFetcher, limit_text
from .store import MediaStore

SCHEME = "bluewire-media://"
DOWNLOAD_PREFIX = "/media/"
_ID = re.compile(r"^mo_[A-Za-z0-9_-]{20,44}$")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def new_media_id() -> str:
    return "mo_" + secrets.token_urlsafe(24)


class MediaService:
    def __init__(self, database: Database, writer: Writer, store: MediaStore,
                 fetcher: MediaFetcher, *, public_url: str, ttl_ms: int,
                 fetch_enabled: bool = True) -> None:
        # Off (BLUEWIRE_MEDIA_FETCH=0): media URLs are handed on as given, not copied.
        self.fetch_enabled = fetch_enabled
        self._database = database
        self._writer = writer
        self._store = store
        self._fetcher = fetcher
        self._public_url = public_url.rstrip("/")
        self._ttl_ms = ttl_ms

    async def start(self) -> None:
        await self._fetcher.start()

    async def stop(self) -> None:
        await self._fetcher.stop()

    def download_url(self, media: MediaObject) -> str:
        return f"{self._public_url}{DOWNLOAD_PREFIX}{media.media_id}/{quote(media.filename)}"

    # -- the upload endpoints -------------------------------------------------------------------

    async def upload_by_url(self, account_id: int, request: UploadMediaObject) -> dict[str, Any]:
        """POST /api/upload-media-object: fetch the URL and keep the file as a media object."""
        url = limits.check_http_url(request.media_url, "media_url")
        stored = await self.fetch(account_id, url, by_type=True)
        return {"status": "OK", "message": "Media object uploaded",
                "mediaObjectId": stored.media_id, "media_url": self.download_url(stored)}

    async def upload_file(self, account_id: int, filename: str, data: bytes) -> dict[str, Any]:
        """POST /api/upload-file: keep the file sent as a media object."""
        stored = await self.put(account_id, filename, data)
        return {"status": "OK", "media_url": self.download_url(stored),
                "mediaObjectId": stored.media_id}

    # -- storing --------------------------------------------------------------------------------

    async def fetch(self, account_id: int | None, url: str, *, field: str = "media_url",
                    expires: bool = False, by_type: bool = False) -> MediaObject:
        """Fetch `url` and store it; a refusal is the 4000 error saying why."""
        try:
            fetched = await self._fetcher.fetch(url, by_type=by_type)
        except FetchRefused as exc:
            raise validation_error(f"`{field}` {url} cannot be used: {exc}",
                                   error_key="MEDIA_REFUSED") from None
        return await self.put(account_id, fetched.filename, fetched.data, source_url=url,
                              expires=expires)

    async def put(self, account_id: int | None, filename: str, data: bytes, *,
                  source_url: str | None = None, expires: bool = False) -> MediaObject:
        extension = extension_of(filename)
        if extension not in limits.MEDIA_EXTENSIONS:
            raise validation_error("the file name must end in a media file extension "
                                   "(e.g. .png, .jpg, .mp4, .pdf)")
        if len(data) > limits.MAX_MEDIA_BYTES:
            raise validation_error(f"the file is larger than the {limit_text()} limit",
                                   error_key="MEDIA_TOO_LARGE")
        now = now_ms()
        media_id = new_media_id()
        media = MediaObject(
            media_id=media_id, account_id=account_id, source_url=source_url,
            filename=_safe_name(filename, extension), content_type=content_type_for(extension),
            size=len(data), sha256=hashlib.sha256(data).hexdigest(), storage_key=media_id,
            created_at=now, expires_at=now + self._ttl_ms if expires else None,
        )
        await self._store.put(media.storage_key, data, media.content_type)
        await self._writer.submit(lambda tx: media_store.add_media_object(tx, media))
        return media

    # -- naming ---------------------------------------------------------------------------------

    def referenced_id(self, raw: str) -> str | None:
        """The media object id `raw` names (bare id, bluewire-media://, our download URL)."""
        value = raw.strip()
        if value.startswith(SCHEME):
            value = value[len(SCHEME):].strip("/")
        elif "://" in value:
            parts = urlsplit(value)
            if not parts.path.startswith(DOWNLOAD_PREFIX):
                return None
            value = parts.path[len(DOWNLOAD_PREFIX):].split("/", 1)[0]
        return value if _ID.match(value) else None

    async def owned(self, account_id: int, media_id: str) -> MediaObject | None:
        media = await self._database.read_async(
            lambda conn: media_store.media_object(conn, media_id))
        if media is None or media.account_id != account_id or self._expired(media):
            return None
        return media

    async def outbound_url(self, account_id: int, raw: object) -> str | None:
        """The `media_url` an outbound message carries: our download URL of the stored file."""
        if raw is None or raw == "":
            return None
        if isinstance(raw, str):
            media_id = self.referenced_id(raw)
            if media_id is not None:
                media = await self.owned(account_id, media_id)
                if media is not None:
                    return self.download_url(media)
                if not raw.strip().startswith(("http://", "https://")):
                    raise validation_error(f"`media_url` names no media object of this "
                                           f"account: {media_id}")
        url = limits.check_media_url(raw)
        assert url is not None
        if self.fetch_enabled:
            await self.fetch(account_id, url)
        return url

    def precheck(self, raw: object) -> str | None:
        """`media_url` as given, once the checks that need no network pass (made before
        anything else); None when there is none."""
        if raw is None or raw == "":
            return None
        if not (isinstance(raw, str) and self.referenced_id(raw) is not None):
            limits.check_media_url(raw)
        return raw.strip() if isinstance(raw, str) else None

    # -- serving --------------------------------------------------------------------------------

    def _expired(self, media: MediaObject) -> bool:
        return media.expires_at is not None and now_ms() >= media.expires_at

    async def download(self, media_id: str) -> tuple[MediaObject, bytes]:
        """A live media object and its bytes, or the ApiError (404, 410) that answers for it."""
        media = (await self._database.read_async(
            lambda conn: media_store.media_object(conn, media_id))
            if _ID.match(media_id) else None)
        if media is None:
            raise not_found("No such media")
        if self._expired(media):
            await self._store.delete(media.storage_key)
            raise ApiError(410, "This media link has expired (media links last "
                           f"{self._ttl_ms / 86_400_000:g} days)", error_key="MEDIA_EXPIRED")
        data = await self._store.get(media.storage_key)
        if data is None:
            raise ApiError(410, "This media file is no longer stored", error_key="MEDIA_GONE")
        return media, data


def _safe_name(filename: str, extension: str) -> str:
    name = _UNSAFE_NAME.sub("_", filename.rsplit("/", 1)[-1]).strip("._") or "file"
    if extension_of(name) != extension:
        name = f"{name}.{extension}"
    return name[-120:]

