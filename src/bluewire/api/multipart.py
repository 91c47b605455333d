"""A multipart/form-data body's file field, found in one flat pass.

The parts are found by searching for the boundary (`bytes.find`, in C), never by recursion:
a part that is itself multipart is only bytes here. The number of parts and the size of each
part's head are bounded, so the work is bounded by the body's size and the part limit, and it
is done in slices (a part's head, or a search through 256 KiB) between which the event loop
runs: a body as large as an upload may be never holds the loop for more than a millisecond or
so, and other requests are answered meanwhile.
"""

from __future__ import annotations

import asyncio
import binascii
from email.message import Message
from email.parser import BytesHeaderParser

from ..domain.errors import validation_error

MULTIPART = "multipart/form-data"
MAX_PART_HEAD_BYTES = 8 * 1024
_WINDOW = 256 * 1024  # bytes searched between two turns of the event loop
_HEADS = BytesHeaderParser()


async def multipart_file(content_type: str, body: bytes, field: str, *,
                   max_parts: int) -> tuple[str, bytes]:
    """The file name and the bytes of the part named `field`, or the 400 that says what is
    wrong with the body."""
    if not content_type.lower().startswith(MULTIPART):
        raise validation_error(f"send the file as {MULTIPART} in the field `{field}`")
    envelope = Message()
    envelope["content-type"] = content_type
    boundary = envelope.get_boundary()
    if not boundary or len(boundary) > 70:
        raise validation_error(f"the Content-Type {MULTIPART} needs a `boundary` parameter of "
                               "1 to 70 characters")
    delimiter = b"--" + boundary.encode("latin-1")
    between = b"\r\n" + delimiter
    if body.startswith(delimiter):
        at = len(delimiter)
    else:
        found = body.find(between)
        if found < 0:
            raise validation_error(f"the body has no part: its boundary `{boundary}` is not in it")
        at = found + len(between)
    parts = 0
    chosen: tuple[Message, int, int] | None = None
    while not body.startswith(b"--", at):  # `--` after a delimiter closes the body
        line_end = body.find(b"\r\n", at)
        if line_end < 0:
            raise _unclosed(boundary)
        parts += 1
        if parts > max_parts:
            raise validation_error(
                f"the multipart body has more than {max_parts} parts; send the file in the field "
                f"`{field}` with only the form's few other fields", error_key="TOO_MANY_PARTS")
        head_start = line_end + 2
        if body.startswith(b"\r\n", head_start):  # a part without header fields
            head_end = data_start = head_start + 2
        else:
            head_end = body.find(b"\r\n\r\n", head_start, head_start + MAX_PART_HEAD_BYTES)
            if head_end < 0:
                raise validation_error(f"a part's header fields are longer than "
                                       f"{MAX_PART_HEAD_BYTES} bytes, or do not end")
            data_start = head_end + 4
        data_end = await _find(body, between, data_start)
        if data_end < 0:
            raise _unclosed(boundary)
        if chosen is None and field.encode() in body[head_start:head_end]:
            head = _HEADS.parsebytes(body[head_start:head_end])
            if head.get_param("name", header="content-disposition") == field:
                chosen = (head, data_start, data_end)
        at = data_end + len(between)
        await asyncio.sleep(0)
    if chosen is None:
        raise validation_error(f"no file in the multipart field `{field}`")
    head, data_start, data_end = chosen
    if head.get_content_maintype() == "multipart":
        raise validation_error(f"the `{field}` part must be a file, not multipart parts")
    filename = head.get_filename() or ""
    if not filename:
        raise validation_error(f"the `{field}` part needs a file name")
    return str(filename), _decoded(head, body[data_start:data_end], field)


async def _find(body: bytes, needle: bytes, start: int) -> int:
    """`body.find(needle, start)`, a window at a time."""
    while True:
        stop = start + _WINDOW + len(needle) - 1  # windows overlap: no match is cut in two
        found = body.find(needle, start, stop)
        if found >= 0 or stop >= len(body):
            return found
        start += _WINDOW
        await asyncio.sleep(0)


def _decoded(head: Message, data: bytes, field: str) -> bytes:
    encoding = str(head.get("content-transfer-encoding", "")).strip().lower()
    try:
        if encoding == "base64":
            return binascii.a2b_base64(data)
        if encoding == "quoted-printable":
            return binascii.a2b_qp(data)
    except binascii.Error:
        raise validation_error(f"the `{field}` part is not valid {encoding}") from None
    return data


def _unclosed(boundary: str) -> Exception:
    return validation_error(f"the multipart body ends before its closing boundary "
                            f"`--{boundary}--`")
