"""The upload's multipart parser: flat, bounded in parts, strict about where the body ends."""

from __future__ import annotations

import base64

import pytest

from bluewire.api.multipart import multipart_file
from bluewire.domain.errors import ApiError

TYPE = "multipart/form-data; boundary=b0undary"


def part(name: str, data: bytes, filename: str | None = None, extra: str = "") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return (f"--b0undary\r\nContent-Disposition: {disposition}\r\n{extra}\r\n".encode()
            + data + b"\r\n")


END = b"--b0undary--\r\n"


async def refusal(body: bytes, content_type: str = TYPE, max_parts: int = 100) -> str:
    with pytest.raises(ApiError) as raised:
        await multipart_file(content_type, body, "file", max_parts=max_parts)
    assert raised.value.http_status == 400 and raised.value.error_code == 4000
    return raised.value.message


async def test_the_file_part_is_found_among_others_with_its_bytes_whole() -> None:
    data = b"\x00\r\n--b0undar\r\n-- not the end"
    body = b"preamble\r\n" + part("note", b"hi") + part("file", data, "a.png") + END
    assert await multipart_file(TYPE, body, "file", max_parts=100) == ("a.png", data)


async def test_a_base64_part_is_decoded() -> None:
    body = part("file", base64.b64encode(b"picture"), "a.png",
                "Content-Transfer-Encoding: base64\r\n") + END
    assert await multipart_file(TYPE, body, "file", max_parts=100) == ("a.png", b"picture")


async def test_more_parts_than_allowed_are_refused_even_after_the_file() -> None:
    body = part("file", b"x", "a.png") + b"".join(part(f"f{n}", b"") for n in range(3)) + END
    assert "more than 3 parts" in await refusal(body, max_parts=3)
    assert await multipart_file(TYPE, body, "file", max_parts=4)


async def test_bodies_that_are_not_whole_are_refused_with_what_to_fix() -> None:
    assert "closing boundary" in await refusal(part("file", b"x", "a.png"))
    assert "boundary" in await refusal(b"nothing", content_type="multipart/form-data")
    assert "no part" in await refusal(b"nothing")
    assert "no file" in await refusal(part("other", b"x", "a.png") + END)
    assert "file name" in await refusal(part("file", b"x") + END)
    assert "multipart/form-data" in await refusal(b"{}", content_type="application/json")
    huge_head = b"--b0undary\r\nX: " + b"a" * 10_000 + b"\r\n\r\nx\r\n" + END
    assert "header fields" in await refusal(huge_head)
    nested = part("file", b"--inner\r\n\r\nx\r\n--inner--", "a.zip",
                  "Content-Type: multipart/mixed; boundary=inner\r\n") + END
    assert "not multipart" in await refusal(nested)
