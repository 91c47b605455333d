"""The OpenAPI paths and schemas of webhooks: `/api/account/webhooks` (reference §3.13) and
bluewire's own delivery log, resend and replay (`/api/v2/webhook-deliveries`)."""

from __future__ import annotations

from typing import Any

from ..domain.webhooks import ENDPOINT_TYPES
from ..services.delivery_log import DEFAULT_PAGE, MAX_PAGE, MAX_REPLAY_EVENTS, STATES

_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_INT = {"type": ["integer", "null"]}
_DATE = {"type": ["string", "null"], "format": "date-time"}
_ISO = {"type": "string", "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid request (error_code 4000, naming the parameter)",
            401: "Missing or wrong API credentials",
            404: "No such delivery on this account"}
    return {str(code): _json(_ref("Error"), text[code]) for code in codes}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


_DELIVERY_ID = {"name": "delivery_id", "in": "path", "required": True,
                "description": "The delivery's id", "schema": {"type": "integer"}}


def webhook_paths() -> dict[str, Any]:
    config_answer = _json(_ref("WebhookListResponse"), "The account's webhooks after the change")
    return {
        "/api/account/webhooks": {
            "get": {
                "operationId": "getWebhooks", "summary": "The account's webhooks, by type",
                "responses": {"200": _json(_ref("WebhookListResponse"), "The webhooks"),
                              **_errors(401)},
            },
            "post": {
                "operationId": "addWebhooks", "summary": "Add webhooks of one type",
                "requestBody": _body({
                    "type": "object", "required": ["webhooks"], "properties": {
                        "webhooks": {"type": "array", "items": _ref("WebhookEntry")},
                        "type": {"type": "string", "enum": list(ENDPOINT_TYPES),
                                 "default": "receive"},
                        "globalSecret": {"type": "string"}}}),
                "responses": {"200": config_answer, **_errors(400, 401)},
            },
            "put": {
                "operationId": "replaceWebhooks",
                "summary": "Replace every webhook ({} clears them all)",
                "requestBody": _body({"type": "object", "required": ["webhooks"],
                                      "properties": {"webhooks": _ref("Webhooks")}}),
                "responses": {"200": config_answer, **_errors(400, 401)},
            },
            "delete": {
                "operationId": "removeWebhooks", "summary": "Remove webhooks by URL",
                "requestBody": _body({
                    "type": "object", "required": ["webhooks"], "properties": {
                        "webhooks": {"type": "array", "items": {"type": "string"}},
                        "type": {"type": "string", "enum": list(ENDPOINT_TYPES)}}}),
                "responses": {"200": _json({"type": "object", "properties": {
                    "status": {"type": "string"}, "message": {"type": "string"}}},
                    "Removed"), **_errors(400, 401)},
            },
        },
        "/api/v2/webhook-deliveries": {"get": {
            "operationId": "listWebhookDeliveries",
            "summary": "The webhook delivery log, newest first, with every attempt",
            "parameters": [
                _query("message", "Only deliveries about this message handle"),
                _query("endpoint_id", "Only deliveries to this endpoint", {"type": "integer"}),
                _query("url", "Only deliveries to this URL"),
                _query("state", "Only deliveries in this state",
                       {"type": "string", "enum": list(STATES)}),
                _query("since", "Created at or after (ISO 8601 with a time zone)", _ISO),
                _query("until", "Created at or before (ISO 8601 with a time zone)", _ISO),
                _query("limit", f"Page size, 1 to {MAX_PAGE} (default {DEFAULT_PAGE})",
                       {"type": "integer"}),
                _query("offset", "Rows to skip", {"type": "integer"}),
            ],
            "responses": {"200": _json(_ref("DeliveryList"), "A page of deliveries"),
                          **_errors(400, 401)},
        }},
        "/api/v2/webhook-deliveries/{delivery_id}": {"get": {
            "operationId": "getWebhookDelivery",
            "summary": "One delivery with its attempts and payload",
            "parameters": [_DELIVERY_ID],
            "responses": {"200": _json({"type": "object", "properties": {
                "status": {"type": "string"},
                "data": {"allOf": [_ref("Delivery"), {"type": "object", "properties": {
                    "payload": {"type": "object",
                                "description": "The JSON body every attempt sends"}}}]}}},
                "The delivery"), **_errors(401, 404)},
        }},
        "/api/v2/webhook-deliveries/{delivery_id}/resend": {"post": {
            "operationId": "resendWebhookDelivery",
            "summary": "Send a delivery again now, as a new delivery with the same webhook-id",
            "parameters": [_DELIVERY_ID],
            "responses": {"201": _json({"type": "object", "properties": {
                "status": {"type": "string"}, "message": {"type": "string"},
                "resent_from": {"type": "integer"}, "data": _ref("Delivery")}},
                "The new pending delivery"), **_errors(401, 404)},
        }},
        "/api/v2/webhook-deliveries/replay": {"post": {
            "operationId": "replayWebhookDeliveries",
            "summary": "Deliver every event of a time range to an endpoint again (also events "
                       "it never had), each with its original webhook-id and payload",
            "requestBody": _body({
                "type": "object", "required": ["since"],
                "description": "Exactly one of `url` and `endpoint_id`. At most "
                               f"{MAX_REPLAY_EVENTS} events per request.",
                "properties": {
                    "url": {"type": "string", "description": "A configured endpoint's URL"},
                    "endpoint_id": {"type": "integer"},
                    "since": {**_ISO, "description": "Events that occurred at or after"},
                    "until": {**_ISO, "description": "... and at or before (default: now)"}}}),
            "responses": {"200": _json({"type": "object", "properties": {
                "status": {"type": "string"}, "message": {"type": "string"},
                "queued": {"type": "integer"}, "url": {"type": "string"},
                "endpoint_ids": {"type": "array", "items": {"type": "integer"}},
                "since": _ISO, "until": _ISO}}, "How many deliveries were queued"),
                **_errors(400, 401)},
        }},
    }


