"""Content and media limits, send styles and callback URLs (Sendblue's send-message docs)."""

from __future__ import annotations

from urllib.parse import urlsplit

from .errors import validation_error

MAX_CONTENT_CHARS = 18996  # content must be shorter than this (Sendblue's limit)
MAX_MEDIA_BYTES = 5 * 1024 * 1024
MAX_URL_CHARS = 2048
MAX_CAMPAIGN_CHARS = 100
MAX_TAGS = 10
MAX_TAG_CHARS = 50

SEND_STYLES: frozenset[str] = frozenset({
    "celebration", "shooting_star", "fireworks", "lasers", "love", "confetti", "balloons",
    "spotlight", "echo", "invisible", "gentle", "loud", "slam",
})

MEDIA_EXTENSIONS: frozenset[str] = frozenset({
    # images
    "jpg", "jpeg", "png", "gif", "heic", "heif", "webp", "tif", "tiff", "bmp",
    # audio
    "mp3", "m4a", "aac", "wav", "caf", "amr", "ogg",
    # video
    "mp4", "mov", "m4v", "3gp", "avi", "webm",
    # documents and cards
    "pdf", "vcf", "txt", "csv", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "pages",
    "numbers", "key", "zip", "ics",
})


def check_content(content: object, field: str = "content") -> str | None:
    if content is None:
        return None
    if not isinstance(content, str):
        raise validation_error(f"`{field}` must be a string")
    if len(content) >= MAX_CONTENT_CHARS:
        raise validation_error(
            f"`{field}` is {len(content)} characters; it must be under {MAX_CONTENT_CHARS}. "
            "Split it into several messages."
        )
    return content


def check_send_style(style: object) -> str | None:
    if style is None or style == "":
        return None
    if not isinstance(style, str) or style not in SEND_STYLES:
        raise validation_error(
            f"`send_style` must be one of: {', '.join(sorted(SEND_STYLES))}"
        )
    return style


def check_http_url(value: object, field: str) -> str:
    """`value` as an absolute http(s) URL with a host, or the 4000 error naming `field`."""
    if not isinstance(value, str) or not value.strip():
        raise validation_error(f"`{field}` must be an http(s) URL string")
    url = value.strip()
    if len(url) > MAX_URL_CHARS:
        raise validation_error(f"`{field}` is longer than {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        raise validation_error(f"`{field}` is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise validation_error(f"`{field}` must be an absolute http:// or https:// URL")
    return url


def check_media_url(value: object) -> str | None:
    if value is None or value == "":
        return None
    url = check_http_url(value, "media_url")
    path = urlsplit(url).path
    extension = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if extension not in MEDIA_EXTENSIONS:
        raise validation_error(
            "`media_url` must end in a media file extension (e.g. .png, .jpg, .mp4, .pdf); "
            "for signed URLs, upload the file with /api/upload-media-object first"
        )
    return url


def check_status_callback(value: object) -> str | None:
    if value is None or value == "":
        return None
    return check_http_url(value, "status_callback")


def check_campaign(value: object) -> str | None:
    """The campaign an outbound is filed under (surrounding spaces dropped); None when absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation_error("`campaign` must be a string")
    campaign = value.strip()
    if len(campaign) > MAX_CAMPAIGN_CHARS:
        raise validation_error(f"`campaign` is {len(campaign)} characters; it may have at most "
                               f"{MAX_CAMPAIGN_CHARS}")
    return campaign or None


def check_tags(value: object) -> tuple[str, ...]:
    """An outbound's tags, surrounding spaces dropped and each kept once, in the order given."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise validation_error("`tags` must be a list of strings")
    if len(value) > MAX_TAGS:
        raise validation_error(f"`tags` has {len(value)} tags; a message may have at most "
                               f"{MAX_TAGS}")
    tags: dict[str, None] = {}
    for index, raw in enumerate(value):
        if not isinstance(raw, str):
            raise validation_error(f"`tags[{index}]` must be a string")
        tag = raw.strip()
        if not tag:
            raise validation_error(f"`tags[{index}]` is empty")
        if len(tag) > MAX_TAG_CHARS:
            raise validation_error(f"`tags[{index}]` is {len(tag)} characters; a tag may have "
                                   f"at most {MAX_TAG_CHARS}")
        tags[tag] = None
    return tuple(tags)
