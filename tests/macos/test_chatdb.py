from __future__ import annotations

import struct

import pytest

from bluewire.connectors.macos.attributed_body import decode_attributed_body
from bluewire.connectors.macos.chatdb import apple_to_unix_ms, unix_ms_to_apple_ns

from .messages_db import typedstream_blob


def test_apple_dates_in_nanoseconds_and_in_seconds() -> None:
    unix_ms = 1_700_000_000_123
    ns = unix_ms_to_apple_ns(unix_ms)
    assert apple_to_unix_ms(ns) == unix_ms
    assert apple_to_unix_ms(ns // 1_000_000_000) == 1_700_000_000_000  # before macOS 10.13
    assert apple_to_unix_ms(0) is None and apple_to_unix_ms(None) is None


@pytest.mark.parametrize("text", ["", "hi", "x" * 127, "y" * 128, "é" * 300, "z" * 40_000,
                                  "emoji 👍🏽 \"quoted\" \\ \n"])
def test_attributed_body_every_length_form(text: str) -> None:
    assert decode_attributed_body(typedstream_blob(text)) == text


def test_attributed_body_fallback_scan_reads_the_layout_alone() -> None:
    """What pytypedstream rejects (not a whole typedstream) is still read by the byte layout."""
    text = "ü" * 100
    data = text.encode()
    fragment = b"\x00junk\x01\x2b\x81" + struct.pack("<H", len(data)) + data + b"\x86"
    assert decode_attributed_body(fragment) == text
    assert decode_attributed_body(b"\x01\x2b\x82" + struct.pack("<I", 3) + b"abc") == "abc"


def test_attributed_body_without_text() -> None:
    assert decode_attributed_body(None) is None
    assert decode_attributed_body(b"no string here") is None
    assert decode_attributed_body(b"\x01\x2b\x81\xff") is None
