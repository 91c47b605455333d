"""Media endpoints: upload by URL (Sendblue's media objects), upload a file, download."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from ..domain.errors import validation_error
from ..domain.limits import MAX_MEDIA_BYTES, check_http_url
from ..media.service import MediaService
from .http import Request, Response, Router

UPLOAD_BODY_BYTES = MAX_MEDIA_BYTES + 64 * 1024  # the file and its multipart envelope


def _multipart_file(request: Request, field: str) -> tuple[str, bytes]:
    content_type = request.header("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        raise validation_error("send the file as multipart/form-data in the field `file`")
    envelope = BytesParser(policy=HTTP).parsebytes(
        b"content-type: " + content_type.encode("latin-1") + b"\r\n\r\n" + request.body)
    assert isinstance(envelope, EmailMessage)
    for part in envelope.iter_parts():
        if not isinstance(part, EmailMessage):
            continue
        if part.get_param("name", header="content-disposition") == field:
            data = part.get_payload(decode=True)
            filename = part.get_filename() or ""
            if not isinstance(data, bytes):
                break
            if not filename:
                raise validation_error(f"the `{field}` part needs a file name")
            return filename, data
    raise validation_error(f"no file in the multipart field `{field}`")


def register_media_routes(router: Router, media: MediaService) -> None:
    async def upload_media_object(request: Request) -> dict[str, Any]:
        url = check_http_url(request.json().get("media_url"), "media_url")
        stored = await media.fetch(request.account.id, url, by_type=True)
        return {"status": "OK", "message": "Media object uploaded",
                "mediaObjectId": stored.media_id, "media_url": media.download_url(stored)}

    async def upload_file(request: Request) -> dict[str, Any]:
        filename, data = _multipart_file(request, "file")
        stored = await media.put(request.account.id, filename, data)
        return {"status": "OK", "media_url": media.download_url(stored),
                "mediaObjectId": stored.media_id}

    async def download(request: Request) -> Response:
        stored, data = await media.download(request.params["media_id"])
        return Response(data, content_type=stored.content_type.encode(), headers=[
            (b"cache-control", b"private, max-age=3600"),
            (b"x-content-type-options", b"nosniff"),
            (b"content-disposition", f'inline; filename="{stored.filename}"'.encode()),
        ])

    router.add("POST", "/api/upload-media-object", upload_media_object)
    router.add("POST", "/api/upload-file", upload_file, max_body=UPLOAD_BODY_BYTES)
    router.add("GET", "/media/{media_id}/{filename}", download, authenticated=False)
