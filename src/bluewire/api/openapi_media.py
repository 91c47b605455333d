"""The OpenAPI paths and schemas of media: upload by URL (reference §3.10), upload a file
(§3.16, the CLI's), and the unauthenticated download links."""

from __future__ import annotations

from typing import Any

from ..domain.limits import MAX_MEDIA_BYTES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_LIMIT = f"{MAX_MEDIA_BYTES // (1024 * 1024)} MB"
_REFUSED = _json(_ref("Error"), f"error_code 4000: the URL cannot be fetched, is larger than "
                 f"{_LIMIT}, its content type does not fit its extension, or it resolves to a "
                 "refused (private, loopback, metadata) address")
_UNAUTHORIZED = _json(_ref("Error"), "Missing or wrong API credentials")


def media_paths() -> dict[str, Any]:
    return {
        "/api/upload-media-object": {"post": {
            "summary": "Fetch a file by URL (e.g. a signed URL) and keep it as a media object",
            "description": "The id names the file in send-message's `media_url` (as the id, "
                           "`bluewire-media://<id>`, or the returned download URL). The URL "
                           "need not end in an extension when the server names a media type.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["media_url"],
                "properties": {"media_url": {"type": "string", "format": "uri"}}}}}},
            "responses": {"200": _json(_ref("MediaObjectUpload"), "Stored"),
                          "400": _REFUSED, "401": _UNAUTHORIZED},
        }},
        "/api/upload-file": {"post": {
            "summary": "Upload a file (multipart field `file`) and get its media URL",
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"200": _json(_ref("FileUpload"), "Stored"),
                          "400": _json(_ref("Error"), f"No file, no media extension, or "
                                       f"larger than {_LIMIT}"),
                          "401": _UNAUTHORIZED},
        }},
        "/media/{media_id}/{filename}": {"get": {
            "summary": "Download a stored media file (no credentials: the id is unguessable)",
            "security": [],
            "parameters": [
                {"name": "media_id", "in": "path", "required": True,
                 "schema": {"type": "string"}},
                {"name": "filename", "in": "path", "required": True,
                 "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {"description": "The file, with its content type",
                        "content": {"application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}}}},
                "404": _json(_ref("Error"), "No such media"),
                "410": _json(_ref("Error"), "The link has expired (inbound media: 30 days)"),
            },
        }},
    }


def media_schemas() -> dict[str, Any]:
    return {
        "MediaObjectUpload": {"type": "object", "properties": {
            "status": {"type": "string"}, "message": {"type": "string"},
            "mediaObjectId": {"type": "string"},
            "media_url": {"type": "string", "description": "The download URL"}}},
        "FileUpload": {"type": "object", "properties": {
            "status": {"type": "string"}, "media_url": {"type": "string"},
            "mediaObjectId": {"type": "string"}}},
    }
