"""Reading a console form, bounded: the console's forms hold a few fields and at most one file,
so a body of more parts is refused (Starlette answers 400) before it costs much to parse."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request

MAX_FORM_FIELDS = 100
MAX_FORM_FILES = 1


async def read_form(request: Request) -> FormData:
    return await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS)
