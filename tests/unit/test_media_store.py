"""The media stores behind one interface, and which content types an extension allows."""

from __future__ import annotations

from pathlib import Path

import pytest

from bluewire.domain.media_types import content_type_refusal, extension_for
from bluewire.media.store import LocalMediaStore, MediaStore, S3MediaStore


async def _round_trip(store: MediaStore) -> None:
    await store.put("mo_abc", b"\x89PNG bytes", "image/png")
    assert await store.get("mo_abc") == b"\x89PNG bytes"
    await store.delete("mo_abc")
    assert await store.get("mo_abc") is None
    with pytest.raises(ValueError):
        await store.put("../escape", b"x", "image/png")


async def test_local_store(tmp_path: Path) -> None:
    await _round_trip(LocalMediaStore(tmp_path / "media"))


async def test_s3_store() -> None:
    moto = pytest.importorskip("moto", reason="moto (an in-process S3) is not installed")
    with moto.mock_aws():
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="media")
        await _round_trip(S3MediaStore(bucket="media", endpoint_url=None, access_key_id="k",
                                       secret_access_key="s", region="us-east-1",
                                       prefix="bluewire/"))


@pytest.mark.parametrize(("extension", "served", "ok"), [
    ("png", "image/png", True), ("jpg", "image/jpeg", True), ("png", "text/html", False),
    ("png", "application/octet-stream", True), ("pdf", "application/pdf", True),
    ("pdf", "image/png", False), ("mp4", "video/mp4", True), ("txt", "text/html", False),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", True),
])
def test_content_type_fits_extension(extension: str, served: str, ok: bool) -> None:
    assert (content_type_refusal(extension, served) is None) is ok


def test_extension_from_type() -> None:
    assert extension_for("image/png") == "png" and extension_for("text/html") == ""
