"""A small ASGI core: requests, responses, routing and error answers.

bluewire answers on a hot path (send-message) whose budget is a few tens of microseconds, so
it keeps its own thin layer over ASGI instead of a framework: exact-path routes are one dict
look-up, bodies are read with a size limit, and JSON goes through msgspec.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import msgspec

from ..domain.errors import ApiError
from .endpoint import Endpoint

log = logging.getLogger(__name__)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Request:
    """`data` and `args`: the body and the parameters decoded into the route's endpoint's
    declared types (None where it declares none)."""

    __slots__ = ("_headers", "_query", "account", "args", "body", "data", "method", "params",
                 "path", "scope")

    def __init__(self, scope: Scope, body: bytes, params: dict[str, str]) -> None:
        self.scope = scope
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.body = body
        self.params = params
        self.account: Any = None
        self.data: Any = None
        self.args: Any = None
        self._headers: dict[str, str] | None = None
        self._query: dict[str, str] | None = None

    @property
    def client(self) -> str | None:
        """The caller's address (the peer of the connection), if the server gave it."""
        client = self.scope.get("client")
        return str(client[0]) if client else None

    def header(self, name: str) -> str | None:
        if self._headers is None:
            self._headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                             for k, v in self.scope["headers"]}
        return self._headers.get(name)

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            raw = self.scope.get("query_string", b"").decode("latin-1")
            self._query = dict(parse_qsl(raw, keep_blank_values=True))
        return self._query

    def json(self, *, allow_empty: bool = False) -> dict[str, Any]:
        """The body as a JSON object, or a 400 that says what is wrong with it."""
        if not self.body.strip():
            if allow_empty:
                return {}
            raise ApiError(400, "The request body must be a JSON object", error_code=4000)
        try:
            value = _decoder.decode(self.body)
        except msgspec.DecodeError as exc:
            raise ApiError(400, f"The request body is not valid JSON: {exc}",
                           error_code=4000) from None
        if not isinstance(value, dict):
            raise ApiError(400, "The request body must be a JSON object", error_code=4000)
        return value


@dataclass(slots=True)
class Response:
    body: bytes
    status: int = 200
    content_type: bytes = b"application/json"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


@dataclass(slots=True)
class StreamingResponse:
    """A response sent as its body yields chunks, until the body ends or the client goes.

    The App calls the body's `aclose()`, if it has one, once the response is over, however it
    ended (also when it never started), so a body can release what it holds there.
    """

    body: AsyncIterator[bytes]
    status: int = 200
    content_type: bytes = b"application/octet-stream"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


_RESPONSES = (Response, StreamingResponse)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    extra = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    return Response(_encoder.encode(data), status, headers=extra)


def error_response(error: ApiError) -> Response:
    if error.body is not None:
        return json_response(error.body, error.http_status, error.headers)
    body: dict[str, Any] = {"status": "ERROR", "message": error.message,
                            "error_message": error.message}
    if error.error_code is not None:
        body["error_code"] = error.error_code
    if error.error_key is not None:
        body["error_key"] = error.error_key
    return json_response(body, error.http_status, error.headers)


