"""Rows of `media_objects`: what each stored media file is, whose, and until when."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from .schema import media_objects
from .writer import Tx


@dataclass(frozen=True, slots=True)
class MediaObject:
    media_id: str
    account_id: int | None
    source_url: str | None
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    created_at: int
    expires_at: int | None


_COLUMNS = ("media_id", "account_id", "source_url", "filename", "content_type", "size",
            "sha256", "storage_key", "created_at", "expires_at")


def add_media_object(tx: Tx, media: MediaObject) -> None:
    tx.execute(media_objects.insert().values(
        **{name: getattr(media, name) for name in _COLUMNS}))


def media_object(conn: Connection, media_id: str) -> MediaObject | None:
    row = conn.execute(
        select(*(media_objects.c[name] for name in _COLUMNS))
        .where(media_objects.c.media_id == media_id)
    ).first()
    return None if row is None else MediaObject(*row)
