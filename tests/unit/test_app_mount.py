"""App.mount: a path prefix handed to another ASGI application (the console), after the routes
and only for HTTP."""

from __future__ import annotations

from typing import Any

from bluewire.api.http import App, Request, Router

Message = dict[str, Any]


class Recorder:
    """An ASGI app that answers 204 and remembers the scopes it was given."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scopes.append(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def make_app() -> tuple[App, Recorder, list[tuple[str, str, int]]]:
    router = Router()

    async def exact(_request: Request) -> dict[str, Any]:
        return {"route": "exact"}

    router.add("GET", "/console/exact", exact, authenticated=False)
    observed: list[tuple[str, str, int]] = []
    app = App(router, _no_auth, max_body_bytes=1024,
              observe=lambda method, route, status, _s: observed.append((method, route, status)))
    mounted = Recorder()
    app.mount("/console", mounted)
    return app, mounted, observed


async def _no_auth(_request: Request) -> None:
    return None


async def call(app: App, path: str, *, kind: str = "http") -> list[Message]:
    sent: list[Message] = []
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": kind, "method": "GET", "path": path, "root_path": "", "headers": [],
             "query_string": b""}
    await app(scope, receive, send)
    return sent


async def test_the_prefix_and_the_paths_below_it_go_to_the_mounted_app() -> None:
    app, mounted, observed = make_app()
    for path in ("/console", "/console/", "/console/lines/x"):
        sent = await call(app, path)
        assert sent[0]["status"] == 204
    assert [scope["path"] for scope in mounted.scopes] == ["/console", "/console/",
                                                           "/console/lines/x"]
    assert {scope["root_path"] for scope in mounted.scopes} == {"/console"}
    assert observed == [("GET", "/console", 204)] * 3


async def test_routes_come_first_and_a_lookalike_prefix_is_not_mounted() -> None:
    app, mounted, _ = make_app()
    assert (await call(app, "/console/exact"))[0]["status"] == 200
    assert (await call(app, "/consoles"))[0]["status"] == 404
    assert mounted.scopes == []


async def test_lifespan_and_websockets_are_not_forwarded() -> None:
    app, mounted, _ = make_app()
    lifespan = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return lifespan.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete",
                                         "lifespan.shutdown.complete"]
    closed = await call(app, "/console/socket", kind="websocket")
    assert closed == [{"type": "websocket.close", "code": 4404}]
    assert mounted.scopes == []
