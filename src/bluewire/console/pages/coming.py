"""The sections whose pages are not built yet: each answers a short "coming" page, so that the
navigation's links are real from the start. Building one: add its module beside this one,
list it in `pages/__init__.py`, and take its name out of COMING."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..nav import section
from ..rendering import page
from ..services import ConsoleServices

COMING: tuple[str, ...] = ("sandbox",)


def routes(_services: ConsoleServices) -> list[BaseRoute]:
    return [stub(name) for name in COMING]


def stub(name: str) -> Route:
    shown = section(name)

    async def coming(request: Request) -> Response:
        return page(request, "console/coming.html", {"section": shown}, active=shown.name)

    return Route(shown.path, coming, methods=["GET"])
