"""One declaration per endpoint: its route, its typed request and answer, and its words.

The App decodes a request into the declared types before the handler runs, and the OpenAPI
document is derived from the same declarations (`openapi.py`), so the validation and the
description of an endpoint cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, get_args, get_origin
from urllib.parse import parse_qsl

import msgspec

from ..domain.errors import ApiError, ErrorCode, exact_error

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MAX_JSON_DEPTH = 64  # arrays and objects within each other, at most


@dataclass(frozen=True, slots=True)
class HeaderParam:
    """A request header an endpoint reads (besides the credentials), for the document."""

    name: str
    description: str
    schema: dict[str, Any]
    required: bool = False


@dataclass(frozen=True, slots=False)
class Endpoint:
    """An endpoint as its clients see it.

    `body` is the JSON body's type (a msgspec Struct); `params` the path and query parameters'
    (fields named in `path` are path parameters, the others query parameters); `response` the
    type of a successful answer, `status` its HTTP status. `forms`: the body may also come as
    `application/x-www-form-urlencoded`, as Sendblue's older docs allow. `raw_body`: the
    body's type for the document alone, where the handler reads the body itself (a multipart
    upload; a webhook whose secret is checked before its body is read). `answers`: other
    answers than errors, as (status, description, type), e.g. a 503 with the 200's shape.
    `headers`: request headers the handler reads (besides the credentials), for the document.
    """

    method: str
    path: str
    summary: str
    tag: str
    body: type | None = None
    params: type | None = None
    response: Any = None
    status: int = 200
    errors: tuple[int, ...] = (400, 401)
    description: str = ""
    authenticated: bool = True
    body_required: bool = True
    forms: bool = False
    response_media: str = JSON
    request_media: str = JSON
    # The exact body answered for a body that cannot be read, where the wire fixes one.
    invalid: dict[str, Any] | None = None
    raw_body: Any = None
    answers: tuple[tuple[int, str, Any], ...] = ()
    headers: tuple[HeaderParam, ...] = ()

    @property
    def operation_id(self) -> str:
        words = re.findall(r"[a-z0-9]+", f"{self.method.lower()} {self.path}".replace("{", "by "))
        return words[0] + "".join(w.capitalize() for w in words[1:])

    @cached_property
    def _body_decoder(self) -> msgspec.json.Decoder[Any]:
        assert self.body is not None
        return msgspec.json.Decoder(self.body)

    def decode_body(self, raw: bytes, content_type: str | None) -> Any:
        """The body as `self.body`, or the 400 that names what is wrong with it."""
        try:
            return self._decode_body(raw, content_type)
        except ApiError:
            if self.invalid is None:
                raise
            raise exact_error(400, self.invalid) from None

    def _decode_body(self, raw: bytes, content_type: str | None) -> Any:
        assert self.body is not None
        media = (content_type or JSON).split(";", 1)[0].strip().lower()
        if not raw.strip():
            if self.body_required:
                raise ApiError(400, "The request body must be a JSON object", error_code=4000)
            return self.body()
        # A JSON body sent with curl's default form type is still read as the JSON it is.
        if media == FORM and self.forms and not raw.lstrip().startswith(b"{"):
            try:
                text = raw.decode()
            except UnicodeDecodeError:
                raise _invalid("The form body is not UTF-8 text") from None
            return convert(_form_values(text, self.body), self.body, "body")
        if _ESCAPED_NUL.search(raw):
            where = _nul_path(raw)
            raise _invalid(f"`{where}` {_NUL_TEXT}" if where else f"Text in the body {_NUL_TEXT}")
        if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and nesting(raw) > MAX_JSON_DEPTH:
            raise _invalid(f"The request body is nested more than {MAX_JSON_DEPTH} levels deep")
        try:
            return self._body_decoder.decode(raw)
        except msgspec.ValidationError as exc:
            raise _invalid(describe(exc, "body", self.body)) from None
        except msgspec.DecodeError as exc:
            if media != JSON and not media.endswith("+json"):
                accepted = f"{JSON} or {FORM}" if self.forms else JSON
                raise _invalid(f"The body was sent as Content-Type {media}, which this "
                               f"endpoint does not read: send {accepted}") from None
            raise _invalid(f"The request body is not valid JSON: {exc}") from None
        except RecursionError:
            raise _invalid("The request body is nested too deeply") from None

    def decode_params(self, path_params: dict[str, str], query: dict[str, str]) -> Any:
        assert self.params is not None
        given = {name: value for name, value in query.items() if value != ""}  # "" is absent
        return convert({**given, **path_params}, self.params, "parameters")


def convert(values: dict[str, str], kind: type, where: str) -> Any:
    """`values` (strings, from a query or a form) as `kind`, or the 400 naming the field."""
    for name, value in values.items():
        texts = value if isinstance(value, list) else [value]
        if "\x00" in name or any(isinstance(t, str) and "\x00" in t for t in texts):
            raise _invalid(f"`{name}` {_NUL_TEXT}")
    try:
        return msgspec.convert(values, kind, strict=False)
    except msgspec.ValidationError as exc:
        raise _invalid(describe(exc, where, kind)) from None


def _form_values(text: str, kind: type) -> dict[str, Any]:
    """A form's fields; a field declared as a list takes every value given for it (`numbers`
    or `numbers[]`, repeated)."""
    lists = {info.encode_name for info in msgspec.structs.fields(kind) if _is_list(info.type)}
    values: dict[str, Any] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        name = name.removesuffix("[]")
        if name in lists:
            values.setdefault(name, []).append(value)
        elif value != "":  # an empty field is an absent one
            values[name] = value
    return values


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list or any(_is_list(a) for a in get_args(annotation))


def _nul_path(raw: bytes) -> str | None:
    """The field of a JSON body whose text holds the first NUL character (`webhooks[0].url`),
    if the body is JSON and the NUL is in a value."""
    try:
        document = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # not JSON, or nested too deep to name
        return None
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            return path or None
        if isinstance(value, dict):
            stack.extend((f"{path}.{key}" if path else str(key), item)
                         for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item)
                         for index, item in reversed(list(enumerate(value))))
    return None


def _invalid(message: str) -> ApiError:
    return ApiError(400, message, error_code=ErrorCode.VALIDATION)


# `\u0000` in a JSON string (an escaped backslash before it is text, not an escape): no store
# keeps a NUL character in text (PostgreSQL refuses it), so no field may hold one.
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_NUL_TEXT = "may not contain the NUL character (\\u0000)"
_AT = re.compile(r"^(?P<what>.*?) - at `\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_EXPECTED = re.compile(r"^Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`$")
_BOUNDED = re.compile(r"^Expected `(?P<want>[^`]+)` (?P<bound>.+)$")
_KINDS = {"str": "a string", "int": "a whole number", "float": "a number", "bool": "true or false",
          "object": "an object", "array": "a list", "null": "null", "bytes": "text"}


def describe(exc: msgspec.ValidationError, where: str, kind: type | None = None) -> str:
    """msgspec's validation error in the words of our other errors: it names the field and,
    for a field with a fixed set of values, lists them."""
    text = str(exc)
    found = _AT.match(text)
    what, path = (found["what"], found["path"].lstrip(".")) if found else (text, "")
    missing = _MISSING.match(what)
    if missing:
        field = f"{path}.{missing['field']}" if path else missing["field"]
        return f"`{field}` is required"
    if not path:
        if what.startswith("Expected `object`"):
            return f"The request {where} must be a JSON object"
        return f"The request {where} is invalid: {what}"
    if what.startswith("Invalid enum value"):
        choices = _choices(kind, path)
        if choices:
            return f"`{path}` must be one of: {', '.join(choices)}"
    expected = _EXPECTED.match(what)
    if expected:
        want = " or ".join(_KINDS.get(k, k) for k in expected["want"].split(" | ")
                           if k != "null")  # absent is always allowed where null is
        if where == "parameters":  # a query's values are all strings
            return f"`{path}` must be {want}"
        return f"`{path}` must be {want}, not {_KINDS.get(expected['got'], expected['got'])}"
    bounded = _BOUNDED.match(what)
    if bounded:
        return f"`{path}` must be {_KINDS.get(bounded['want'], bounded['want'])} {bounded['bound']}"
    return f"`{path}`: {what[0].lower()}{what[1:]}"


def _choices(kind: type | None, field: str) -> list[str]:
    """The values a top-level Literal field of Struct `kind` takes (not the empty ones)."""
    if kind is None or not isinstance(kind, type) or not issubclass(kind, msgspec.Struct):
        return []
    for info in msgspec.structs.fields(kind):
        if info.encode_name == field:
            return sorted(str(v) for v in _literal_values(info.type) if v not in ("", None))
    return []


def _literal_values(annotation: Any) -> list[Any]:
    if get_origin(annotation) is Literal:
        return [v for arg in get_args(annotation) for v in (_literal_values(arg) or [arg])]
    return [v for arg in get_args(annotation) for v in _literal_values(arg)]


def nesting(raw: bytes) -> int:
    """How deep the arrays and objects of a JSON text go (brackets inside strings not counted).
    Only run on a body with more brackets than the limit, so the usual request never pays."""
    deepest = depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest
