"""Media objects: upload by URL, upload a file, download."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ..limits import MAX_MEDIA_BYTES, MAX_URL_CHARS

_LIMIT = f"{MAX_MEDIA_BYTES // (1024 * 1024)} MB"

# A file's bytes as they travel, not encoded: a multipart part, or a whole answer.
Binary = Annotated[str, Meta(extra_json_schema={"format": "binary"})]


class UploadMediaObject(msgspec.Struct, kw_only=True):
    """POST /api/upload-media-object."""

    media_url: Annotated[str, Meta(
        description=f"An http(s) URL of the file (a signed URL, say), at most {_LIMIT}; it need "
                    "not end in an extension when the server names a media type",
        extra_json_schema={"format": "uri", "maxLength": MAX_URL_CHARS})]


class UploadFile(msgspec.Struct, kw_only=True):
    """POST /api/upload-file, as multipart/form-data (read by the endpoint itself)."""

    file: Annotated[Binary, Meta(
        description=f"The file, at most {_LIMIT}, with a file name ending in a media extension "
                    "(e.g. .png, .jpg, .mp4, .pdf)")]


class MediaObjectUploaded(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    message: str
    mediaObjectId: Annotated[str, Meta(description="Names the file in send-message's "
                                                   "`media_url` (also as `bluewire-media://<id>`)")]
    media_url: Annotated[str, Meta(description="The file's download URL")]


class FileUploaded(msgspec.Struct, kw_only=True):
    status: Literal["OK"]
    media_url: Annotated[str, Meta(description="The file's download URL")]
    mediaObjectId: Annotated[str, Meta(description="Names the file in send-message's "
                                                   "`media_url` (also as `bluewire-media://<id>`)")]


class MediaPath(msgspec.Struct, kw_only=True):
    media_id: Annotated[str, Meta(description="The media object's id (`mo_…`)")]
    filename: Annotated[str, Meta(description="The file's name, as its download URL gives it")]
