"""The operations endpoints, unauthenticated: /healthz (the process answers), /readyz (it can
do its work: store, schema, workers) and /metrics (Prometheus text format)."""

from __future__ import annotations

from ..domain.wire.operations import Alive, Readiness
from ..observability.metrics import CONTENT_TYPE, Metrics
from ..services.health import Readiness as ReadinessChecks
from ..services.health import report
from .endpoint import Endpoint
from .http import Request, Response, Router, json_response

_ALIVE = Response(b'{"status":"ok"}')

TAG = "Operations"
HEALTHZ = Endpoint("GET", "/healthz", "The process is alive", TAG, response=Alive, errors=(),
                   authenticated=False)
READYZ = Endpoint(
    "GET", "/readyz", "The process can do its work: store, schema and workers", TAG,
    response=Readiness, errors=(), authenticated=False,
    answers=((503, "Not ready: see the failed checks", Readiness),),
    description="200 when the database answers, its schema is at the newest migration, and the "
                "dispatcher and delivery worker have each made progress within "
                "BLUEWIRE_READY_STALL_MS; 503 otherwise. Either way the body lists every check.")
METRICS = Endpoint("GET", "/metrics", "Prometheus metrics of this process", TAG, response=str,
                   response_media=CONTENT_TYPE, errors=(), authenticated=False,
                   description="Prometheus text exposition format 0.0.4.")


def register_ops_routes(router: Router, readiness: ReadinessChecks, metrics: Metrics) -> None:
    content_type = CONTENT_TYPE.encode()

    async def healthz(_request: Request) -> Response:
        return _ALIVE

    async def readyz(_request: Request) -> Response:
        status, body = report(await readiness.check())
        return json_response(body, status)

    async def metrics_text(_request: Request) -> Response:
        return Response(await metrics.render(), content_type=content_type)

    router.endpoint(HEALTHZ, healthz)
    router.endpoint(READYZ, readyz)
    router.endpoint(METRICS, metrics_text)
