"""Which content types a media file's extension allows (in Sendblue's send-message docs, the URL
names the type)."""

from __future__ import annotations

import mimetypes

from .limits import MEDIA_EXTENSIONS

_EXACT: dict[str, frozenset[str]] = {
    "pdf": frozenset({"application/pdf"}),
    "vcf": frozenset({"text/vcard", "text/x-vcard", "text/directory"}),
    "ics": frozenset({"text/calendar"}),
    "ogg": frozenset({"audio/ogg", "application/ogg", "video/ogg"}),
    "zip": frozenset({"application/zip", "application/x-zip-compressed"}),
}
_MAJOR: dict[str, str] = {
    **{ext: "image" for ext in ("jpg", "jpeg", "png", "gif", "heic", "heif", "webp", "tif",
                                "tiff", "bmp")},
    **{ext: "audio" for ext in ("mp3", "m4a", "aac", "wav", "caf", "amr")},
    **{ext: "video" for ext in ("mp4", "mov", "m4v", "3gp", "avi", "webm")},
    **{ext: "text" for ext in ("txt", "csv")},
}
# A server that does not say what the file is: the extension decides.
UNSPECIFIED = frozenset({"application/octet-stream", "binary/octet-stream", ""})


def extension_of(name: str) -> str:
    """The lower-case extension of the last path segment of `name`, or ''."""
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def extension_for(content_type: str | None) -> str:
    """The extension a file served as `content_type` gets, or '' if it is no media type."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    for extension, types in _EXACT.items():
        if media_type in types:
            return extension
    guessed = mimetypes.guess_extension(media_type, strict=False) if media_type else None
    extension = (guessed or "").lstrip(".")
    return extension if extension in MEDIA_EXTENSIONS else ""


def content_type_for(extension: str) -> str:
    """The type a file with this extension is served as."""
    if extension in _EXACT:
        return sorted(_EXACT[extension])[0]
    guessed, _ = mimetypes.guess_type(f"file.{extension}", strict=False)
    return guessed or "application/octet-stream"


def content_type_refusal(extension: str, content_type: str | None) -> str | None:
    """Why a file served as `content_type` cannot be a `.extension` file, or None if it can."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if extension not in MEDIA_EXTENSIONS:
        if not extension:
            return (f"the server says the file is {media_type or 'of no type'}, which is not "
                    "a media type bluewire can send")
        return f"`.{extension}` is not a media file extension"
    if media_type in UNSPECIFIED:
        return None
    if extension in _EXACT:
        allowed = media_type in _EXACT[extension]
    elif extension in _MAJOR:
        allowed = (media_type.startswith(_MAJOR[extension] + "/")
                   and media_type != "text/html")
    else:  # office documents and the like
        allowed = media_type.startswith("application/")
    if allowed:
        return None
    return (f"the server says the file is {media_type}, which a .{extension} file cannot be "
            f"(expected {content_type_for(extension)})")
