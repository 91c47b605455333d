"""GET /: a person who opens the server's address in a browser lands on the console."""

from __future__ import annotations

from .http import Request, Response, Router


def register_home_route(router: Router, to: str) -> None:
    async def home(_request: Request) -> Response:
        return Response(b"", status=302, content_type=b"text/plain; charset=utf-8",
                        headers=[(b"location", to.encode())])

    router.add("GET", "/", home, authenticated=False)
