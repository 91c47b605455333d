"""Reading a console form, bounded: the console's forms hold a few fields and at most one file,
so a body of more parts is refused (Starlette answers 400) before it costs much to parse."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from ..domain.errors import validation_error
from ..domain.limits import MAX_MEDIA_BYTES

MAX_FORM_FIELDS = 100
MAX_FORM_FILES = 1


async def read_form(request: Request) -> FormData:
    return await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS)


async def attached_file(form: FormData, field: str = "media") -> tuple[str, bytes] | None:
    """The file a form carries in `field` (its name and bytes, read up to one byte past the
    media limit so that the store refuses an oversized one), or None when none was chosen."""
    upload = form.get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = await upload.read(MAX_MEDIA_BYTES + 1)
    if not data:
        raise validation_error(f"the attached file {upload.filename} is empty")
    return upload.filename, data
