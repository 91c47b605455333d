"""Rendering a console page: a template of the shared Jinja2 environment (web/pages.py: every
value escaped, undefined names an error) under `console/`, with what every page's layout needs.

A page handler calls `page(request, "console/<name>.html", {...}, active="<section>")`. Besides
what it passes, a template has:

- `root`: the console's URL prefix (`/console`); links are `{{ root }}/lines`, never absolute
  paths, so the console works wherever it is mounted.
- `session`: the signed-in session (`session.email`, `session.account_id`), or None.
- `csrf_token`: the session's CSRF token; every form that changes something carries
  `<input type="hidden" name="csrf_token" value="{{ csrf_token }}">` (htmx requests carry it
  as a header, added by console.js).
- `static(name)`: the versioned URL of a file of the console's `static` folder.
- `nav`, `active`: the navigation bar's sections and the one to mark.
- `live`: False; a page passes `live=True` in its context to open the account's event stream
  around its content (events.py says how its elements react to events).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, StreamingResponse
from starlette.templating import Jinja2Templates

from ..web.pages import environment
from .nav import NAV
from .static_files import static_url


@cache
def templates() -> Jinja2Templates:
    return Jinja2Templates(env=environment())


def root_of(request: Request) -> str:
    """The console's URL prefix, as the request reached it (`/console`)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _values(request: Request, context: Mapping[str, Any] | None,
            active: str) -> dict[str, Any]:
    root = root_of(request)
    session = getattr(request.state, "session", None)
    values: dict[str, Any] = {
        "root": root,
        "session": session,
        "csrf_token": session.csrf_token if session is not None else "",
        "static": lambda name: static_url(root, name),
        "nav": NAV,
        "active": active,
        "live": False,
        **(context or {}),
    }
    return values


def page(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
         active: str = "", status: int = 200,
         headers: Mapping[str, str] | None = None) -> HTMLResponse:
    values = _values(request, context, active)
    return templates().TemplateResponse(request, template, values, status_code=status,
                                        headers=headers)


STREAM_MARK = "<!-- the streamed part -->"


def streamed_page(request: Request, template: str, parts: AsyncIterator[str],
                  context: Mapping[str, Any] | None = None, *,
                  active: str = "") -> StreamingResponse:
    """A page whose middle arrives as it is made: the template is rendered around
    `STREAM_MARK` (which it must contain once, as `{{ stream_mark|safe }}`), and `parts`,
    HTML the caller has escaped, is sent in its place piece by piece. The browser shows each
    piece as it comes, so a long action can say how far it has got without any script."""
    values = _values(request, {**(context or {}), "stream_mark": STREAM_MARK}, active)
    before, after = templates().get_template(template).render(values).split(STREAM_MARK)

    async def body() -> AsyncIterator[str]:
        yield before
        async for part in parts:
            yield part
        yield after

    return StreamingResponse(body(), media_type="text/html; charset=utf-8",
                             headers={"Cache-Control": "no-store",
                                      "X-Accel-Buffering": "no"})


def error_page(request: Request, status: int, title: str, message: str, *,
               headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """An error as a page of the console's layout (with the navigation when signed in)."""
    return page(request, "console/error.html", {"title": title, "message": message},
                status=status, headers=headers)
