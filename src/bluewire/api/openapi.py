"""The OpenAPI 3.1 document served at /openapi.json, derived from the endpoints' declarations."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any

import msgspec

from .. import __version__
from ..domain.wire.common import Error
from .endpoint import FORM, JSON, Endpoint
from .http import Request, Response, Router, json_response

REF = "#/components/schemas/{name}"
_ERROR_TEXT = {
    400: "Invalid request: `error_code` 4000 (4002 for a number that may not be messaged), "
         "and a message naming the field",
    401: "Missing or wrong API credentials",
    403: "Not allowed for this account",
    404: "Not found",
    405: "Method not allowed here",
    409: "Conflicts with the current state",
    410: "Gone: the link has expired, or its file is no longer stored",
    413: "The body is too large",
    422: "Cannot be processed as sent",
    429: "Rate limit exceeded (`error_code` 4001); retry after the Retry-After header",
    500: "Internal error",
    501: "Not served by bluewire: the message says why",
    502: "The network behind the line failed",
    503: "Temporarily unavailable (`error_code` 5000 or 5003); retry later",
}


def openapi_document(endpoints: Iterable[Endpoint]) -> dict[str, Any]:
    endpoints = list(endpoints)
    answers = {e.response for e in endpoints if e.response is not None}
    answers |= {kind for e in endpoints for _, _, kind in e.answers}
    bodies = {b for e in endpoints if (b := _body(e)) is not None}
    kinds = sorted(answers | bodies | {Error}, key=repr)
    _, schemas = msgspec.json.schema_components(kinds, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operation, extra = _operation(endpoint)
        schemas.update(extra)
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "bluewire", "version": __version__,
                 "description": "Self-hosted iMessage and SMS API, wire-compatible with "
                                "Sendblue's. Authenticate with the `sb-api-key-id` and "
                                "`sb-api-secret-key` headers."},
        "security": [{"keyId": [], "secretKey": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "keyId": {"type": "apiKey", "in": "header", "name": "sb-api-key-id"},
                "secretKey": {"type": "apiKey", "in": "header", "name": "sb-api-secret-key"},
            },
            "schemas": dict(sorted(schemas.items())),
        },
    }


def _operation(endpoint: Endpoint) -> tuple[dict[str, Any], dict[str, Any]]:
    """The operation object, and the schemas its parameters refer to."""
    operation: dict[str, Any] = {"operationId": endpoint.operation_id,
                                 "summary": endpoint.summary, "tags": [endpoint.tag]}
    if endpoint.description:
        operation["description"] = endpoint.description
    if not endpoint.authenticated:
        operation["security"] = []
    extra: dict[str, Any] = {}
    if endpoint.params is not None:
        operation["parameters"], extra = _parameters(endpoint)
    if endpoint.headers:
        operation.setdefault("parameters", []).extend(
            {"name": h.name, "in": "header", "required": h.required,
             "description": h.description, "schema": h.schema} for h in endpoint.headers)
    body = _body(endpoint)
    if body is not None:
        ref = _schema(body)
        content = {endpoint.request_media: {"schema": ref}}
        if endpoint.forms:
            content[FORM] = {"schema": ref}
        operation["requestBody"] = {"required": endpoint.body_required, "content": content}
    operation["responses"] = _responses(endpoint)
    return operation, extra


def _parameters(endpoint: Endpoint) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    assert endpoint.params is not None
    _, components = msgspec.json.schema_components([endpoint.params], ref_template=REF)
    own = components.pop(endpoint.params.__name__)
    required = set(own.get("required", ()))
    parameters = []
    for info in msgspec.structs.fields(endpoint.params):
        name = info.encode_name
        field_schema = dict(own["properties"][name])
        in_path = f"{{{name}}}" in endpoint.path
        parameter: dict[str, Any] = {"name": name, "in": "path" if in_path else "query",
                                     "required": in_path or name in required}
        description = field_schema.pop("description", None) or field_schema.pop("title", None)
        if description:
            parameter["description"] = description
        parameter["schema"] = field_schema
        parameters.append(parameter)
    return parameters, components


def _body(endpoint: Endpoint) -> Any:
    """The body's type, whether the App reads it or the handler does."""
    return endpoint.body if endpoint.body is not None else endpoint.raw_body


def _schema(kind: Any) -> dict[str, Any]:
    """`kind`'s schema: a reference to its component for a Struct, else inline."""
    (schema,), _ = msgspec.json.schema_components([kind], ref_template=REF)
    return schema


def _responses(endpoint: Endpoint) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": endpoint.summary}
    if endpoint.response is not None:
        answer["content"] = {endpoint.response_media: {"schema": _schema(endpoint.response)}}
    responses = {str(endpoint.status): answer}
    for code, description, kind in endpoint.answers:
        responses[str(code)] = {"description": description,
                                "content": {endpoint.response_media: {"schema": _schema(kind)}}}
    error = {"$ref": REF.format(name="Error")}
    for code in endpoint.errors:
        responses[str(code)] = {"description": _ERROR_TEXT[code],
                                "content": {JSON: {"schema": error}}}
    return responses


class ApiDocument:
    """The document of the endpoints `router` serves, made once, when first asked for."""

    def __init__(self, router: Router) -> None:
        self._router = router

    @cached_property
    def document(self) -> dict[str, Any]:
        return openapi_document(self._router.endpoints)

    @cached_property
    def response(self) -> Response:
        return json_response(self.document)


def register_openapi_route(router: Router) -> ApiDocument:
    served = ApiDocument(router)

    async def openapi(_request: Request) -> Response:
        return served.response

    router.add("GET", "/openapi.json", openapi, authenticated=False)
    return served
