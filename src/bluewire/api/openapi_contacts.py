"""The OpenAPI paths and schemas of contacts: `/api/v2/contacts` (reference §3.12) and the
CLI's shared-line contacts (§3.16)."""

from __future__ import annotations

from typing import Any

from ..domain.contact_input import DEFAULT_PAGE, MAX_BULK, MAX_OFFSET, MAX_PAGE, ORDER_BY

_NULLABLE_STRING = {"type": ["string", "null"]}
_ISO = {"type": "string", "format": "date-time"}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_TAGS = {"type": "array", "items": {"type": "string"}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid request (error_code 4000, naming the field; 4002 for an emergency "
                 "or short number)",
            401: "Missing or wrong API credentials",
            404: "No such contact on this account",
            409: "The contact exists (error_code 4000, error_key CONTACT_EXISTS); "
                 "pass update_if_exists"}
    return {str(code): _json(_ref("Error"), text[code]) for code in codes}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


_PHONE = {"name": "phone_number", "in": "path", "required": True,
          "description": "The contact's number, E.164. A literal `+` (as the SDK sends it) and "
                         "`%2B` both work.", "schema": {"type": "string"}}
_STATUS = {"status": {"type": "string"}}
_CONTACT_ANSWER = _object({**_STATUS, "contact": _ref("Contact")})


def _fields(*, deprecated_aliases: bool) -> dict[str, Any]:
    """The writable contact fields (with their deprecated camelCase aliases)."""
    fields: dict[str, Any] = {
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "company_name": {"type": "string"},
        "assigned_to_email": {"type": "string", "format": "email"},
        "sendblue_number": {"type": "string",
                            "description": "A line of the account, E.164"},
        "custom_variables": {**_STRING_MAP,
                             "description": "Merged into the contact's variables; a null "
                                            "value removes that variable"},
        "tags": {**_TAGS, "description": "Replaces the contact's tags"},
    }
    if deprecated_aliases:
        for name, alias in (("first_name", "firstName"), ("last_name", "lastName"),
                            ("company_name", "companyName"),
                            ("assigned_to_email", "assignedToEmail"),
                            ("sendblue_number", "sendblueNumber")):
            fields[alias] = {**fields[name], "deprecated": True,
                             "description": f"Deprecated alias of {name}"}
    return fields


def contact_paths() -> dict[str, Any]:
    base = "/api/v2/contacts"
    return {
        base: {
            "post": {
                "operationId": "createContact",
                "summary": "Add a contact (or update it, with update_if_exists)",
                "description": "A new contact emits a contact.created event and "
                               "contact_created webhooks.",
                "requestBody": _body(_object({
                    "number": {"type": "string", "description": "E.164"},
                    "phone_number": {"type": "string", "deprecated": True},
                    "phoneNumber": {"type": "string", "deprecated": True},
                    **_fields(deprecated_aliases=True),
                    "update_if_exists": {"type": "boolean", "default": False},
                }, ["number"])),
                "responses": {"200": _json(_object({
                    **_CONTACT_ANSWER["properties"],
                    "created": {"type": "boolean",
                                "description": "false when an existing contact was updated"},
                }), "The contact"), **_errors(400, 401, 409)},
            },
            "get": {
                "operationId": "listContacts", "summary": "The account's contacts (a bare array)",
                "parameters": [
                    _query("cid", "Only the contact with this contact_id"),
                    _query("created_at_gte", "Created at or after (ISO 8601 with a time zone)",
                           _ISO),
                    _query("phone_number", "Only the contact with this number (E.164)"),
                    _query("limit", f"Page size (default {DEFAULT_PAGE}; more than {MAX_PAGE} "
                           f"is served as {MAX_PAGE})", {"type": "integer", "minimum": 1}),
                    _query("offset", f"Rows to skip, up to {MAX_OFFSET}",
                           {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}),
                    _query("order_by", "Sort field (default created_at)",
                           {"type": "string", "enum": list(ORDER_BY)}),
                    _query("order_direction", "Sort direction (default desc)",
                           {"type": "string", "enum": ["asc", "desc"]}),
                ],
                "responses": {"200": _json({"type": "array", "items": _ref("Contact")},
                                           "The contacts"), **_errors(400, 401)},
            },
            "delete": {
                "operationId": "bulkDeleteContacts", "summary": "Delete contacts",
                "requestBody": _body(_object({"contact_ids": {
                    "type": "array", "maxItems": MAX_BULK, "items": {"type": "string"},
                    "description": "E.164 numbers (or contact ids, ct_…); unknown ones are "
                                   "skipped"}}, ["contact_ids"])),
                "responses": {"200": _json(_object({**_STATUS, "amount": {
                    "type": "integer", "description": "How many were deleted"}}), "Deleted"),
                    **_errors(400, 401)},
            },
        },
        f"{base}/count": {"get": {
            "operationId": "countContacts", "summary": "How many contacts the account has",
            "responses": {"200": _json(_object({**_STATUS, "count": {"type": "integer"}}),
                                       "The count"), **_errors(401)},
        }},
        f"{base}/opt-out": {"post": {
            "operationId": "optOutContact",
            "summary": "Opt a number out (sends to it are refused with 4002 OPTED_OUT), or "
                       "back in with opted_out false",
            "description": "A number that is not a contact yet becomes one, opted out.",
            "requestBody": _body(_object({"number": {"type": "string"},
                                          "opted_out": {"type": "boolean", "default": True}},
                                         ["number"])),
            "responses": {"200": _json(_object({**_STATUS, "number": {"type": "string"},
                                                "opted_out": {"type": "boolean"}}),
                                       "The opt-out state"), **_errors(400, 401)},
        }},
        f"{base}/verify": {"post": {
            "operationId": "verifyContact",
            "summary": "Mark a contact verified (adding it if needed)",
            "requestBody": _body(_object({"number": {"type": "string"}}, ["number"])),
            "responses": {"200": _json(_CONTACT_ANSWER, "Verified"), **_errors(400, 401)},
        }},
        f"{base}/bulk": {"post": {
            "operationId": "bulkCreateContacts",
            "summary": "Add contacts; existing ones are updated with the fields given",
            "requestBody": _body(_object({"contacts": {
                "type": "array", "maxItems": MAX_BULK,
                "items": _object({"phone": {"type": "string", "description": "E.164"},
                                  **_fields(deprecated_aliases=False)}, ["phone"])}},
                ["contacts"])),
            "responses": {"200": _json(_object({
                **_STATUS, "contacts": {"type": "array", "items": _ref("Contact")},
                "created": {"type": "integer"}, "updated": {"type": "integer"}}),
                "The contacts, in the order given"), **_errors(400, 401)},
        }},
        f"{base}/{{phone_number}}": {
            "get": {
                "operationId": "retrieveContact", "summary": "One contact",
                "parameters": [_PHONE],
                "responses": {"200": _json(_CONTACT_ANSWER, "The contact"),
                              **_errors(400, 401, 404)},
            },
            "put": {
                "operationId": "updateContact", "summary": "Change a contact",
                "parameters": [_PHONE],
                "requestBody": _body(_object({
                    **_fields(deprecated_aliases=True),
                    "opt_out": {"type": "boolean"},
                    "optOut": {"type": "boolean", "deprecated": True}}), required=False),
                "responses": {"200": _json(_CONTACT_ANSWER, "The contact"),
                              **_errors(400, 401, 404)},
            },
            "delete": {
                "operationId": "deleteContact",
                "summary": "Delete a contact (any body is ignored)",
                "parameters": [_PHONE],
                "responses": {"200": _json(_object(_STATUS), "Deleted"),
                              **_errors(400, 401, 404)},
            },
        },
        "/accounts/shared-contacts": {"get": {
            "operationId": "sharedContacts",
            "summary": "The account's shared line and its contacts (the CLI's `contacts`)",
            "responses": {"200": _json(_object({
                **_STATUS, "sharedNumber": _NULLABLE_STRING,
                "contacts": {"type": "array", "items": _ref("ContactRoute")}}),
                "The shared line and the newest 1000 contacts, oldest first"),
                **_errors(401)},
        }},
        "/accounts/verify-contact-on-shared-account": {"post": {
            "operationId": "addSharedContact",
            "summary": "Add a contact (the CLI's `add-contact`); an existing one is kept",
            "requestBody": _body(_object({"recipient": {"type": "string"}}, ["recipient"])),
            "responses": {"200": _json(_object({**_STATUS, "route": _ref("ContactRoute")}),
                                       "The contact"), **_errors(400, 401)},
        }},
    }


def contact_schemas() -> dict[str, Any]:
    return {
        "Contact": _object({
            "contact_id": {"type": "string", "description": "Immutable"},
            "phone": {"type": "string", "description": "E.164"},
            "first_name": _NULLABLE_STRING,
            "last_name": _NULLABLE_STRING,
            "company_name": _NULLABLE_STRING,
            "assigned_to_email": _NULLABLE_STRING,
            "sendblue_number": _NULLABLE_STRING,
            "custom_variables": _STRING_MAP,
            "tags": _TAGS,
            "opt_out": {"type": "boolean"},
            "verified": {"type": "boolean"},
            "created_at": _ISO,
        }),
        "ContactRoute": _object({
            "id": {"type": "integer"},
            "number": {"type": "string"},
            "verified": {"type": "boolean"},
            "createdAt": _ISO,
        }),
    }
