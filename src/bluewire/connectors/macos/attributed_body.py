"""The text of a message whose `text` column is NULL, from its `attributedBody` blob.

The blob is an NSAttributedString archived in Apple's typedstream format. pytypedstream decodes
it fully; the byte scan (0x01 0x2B, a length, UTF-8) is the fallback for blobs it rejects.
"""

from __future__ import annotations

import typedstream

_STRING_MARKER = b"\x01\x2b"
_LENGTH_2 = 0x81
_LENGTH_4 = 0x82


def decode_attributed_body(blob: bytes | None) -> str | None:
    """The message text inside `blob`, or None when there is none."""
    if not blob:
        return None
    text = _decode_typedstream(blob)
    return text if text is not None else _scan_for_string(blob)


def _decode_typedstream(blob: bytes) -> str | None:
    try:
        root = typedstream.unarchive_from_data(blob)
    except Exception:  # a malformed or unusual blob: the byte scan may still find the text
        return None
    for item in getattr(root, "contents", ()):
        value = getattr(item, "value", None) if isinstance(item, typedstream.TypedValue) else None
        text = getattr(value, "value", None)
        if isinstance(text, str):
            return text
    return None


def _scan_for_string(blob: bytes) -> str | None:
    start = blob.find(_STRING_MARKER)
    if start < 0:
        return None
    length, offset = _read_length(blob, start + len(_STRING_MARKER))
    if length is None or offset + length > len(blob):
        return None
    try:
        return blob[offset:offset + length].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _read_length(blob: bytes, offset: int) -> tuple[int | None, int]:
    """A typedstream integer: one byte below 0x80, or 0x81/0x82 then 2/4 bytes little-endian."""
    if offset >= len(blob):
        return None, offset
    first = blob[offset]
    if first < 0x80:
        return first, offset + 1
    width = {_LENGTH_2: 2, _LENGTH_4: 4}.get(first)
    if width is None or offset + 1 + width > len(blob):
        return None, offset
    return int.from_bytes(blob[offset + 1:offset + 1 + width], "little"), offset + 1 + width
