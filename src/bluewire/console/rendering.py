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

from collections.abc import Mapping
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
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


def page(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
         active: str = "", status: int = 200,
         headers: Mapping[str, str] | None = None) -> HTMLResponse:
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
    return templates().TemplateResponse(request, template, values, status_code=status,
                                        headers=headers)


def error_page(request: Request, status: int, title: str, message: str, *,
               headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """An error as a page of the console's layout (with the navigation when signed in)."""
    return page(request, "console/error.html", {"title": title, "message": message},
                status=status, headers=headers)
