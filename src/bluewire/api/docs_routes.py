"""The API reference, unauthenticated: GET /docs (one HTML page rendered from the OpenAPI
document) and GET /docs/static/{name} (its stylesheet), both from the package, no CDN."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.errors import ApiError
from ..web import HTML, PAGE_HEADERS, asset
from ..web.reference import render_reference
from .http import Request, Response, Router

DocumentFactory = Callable[[], dict[str, Any]]

# Relative to /docs, so the page keeps working behind a proxy that mounts it under a prefix.
STATIC_BASE = "docs/static/"
DOCUMENT_URL = "openapi.json"

_PAGE_HEADERS = [(k.encode(), v.encode()) for k, v in
                 {**PAGE_HEADERS, "cache-control": "no-cache"}.items()]
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_FOREVER = (b"cache-control", b"public, max-age=31536000, immutable")
_REVALIDATE = (b"cache-control", b"no-cache")


def register_docs_routes(router: Router, document: DocumentFactory) -> None:
    page: Response | None = None

    async def docs(_request: Request) -> Response:
        nonlocal page
        if page is None:  # once a process: the document does not change while it runs
            html = render_reference(document(), static_base=STATIC_BASE,
                                    document_url=DOCUMENT_URL)
            page = Response(html.encode(), content_type=HTML.encode(), headers=_PAGE_HEADERS)
        return page

    async def static(request: Request) -> Response:
        name = request.params["name"]
        found = asset(name)
        if found is None:
            raise ApiError(404, f"No such file: {name}")
        # A URL with the content's version names these exact bytes for good.
        caching = _FOREVER if request.query.get("v") == found.version else _REVALIDATE
        return Response(found.body, content_type=found.content_type.encode(),
                        headers=[_NOSNIFF, caching])

    router.add("GET", "/docs", docs, authenticated=False)
    router.add("GET", "/docs/static/{name}", static, authenticated=False)
