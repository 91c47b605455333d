"""What the console answers when something fails: an error page in its layout, never a bare
500 from below.

`error_handlers` turn the errors a page may let through into pages: an ApiError from a service
(the status and message the API would answer), Starlette's HTTPException (404, 405, a form the
parser cannot read) and an over-large body. `Failures`, an ASGI middleware outside the pages,
answers any other exception: 503 when the store is unavailable (as the API does), else a logged
500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.errors import ApiError
from .guard import BodyTooLarge
from .rendering import error_page

log = logging.getLogger(__name__)

Explain = Callable[[Exception], ApiError | None]

_TITLES = {400: "Bad request", 401: "Not signed in", 403: "Not allowed", 404: "Not found",
           405: "Not allowed", 409: "Conflict", 413: "Too large", 429: "Too many requests",
           503: "Unavailable"}


def title_of(status: int) -> str:
    return _TITLES.get(status, "Error" if status < 500 else "Something went wrong")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_page(request, exc.http_status, title_of(exc.http_status), exc.message,
                      headers=exc.headers or None)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: "There is no such page in the console.",
               405: "This page does not take that kind of request."}.get(exc.status_code,
                                                                         str(exc.detail))
    return error_page(request, exc.status_code, title_of(exc.status_code), message,
                      headers=exc.headers)


async def _too_large(request: Request, _exc: Exception) -> Response:
    return error_page(request, 413, title_of(413), "The request is too large.")


def error_handlers() -> Mapping[Any, Callable[[Request, Exception], Any]]:
    return {ApiError: _api_error, HTTPException: _http_exception, BodyTooLarge: _too_large}


class Failures:
    def __init__(self, app: ASGIApp, *, explain: Explain | None = None) -> None:
        self.app = app
        self._explain = explain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            request = Request(scope)
            known = self._explain(exc) if self._explain is not None else None
            if known is not None:
                log.warning("%s %s: %s (%s)", scope["method"], scope["path"], known.message, exc)
                response = error_page(request, known.http_status, title_of(known.http_status),
                                      known.message, headers=known.headers or None)
            else:
                log.exception("unhandled error on %s %s", scope["method"], scope["path"])
                response = error_page(request, 500, title_of(500),
                                      "The console failed to answer; the server's log says why.")
            await response(scope, receive, send)
