"""The media service a process runs with, from its settings."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from ..config import Settings
from ..store.database import Database
from ..store.writer import Writer
from .fetch import MediaFetcher
from .service import MediaService
from .store import LocalMediaStore, MediaStore, S3MediaStore

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"


def media_dir(settings: Settings) -> Path:
    """BLUEWIRE_MEDIA_DIR, else `bluewire-media/` next to the SQLite database."""
    if settings.media_dir:
        return Path(settings.media_dir)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "bluewire-media"
    return Path("bluewire-media").resolve()


def media_store(settings: Settings) -> MediaStore:
    if settings.media_s3_bucket:
        return S3MediaStore(bucket=settings.media_s3_bucket,
                            endpoint_url=settings.media_s3_endpoint,
                            access_key_id=settings.media_s3_access_key_id,
                            secret_access_key=settings.media_s3_secret_access_key,
                            region=settings.media_s3_region, prefix=settings.media_s3_prefix)
    return LocalMediaStore(media_dir(settings))


def build_media(settings: Settings, database: Database, writer: Writer) -> MediaService:
    fetcher = MediaFetcher(allow_private=settings.allow_private_webhooks,
                           timeout_s=settings.media_fetch_timeout_ms / 1000)
    return MediaService(database, writer, media_store(settings), fetcher,
                        public_url=settings.public_url or DEFAULT_PUBLIC_URL,
                        ttl_ms=settings.media_ttl_ms, fetch_enabled=settings.media_fetch)
