"""Server-rendered pages: Jinja2 templates and the static files they use, both in the package
(nothing from a CDN), written to fit a strict Content-Security-Policy (no inline script or
style). The API layer serves /docs and the console (bluewire.console) its pages, whose
templates are under templates/console/; this package knows nothing of HTTP routing."""

from .assets import Asset, asset, asset_url
from .pages import HTML, PAGE_HEADERS, environment, render

__all__ = ["HTML", "PAGE_HEADERS", "Asset", "asset", "asset_url", "environment", "render"]
