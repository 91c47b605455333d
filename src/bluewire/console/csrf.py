"""Cross-site request forgery defences of the console, checked by the guard (guard.py) on every
state-changing request (POST, PUT, PATCH, DELETE):

- The request comes from a console page: its `Origin` (else its `Referer`) is the server's own
  origin (or that of `BLUEWIRE_PUBLIC_URL`). A request with neither is refused.
- It carries the session's CSRF token, in the `X-CSRF-Token` header (console.js adds it to
  every htmx request) or in a `csrf_token` form field (every form of a page has one).
- Before there is a session (the sign-in form), the token is a double-submit one: a random
  value set in an HttpOnly cookie by the form's page and repeated in its hidden field.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import Message, Receive

from .forms import read_form

FIELD = "csrf_token"
HEADER = "x-csrf-token"
SIGN_IN_COOKIE = "bluewire_signin_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of `url`, lower-cased; None if it has none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: Request, trusted: Iterable[str]) -> bool:
    """Whether the request's `Origin` (or, without one, its `Referer`) is the server's own
    origin, as the request reached it, or one of `trusted`."""
    claimed = request.headers.get("origin")
    if claimed is None:
        referer = request.headers.get("referer")
        claimed = origin_of(referer) if referer else None
    if not claimed or claimed == "null":
        return False
    own = origin_of(str(request.base_url))
    return claimed.lower() in {own, *trusted}


async def submitted_token(request: Request, receive: Receive) -> tuple[str | None, Receive]:
    """The CSRF token the request carries, and the `receive` to hand the application on.

    From the header when it has one (the body is left alone); else from the form field, which
    means reading the body (up to the size the console allows) and handing it on again."""
    token = request.headers.get(HEADER)
    if token is not None:
        return token, receive
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _FORMS:
        return None, receive
    body = await request.body()
    form = await read_form(request)
    value = form.get(FIELD)
    return (value if isinstance(value, str) else None), _replay(body, receive)


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` that gives `body` first, then what `receive` gives (the disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        message: dict[str, Any] = {"type": "http.request", "body": body, "more_body": False}
        return message

    return replay
