"""The console's gate, an ASGI middleware every request passes before any page sees it.

1. The static files pass straight through: public, and they change nothing.
2. The request's body is held to the console's size limit (413 past it).
3. The session cookie is resolved (sessions.py) and put in `request.state.session` (None when
   there is none, it idled out, or its key was revoked).
4. Every other path needs a session but the sign-in page: without one, a page load is sent to
   the sign-in page (back here once signed in), an htmx request is told to go there
   (`HX-Redirect`), an event stream gets a 401. A stale cookie is cleared.
5. Every state-changing request passes the CSRF checks (csrf.py), or gets a 403 page.

Pages are therefore protected by default: a new page module needs nothing to be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import csrf
from .sessions import COOKIE, ConsoleSessions

SIGN_IN = "/login"
STATIC = "/static/"

ErrorPage = Callable[[Request, int, str, str], Response]


class BodyTooLarge(Exception):
    """A request's body is over the console's limit."""


class Guard:
    def __init__(self, app: ASGIApp, *, sessions: ConsoleSessions, error_page: ErrorPage,
                 trusted_origins: Iterable[str], max_body_bytes: int,
                 max_upload_bytes: int | None = None) -> None:
        self.app = app
        self._sessions = sessions
        self._error_page = error_page
        self._trusted = frozenset(origin.lower() for origin in trusted_origins)
        self._max_body = max_body_bytes
        self._max_upload = max(max_body_bytes, max_upload_bytes or 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = get_route_path(scope) or "/"
        if path.startswith(STATIC):  # public, changes nothing: no session to read
            await self.app(scope, receive, send)
            return
        receive = self._limited(scope, receive)
        request = Request(scope, receive)
        token = request.cookies.get(COOKIE)
        session = await self._sessions.resolve(token) if token else None
        request.state.session = session
        if session is None and not _public(path):
            await self._to_sign_in(request, stale_cookie=token is not None)(scope, receive, send)
            return
        if scope["method"] in csrf.UNSAFE_METHODS:
            refusal, receive = await self._check_forgery(request, path, receive)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _check_forgery(self, request: Request, path: str,
                             receive: Receive) -> tuple[Response | None, Receive]:
        if not csrf.same_origin(request, self._trusted):
            return self._error_page(request, 403, "Request refused",
                                    "This request did not come from a page of this console."), \
                receive
        session = request.state.session
        expected = (session.csrf_token if session is not None and not _public(path)
                    else request.cookies.get(csrf.SIGN_IN_COOKIE))
        try:
            given, receive = await csrf.submitted_token(request, receive)
        except BodyTooLarge:
            return self._too_large(request), receive
        except HTTPException as exc:  # a form the parser cannot read
            return self._error_page(request, exc.status_code, "Bad request",
                                    str(exc.detail)), receive
        if not csrf.tokens_match(given, expected):
            return self._error_page(
                request, 403, "Request refused",
                "The page this came from is out of date (its security token is missing or "
                "wrong). Reload the page and try again."), receive
        return None, receive

    def _to_sign_in(self, request: Request, *, stale_cookie: bool) -> Response:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        sign_in = root + SIGN_IN
        response: Response
        if request.headers.get("hx-request") == "true":
            response = PlainTextResponse("Signed out", status_code=401,
                                         headers={"hx-redirect": sign_in})
        elif "text/event-stream" in request.headers.get("accept", ""):
            response = PlainTextResponse("Signed out", status_code=401)
        else:
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if request.method == "GET" and wanted.startswith(root + "/"):
                sign_in += "?next=" + quote(wanted, safe="/")
            response = RedirectResponse(sign_in, status_code=303)
        if stale_cookie:
            response.delete_cookie(COOKIE, path=root or "/")
        return response

    def _too_large(self, request: Request) -> Response:
        limit = self._limit(request.headers)
        return self._error_page(request, 413, "Too large",
                                f"The request is larger than {limit} bytes.")

    def _limit(self, headers: Headers) -> int:
        """A file upload (a multipart form: a picture, a CSV) may be as large as a media
        file; any other request, only as large as the API's bodies."""
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        return self._max_upload if content_type == "multipart/form-data" else self._max_body

    def _limited(self, scope: Scope, receive: Receive) -> Receive:
        """`receive`, raising BodyTooLarge once the body passes the limit (at once, if its
        declared length does)."""
        headers = Headers(scope=scope)
        limit = self._limit(headers)
        declared = headers.get("content-length", "")
        too_large_already = declared.isdigit() and int(declared) > limit
        size = 0

        async def limited() -> Message:
            nonlocal size
            if too_large_already:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise BodyTooLarge
            return message

        return limited


def _public(path: str) -> bool:
    return path == SIGN_IN
