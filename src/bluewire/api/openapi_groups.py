"""The OpenAPI paths and schemas of group messages: send-group-message (reference §3.2) and
modify-group (§3.11)."""

from __future__ import annotations

from typing import Any

from ..domain.limits import MAX_CONTENT_CHARS

_E164_LIST = {"type": "array", "items": {"type": "string"}, "minItems": 2,
              "uniqueItems": True}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid request (error_code 4000, naming the field)",
            401: "Missing or wrong API credentials",
            404: "No such group on this account",
            429: "The line is sending too fast (error_code 4001)"}
    return {str(code): _json(_ref("Error"), text[code]) for code in codes}


def group_paths() -> dict[str, Any]:
    return {
        "/api/send-group-message": {"post": {
            "operationId": "sendGroupMessage", "summary": "Send a message to a group",
            "description": "To `numbers` (a new group; the answer's `group_id` names it) or to "
                           "an existing `group_id`. Each participant's delivery and read is "
                           "tracked: the message is DELIVERED when every participant has it, "
                           "and every participant's read is its own READ webhook naming them "
                           "in `number`.",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("SendGroupMessageRequest")}}},
            "responses": {"200": _json(_ref("MessageResponse"), "Accepted and QUEUED, with "
                                       "`group_id`, `participants` and "
                                       "`message_type: group`"),
                          **_errors(400, 401, 404, 429)},
        }},
        "/api/modify-group": {"post": {
            "operationId": "modifyGroup", "summary": "Add or remove a group participant",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("ModifyGroupRequest")}}},
            "responses": {"200": _json(_ref("GroupModifyResponse"), "The change was made"),
                          **_errors(400, 401, 404)},
        }},
    }


def group_schemas() -> dict[str, Any]:
    return {
        "SendGroupMessageRequest": {
            "type": "object", "required": ["from_number"],
            "properties": {
                "numbers": {**_E164_LIST, "description": "Participants, E.164: a new group"},
                "group_id": {"type": "string", "description": "An existing group"},
                "from_number": {"type": "string", "description": "Your line, E.164"},
                "content": {"type": "string", "maxLength": MAX_CONTENT_CHARS - 1,
                            "description": "Required unless `media_url` is given"},
                "media_url": {"type": "string", "format": "uri"},
                "status_callback": {"type": "string", "format": "uri"},
            },
        },
        "ModifyGroupRequest": {
            "type": "object", "required": ["group_id", "modify_type", "number"],
            "properties": {
                "group_id": {"type": "string"},
                "modify_type": {"type": "string",
                                "enum": ["add_recipient", "remove_recipient"]},
                "number": {"type": "string", "description": "The participant, E.164"},
                "from_number": {"type": "string",
                                "description": "The group's line, if given (else 400 "
                                               "line_not_registered)"},
            },
        },
        "GroupModifyResponse": {"type": "object", "properties": {
            "status": {"type": "string"}, "group_id": {"type": "string"},
            "modify_type": {"type": "string"}, "number": {"type": "string"},
        }},
    }
