"""The console's static files (its stylesheet, console.js, the vendored htmx), from the
package's `static` folder, at URLs versioned by their content so a browser keeps them for good:
`static_url` gives `<root>/static/<name>?v=<hash>`, and only that exact version is served with a
year's caching (another `v`, or none, must revalidate)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ..web.assets import Asset, package_assets

_FOREVER = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"


def assets() -> dict[str, Asset]:
    return package_assets(__package__)


def static_url(root: str, name: str) -> str:
    """The URL of the file `name` (KeyError if the package has none: a template naming a
    missing file fails loudly)."""
    return f"{root}/static/{name}?v={assets()[name].version}"


async def static_file(request: Request) -> Response:
    found = assets().get(request.path_params["name"])
    if found is None:
        return PlainTextResponse("No such file", status_code=404)
    caching = _FOREVER if request.query_params.get("v") == found.version else _REVALIDATE
    return Response(found.body, media_type=found.content_type,
                    headers={"cache-control": caching})


ROUTES = [Route("/static/{name:path}", static_file, methods=["GET", "HEAD"])]
