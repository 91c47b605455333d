"""Where media bytes live: one small interface (put, get, delete by key), two back-ends."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any, Protocol

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class MediaStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...


def _checked(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"not a media key: {key!r}")
    return key


class LocalMediaStore:
    """A folder on disk: one file per key, written whole then renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        key = _checked(key)
        return self.root / key[-2:] / key

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._put, self._path(key), data)

    @staticmethod
    def _put(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)


class S3MediaStore:
    """An S3-compatible bucket (AWS S3, MinIO, Ceph, R2 …) through boto3."""

    def __init__(self, *, bucket: str, endpoint_url: str | None, access_key_id: str | None,
                 secret_access_key: str | None, region: str | None, prefix: str = "") -> None:
        try:
            import boto3
        except ImportError:  # pragma: no cover - depends on the installation
            raise SystemExit("BLUEWIRE_MEDIA_S3_BUCKET is set but boto3 is not installed "
                             "(pip install boto3)") from None
        self._bucket = bucket
        self._prefix = prefix
        self._client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url or None, aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None, region_name=region or None,
        )

    def _key(self, key: str) -> str:
        return self._prefix + _checked(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._client.put_object, Bucket=self._bucket,
                                Key=self._key(key), Body=data, ContentType=content_type)

    async def get(self, key: str) -> bytes | None:
        def fetch() -> bytes | None:
            try:
                answer = self._client.get_object(Bucket=self._bucket, Key=self._key(key))
            except self._client.exceptions.NoSuchKey:
                return None
            return answer["Body"].read()  # type: ignore[no-any-return]

        return await asyncio.to_thread(fetch)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._client.delete_object, Bucket=self._bucket,
                                Key=self._key(key))
