"""The operations endpoints, unauthenticated: /healthz (the process answers), /readyz (it can
do its work: store, schema, workers) and /metrics (Prometheus text format)."""

from __future__ import annotations

from ..observability.metrics import CONTENT_TYPE, Metrics
from ..services.health import Readiness, report
from .http import Request, Response, Router, json_response

_ALIVE = Response(b'{"status":"ok"}')


def register_ops_routes(router: Router, readiness: Readiness, metrics: Metrics) -> None:
    content_type = CONTENT_TYPE.encode()

    async def healthz(_request: Request) -> Response:
        return _ALIVE

    async def readyz(_request: Request) -> Response:
        status, body = report(await readiness.check())
        return json_response(body, status)

    async def metrics_text(_request: Request) -> Response:
        return Response(await metrics.render(), content_type=content_type)

    router.add("GET", "/healthz", healthz, authenticated=False)
    router.add("GET", "/readyz", readyz, authenticated=False)
    router.add("GET", "/metrics", metrics_text, authenticated=False)
