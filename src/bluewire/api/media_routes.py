"""Media endpoints: upload by URL (Sendblue's media objects), upload a file, download."""

from __future__ import annotations

from typing import Any

from ..domain.limits import MAX_MEDIA_BYTES
from ..domain.wire.media import (
    Binary,
    FileUploaded,
    MediaObjectUploaded,
    MediaPath,
    UploadFile,
    UploadMediaObject,
)
from ..media.service import MediaService
from .endpoint import Endpoint
from .http import Request, Response, Router
from .multipart import MULTIPART, multipart_file

UPLOAD_BODY_BYTES = MAX_MEDIA_BYTES + 64 * 1024  # the file and its multipart envelope

TAG = "Media"
UPLOAD_MEDIA_OBJECT = Endpoint(
    "POST", "/api/upload-media-object",
    "Fetch a file by URL (e.g. a signed URL) and keep it as a media object", TAG,
    body=UploadMediaObject, response=MediaObjectUploaded,
    description="The id names the file in send-message's `media_url` (as the id, "
                "`bluewire-media://<id>`, or the returned download URL). A 400 (`error_code` "
                "4000) when the URL cannot be fetched, the file is too large, its content type "
                "does not fit its extension, or it resolves to a refused (private, loopback, "
                "metadata) address.")
# The endpoint reads its multipart body itself: `raw_body` only describes it.
UPLOAD_FILE = Endpoint(
    "POST", "/api/upload-file", "Upload a file (multipart field `file`) and get its media URL",
    TAG, raw_body=UploadFile, request_media=MULTIPART, response=FileUploaded,
    description="A 400 when there is no file, its name has no media extension, it is too "
                "large, or the body has more parts than the server takes (100 by default).")
DOWNLOAD = Endpoint(
    "GET", "/media/{media_id}/{filename}",
    "Download a stored media file (no credentials: the id is unguessable)", TAG,
    params=MediaPath, response=Binary, response_media="*/*", errors=(404, 410),
    authenticated=False,
    description="The file, with its own content type. Links of media that phones sent expire "
                "(410).")


def register_media_routes(router: Router, media: MediaService, *, max_parts: int = 100) -> None:
    async def upload_media_object(request: Request) -> dict[str, Any]:
        return await media.upload_by_url(request.account.id, request.data)

    async def upload_file(request: Request) -> dict[str, Any]:
        filename, data = await multipart_file(
            request.header("content-type") or "", request.body, "file", max_parts=max_parts)
        return await media.upload_file(request.account.id, filename, data)

    async def download(request: Request) -> Response:
        stored, data = await media.download(request.args.media_id)
        return Response(data, content_type=stored.content_type.encode(), headers=[
            (b"cache-control", b"private, max-age=3600"),
            (b"x-content-type-options", b"nosniff"),
            (b"content-disposition", f'inline; filename="{stored.filename}"'.encode()),
        ])

    router.endpoint(UPLOAD_MEDIA_OBJECT, upload_media_object)
    router.endpoint(UPLOAD_FILE, upload_file, max_body=UPLOAD_BODY_BYTES)
    router.endpoint(DOWNLOAD, download)
