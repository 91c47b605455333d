"""The hand-written words of the endpoints not yet declared (see endpoint.py)."""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..domain.limits import MAX_CONTENT_CHARS, SEND_STYLES

_STATUSES = ["REGISTERED", "PENDING", "DECLINED", "QUEUED", "ACCEPTED", "SENT", "DELIVERED",
             "READ", "ERROR", "RECEIVED"]
_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_BOOL = {"type": ["boolean", "null"]}
_DATE = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid request (error_code 4000, or 4002 for blocked numbers)",
            401: "Missing or wrong API credentials", 404: "Not found",
            429: "Line send rate exceeded (error_code 4001)"}
    return {str(code): _json(_ref("Error"), text[code]) for code in codes}


def _query(name: str, description: str, schema: dict[str, Any] | None = None,
           required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}


_MESSAGE_FIELDS: dict[str, Any] = {
    "content": _NULLABLE_STRING,
    "date_updated": _DATE,
    "error_code": _NULLABLE_INT,
    "error_key": _NULLABLE_STRING,
    "error_message": _NULLABLE_STRING,
    "from_number": {"type": "string"},
    "is_outbound": {"type": "boolean"},
    "media_url": _NULLABLE_STRING,
    "message_handle": {"type": "string"},
    "message_type": {"type": "string", "enum": ["message", "group", "location"]},
    "number": {"type": "string", "description": "The end user's number"},
    "to_number": {"type": "string"},
    "sendblue_number": {"type": "string", "description": "The line"},
    "send_style": {"type": ["string", "null"], "enum": [*sorted(SEND_STYLES), None]},
    "service": {"type": ["string", "null"], "enum": ["iMessage", "SMS", "RCS", None]},
    "status": {"type": "string", "enum": _STATUSES},
    "was_downgraded": _NULLABLE_BOOL,
    "plan": {"type": "string"},
    "group_id": _NULLABLE_STRING,
    "participants": {"type": "array", "items": {"type": "string"}},
    "opted_out": {"type": "boolean"},
}


def legacy_document() -> dict[str, Any]:
    auth = [{"keyId": [], "secretKey": []}]
    list_params = [
        _query("number", "The end user's number (E.164)"),
        _query("from_number", "Sender (E.164)"),
        _query("to_number", "Recipient (E.164)"),
        _query("sendblue_number", "The line (E.164)"),
        _query("is_outbound", "true or false", {"type": "string", "enum": ["true", "false"]}),
        _query("status", "Status", {"type": "string", "enum": [*_STATUSES, "SUCCESS"]}),
        _query("service", "Service", {"type": "string", "enum": ["iMessage", "SMS", "RCS"]}),
        _query("message_type", "Type", {"type": "string", "enum": ["message", "group"]}),
        *[_query(f"{field}_{bound}", "ISO 8601 date-time", {"type": "string",
                                                             "format": "date-time"})
          for field in ("created_at", "updated_at", "sent_at") for bound in ("gte", "lte")],
        _query("order_by", "Sort field", {"type": "string", "enum": [
            "createdAt", "updatedAt", "sentAt", "created_at", "updated_at", "sent_at"]}),
        _query("order_direction", "asc or desc", {"type": "string", "enum": ["asc", "desc"]}),
        _query("limit", "Page size, 1 to 1000 (default 100)", {"type": "integer"}),
        _query("offset", "Rows to skip, up to 10000", {"type": "integer"}),
    ]
    return {
        "openapi": "3.1.0",
        "info": {"title": "bluewire", "version": __version__,
                 "description": "Self-hosted iMessage and SMS API, wire-compatible with "
                                "Sendblue."},
        "security": auth,
        "paths": {
            "/api/send-message": {"post": {
                "operationId": "sendMessage", "summary": "Send a 1:1 message",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("SendMessageRequest")}}},
                "responses": {"200": _json(_ref("MessageResponse"), "Accepted and QUEUED"),
                              **_errors(400, 401, 429)},
            }},
            "/api/status": {"get": {
                "operationId": "getStatus", "summary": "A message's current status",
                "parameters": [_query("handle", "The message handle", required=True)],
                "responses": {"200": _json(_ref("MessageResponse"), "The message"),
                              **_errors(400, 401, 404)},
            }},
            "/api/v2/messages": {"get": {
                "operationId": "listMessages", "summary": "List messages",
                "parameters": list_params,
                "responses": {"200": _json(_ref("MessageList"), "A page of messages"),
                              **_errors(400, 401)},
            }},
            "/api/v2/messages/{message_id}": {"get": {
                "operationId": "retrieveMessage", "summary": "One message",
                "parameters": [{"name": "message_id", "in": "path", "required": True,
                                "description": "The message handle",
                                "schema": {"type": "string"}}],
                "responses": {"200": _json({"type": "object", "properties": {
                    "status": {"type": "string"}, "data": _ref("MessageRow")}}, "The message"),
                    **_errors(401, 404)},
            }},
            "/api/evaluate-service": {"get": {
                "operationId": "evaluateService", "summary": "Is a number on iMessage?",
                "parameters": [_query("number", "E.164 number or email", required=True)],
                "responses": {"200": _json({"type": "object", "properties": {
                    "number": {"type": "string"},
                    "service": {"type": "string", "enum": ["iMessage", "SMS"]}}},
                    "The service the number is reachable on"), **_errors(400, 401)},
            }},
        },
        "components": {
            "securitySchemes": {
                "keyId": {"type": "apiKey", "in": "header", "name": "sb-api-key-id"},
                "secretKey": {"type": "apiKey", "in": "header", "name": "sb-api-secret-key"},
            },
            "schemas": {
                "SendMessageRequest": {
                    "type": "object", "required": ["number"],
                    "properties": {
                        "number": {"type": "string", "description": "Recipient, E.164"},
                        "from_number": {"type": "string",
                                        "description": "Your line, E.164 (may be omitted "
                                                       "when the account has one line)"},
                        "content": {"type": "string", "maxLength": MAX_CONTENT_CHARS - 1},
                        "media_url": {"type": "string", "format": "uri"},
                        "send_style": {"type": "string", "enum": sorted(SEND_STYLES)},
                        "status_callback": {"type": "string", "format": "uri"},
                    },
                },
                "MessageResponse": {"type": "object", "properties": {
                    **_MESSAGE_FIELDS, "account_email": {"type": "string"},
                    "date_created": _DATE}},
                "MessageRow": {"type": "object", "properties": {
                    **_MESSAGE_FIELDS, "accountEmail": {"type": "string"},
                    "date_sent": _DATE}},
                "MessageList": {"type": "object", "properties": {
                    "status": {"type": "string"},
                    "data": {"type": "array", "items": _ref("MessageRow")},
                    "pagination": {"type": "object", "properties": {
                        "total": {"type": "integer"}, "limit": {"type": "integer"},
                        "offset": {"type": "integer"}, "hasMore": {"type": "boolean"}}},
                }},
                "Error": {"type": "object", "required": ["status", "message"], "properties": {
                    "status": {"type": "string", "enum": ["ERROR"]},
                    "message": {"type": "string"},
                    "error_message": {"type": "string"},
                    "error_code": {"type": "integer"},
                    "error_key": {"type": "string"},
                }},
            },
        },
    }