Handler = Callable[[Request], Awaitable[Response | StreamingResponse | dict[str, Any] | list[Any]]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    authenticated: bool = True
    max_body: int | None = None  # this route's body limit, if not the app's
    endpoint: Endpoint | None = None  # what the API document says of it; None: a page


class Router:
    def __init__(self) -> None:
        self._exact: dict[tuple[str, str], Route] = {}
        self._patterns: list[tuple[str, re.Pattern[str], Route]] = []
        self.routes: list[Route] = []

    def endpoint(self, endpoint: Endpoint, handler: Handler, *,
                 max_body: int | None = None) -> None:
        """Serve `endpoint` with `handler`, which finds the decoded request in `request.data`
        and `request.args`."""
        self._add(Route(endpoint.method, endpoint.path, handler, endpoint.authenticated,
                        max_body, endpoint))

    def add(self, method: str, path: str, handler: Handler, *, authenticated: bool = True,
            max_body: int | None = None) -> None:
        """A route that is not part of the API document (a page, the document itself)."""
        self._add(Route(method, path, handler, authenticated, max_body))

    @property
    def endpoints(self) -> list[Endpoint]:
        return [route.endpoint for route in self.routes if route.endpoint is not None]

    def _add(self, route: Route) -> None:
        method, path = route.method, route.path
        self.routes.append(route)
        if "{" not in path:
            self._exact[(method, path)] = route
            return
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
        self._patterns.append((method, re.compile(f"^{pattern}$"), route))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path parameters, whether the path exists for some other method)."""
        route = self._exact.get((method, path))
        if route is not None:
            return route, {}, True
        path_known = any(p == path for (_, p) in self._exact)
        for route_method, pattern, candidate in self._patterns:
            found = pattern.match(path)
            if found:
                if route_method == method:
                    return candidate, {k: unquote(v) for k, v in found.groupdict().items()}, True
                path_known = True
        return None, {}, path_known


Authenticate = Callable[[Request], Awaitable[Any]]
# Told of every answer: (method, route template or UNMATCHED, status, seconds to answer).
Observe = Callable[[str, str, int, float], None]
UNMATCHED = "unmatched"  # the route of a request no route took (404, 405)


class App:
    """The ASGI application: routing, body limits, authentication, error answers."""

    def __init__(self, router: Router, authenticate: Authenticate, *, max_body_bytes: int,
                 on_startup: Callable[[], Awaitable[None]] | None = None,
                 on_shutdown: Callable[[], Awaitable[None]] | None = None,
                 observe: Observe | None = None,
                 explain: Callable[[Exception], ApiError | None] | None = None) -> None:
        self.router = router
        self.observe = observe
        # The answer for an error of the layers below that is not a bug (the store is down).
        self.explain = explain
        self._authenticate = authenticate
        self._max_body = max_body_bytes
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown
        self.websockets: dict[str, Callable[[Scope, Receive, Send], Awaitable[None]]] = {}
        self._mounts: list[tuple[str, ASGIApp]] = []

    def mount(self, prefix: str, app: ASGIApp) -> None:
        """Hand the HTTP requests for `prefix` and the paths below it to `app` (the console),
        when no route of the router takes them. `app` gets the scope with `prefix` appended to
        `root_path` and `path` whole (the ASGI convention Starlette's Mount follows too); it is
        sent no lifespan or websocket events: it has no start-up or shutdown of its own."""
        self._mounts.append(("/" + prefix.strip("/"), app))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            handler = self.websockets.get(scope["path"])
            if handler is None:
                await send({"type": "websocket.close", "code": 4404})
            else:
                await handler(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self._on_startup:
                        await self._on_startup()
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._on_shutdown:
                    await self._on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method = scope["method"]
        route, params, path_known = self.router.match(method, scope["path"])
        if route is None and self._mounts:  # never on a routed path: the API's cost is one test
            for prefix, mounted in self._mounts:
                path = scope["path"]
                if path == prefix or path.startswith(prefix + "/"):
                    await self._forward(prefix, mounted, scope, receive, send, started)
                    return
        try:
            if route is None:
                if path_known:
                    raise ApiError(405, f"{method} is not allowed on {scope['path']}")
                raise ApiError(404, f"No such endpoint: {method} {scope['path']}")
            response = await self._respond(route, params, scope, receive)
        except ApiError as error:
            response = error_response(error)
        except Exception as exc:
            known = self.explain(exc) if self.explain else None
            if known is None:
                log.exception("unhandled error on %s %s", scope["method"], scope["path"])
                known = ApiError(500, "Internal error", error_code=5000)
            else:
                log.warning("%s %s: %s (%s)", scope["method"], scope["path"], known.message, exc)
            response = error_response(known)
        observe = self.observe
        template = UNMATCHED if route is None else route.path
        if isinstance(response, StreamingResponse):
            if observe is not None:  # a stream lasts: its latency is the time to start it
                observe(method, template, response.status, time.perf_counter() - started)
            await _stream(response, receive, send)
            return
        await send({
            "type": "http.response.start",
            "status": response.status,
            "headers": [(b"content-type", response.content_type),
                        (b"content-length", str(len(response.body)).encode()),
                        *response.headers],
        })
        await send({"type": "http.response.body", "body": response.body})
        if observe is not None:
            observe(method, template, response.status, time.perf_counter() - started)

    async def _forward(self, prefix: str, app: ASGIApp, scope: Scope, receive: Receive,
                       send: Send, started: float) -> None:
        child = {**scope, "root_path": scope.get("root_path", "") + prefix}
        observe = self.observe
        if observe is None:
            await app(child, receive, send)
            return

        async def observed(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":  # timed to its start, as a stream is
                observe(scope["method"], prefix, message["status"], time.perf_counter() - started)
            await send(message)

        await app(child, receive, observed)

    async def _respond(self, route: Route, params: dict[str, str], scope: Scope,
                       receive: Receive) -> Response | StreamingResponse:
        body = await self._read_body(scope, receive, route.max_body or self._max_body)
        request = Request(scope, body, params)
        if route.authenticated:
            request.account = await self._authenticate(request)
        endpoint = route.endpoint
        if endpoint is not None:
            if endpoint.params is not None:
                request.args = endpoint.decode_params(params, request.query)
            if endpoint.body is not None:
                request.data = endpoint.decode_body(body, request.header("content-type"))
        result = await route.handler(request)
        if isinstance(result, _RESPONSES):
            return result
        return json_response(result)

    async def _read_body(self, scope: Scope, receive: Receive, limit: int) -> bytes:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise ApiError(400, "Content-Length is not a number") from None
                if declared > limit:
                    raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _stream(response: StreamingResponse, receive: Receive, send: Send) -> None:
    """Send `response` chunk by chunk while watching for the client to disconnect."""
    body = response.body
    try:
        await send({
            "type": "http.response.start",
            "status": response.status,
            "headers": [(b"content-type", response.content_type), *response.headers],
        })
        pump = asyncio.ensure_future(_pump(body, send))
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait((pump, gone), return_when=asyncio.FIRST_COMPLETED)
        finally:
            pump.cancel()
            gone.cancel()
            await asyncio.gather(pump, gone, return_exceptions=True)
    finally:
        close = getattr(body, "aclose", None)
        if close is not None:
            await close()


async def _pump(body: AsyncIterator[bytes], send: Send) -> None:
    chunks = aiter(body)
    while True:
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            break
        except Exception:
            log.exception("a streamed response failed; ending it")
            break
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _too_large(limit: int) -> ApiError:
    return ApiError(400, f"The request body is larger than {limit} bytes", error_code=4000)