def webhook_schemas() -> dict[str, Any]:
    entry = _ref("WebhookEntry")
    return {
        "WebhookEntry": {"oneOf": [
            {"type": "string", "format": "uri"},
            {"type": "object", "required": ["url"], "properties": {
                "url": {"type": "string", "format": "uri"},
                "secret": {"type": "string"},
                "sendblue_numbers": {"type": "array", "items": {"type": "string"}}}},
        ]},
        "Webhooks": {"type": "object", "properties": {
            **{name: {"type": "array", "items": entry} for name in ENDPOINT_TYPES},
            "globalSecret": {"type": "string"}}},
        "WebhookListResponse": {"type": "object", "properties": {
            "status": {"type": "string"}, "message": {"type": "string"},
            "webhooks": _ref("Webhooks")}},
        "DeliveryAttempt": {"type": "object", "properties": {
            "attempted_at": _ISO,
            "status_code": _NULLABLE_INT,
            "error": _NULLABLE_STRING,
            "latency_ms": {"type": "number"},
            "response": {**_NULLABLE_STRING, "description": "The first 1 KB of the reply"}}},
        "Delivery": {"type": "object", "properties": {
            "id": {"type": "integer"},
            "event_id": {"type": "string", "description": "The webhook-id header"},
            "event_type": {"type": "string"},
            "endpoint_id": {**_NULLABLE_INT,
                            "description": "null for a status_callback or a removed endpoint"},
            "url": {"type": "string"},
            "signed": {"type": "boolean", "description": "Whether a secret signs it"},
            "message_handle": _NULLABLE_STRING,
            "state": {"type": "string", "enum": list(STATES)},
            "attempts": {"type": "integer"},
            "next_attempt_at": _DATE,
            "created_at": _ISO,
            "last_attempt_at": _DATE,
            "delivered_at": _DATE,
            "last_status": _NULLABLE_INT,
            "last_error": _NULLABLE_STRING,
            "attempts_log": {"type": "array", "items": _ref("DeliveryAttempt")}}},
        "DeliveryList": {"type": "object", "properties": {
            "status": {"type": "string"},
            "data": {"type": "array", "items": _ref("Delivery")},
            "pagination": {"type": "object", "properties": {
                "limit": {"type": "integer"}, "offset": {"type": "integer"},
                "hasMore": {"type": "boolean"}}}}},
    }
