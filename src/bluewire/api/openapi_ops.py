"""The OpenAPI paths of the operations endpoints: /healthz, /readyz and /metrics
(unauthenticated; README "Operations")."""

from __future__ import annotations

from typing import Any

_CHECK = {
    "type": "object", "required": ["name", "ok", "detail"],
    "properties": {
        "name": {"type": "string", "enum": ["database", "migrations", "dispatcher", "delivery"]},
        "ok": {"type": "boolean"},
        "detail": {"type": "string", "description": "What was seen, or why the check failed"},
    },
}
_READINESS = {
    "type": "object", "required": ["status", "checks"],
    "properties": {"status": {"type": "string", "enum": ["ready", "not ready"]},
                   "checks": {"type": "array", "items": _CHECK}},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def ops_paths() -> dict[str, Any]:
    return {
        "/healthz": {"get": {
            "operationId": "healthz", "summary": "The process is alive", "security": [],
            "tags": ["operations"],
            "responses": {"200": _json({"type": "object", "properties": {
                "status": {"type": "string", "enum": ["ok"]}}}, "Alive")},
        }},
        "/readyz": {"get": {
            "operationId": "readyz", "security": [], "tags": ["operations"],
            "summary": "The process can do its work: store, schema and workers",
            "description": "200 when the database answers, its schema is at the newest "
                           "migration, and the dispatcher and delivery worker have each made "
                           "progress within BLUEWIRE_READY_STALL_MS; 503 otherwise. Either way "
                           "the body lists every check.",
            "responses": {"200": _json(_READINESS, "Ready"),
                          "503": _json(_READINESS, "Not ready: see the failed checks")},
        }},
        "/metrics": {"get": {
            "operationId": "metrics", "security": [], "tags": ["operations"],
            "summary": "Prometheus metrics of this process",
            "responses": {"200": {"description": "Prometheus text format 0.0.4",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}}},
        }},
    }
