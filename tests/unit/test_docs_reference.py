"""The API reference page made from a small OpenAPI document: what it shows, and that nothing in
the document can put markup on the page."""

from __future__ import annotations

import html
import re
from typing import Any

from markupsafe import escape

from bluewire.web.reference import build, render_reference

HOSTILE = '<script>alert("x")</script>'


def document(text: str = "plain") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": f"Demo {text}", "version": "1", "description": f"About `{text}`"},
        "security": [{"keyId": [], "secretKey": []}],
        "tags": [{"name": "Things", "description": f"Tag {text}"}],
        "paths": {
            "/things/{thing_id}": {"post": {
                "operationId": "postThing", "tags": ["Things"],
                "summary": f"Post {text}", "description": f"Long `{text}` words",
                "parameters": [
                    {"name": "thing_id", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": "^[a-z]+$"},
                     "description": f"Id {text}"},
                    {"name": "mode", "in": "query",
                     "schema": {"anyOf": [{"enum": ["fast", text]}, {"type": "null"}]}},
                ],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Thing"}}}},
                "responses": {
                    "200": {"description": f"Done {text}", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Thing"}}}},
                    "404": {"description": f"Missing {text}", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            }},
            "/health": {"get": {"security": [], "summary": "Alive",
                                "responses": {"200": {"description": "Yes"}}}},
        },
        "components": {
            "securitySchemes": {
                "keyId": {"type": "apiKey", "in": "header", "name": "sb-api-key-id"},
                "secretKey": {"type": "apiKey", "in": "header", "name": "sb-api-secret-key"},
            },
            "schemas": {
                "Thing": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "description": f"Name {text}", "maxLength": 5},
                    "note": {"anyOf": [{"type": "string", "description": f"Note {text}"},
                                       {"type": "null"}], "default": None},
                    "owner": {"$ref": "#/components/schemas/Owner"},
                    "size": {"type": "object", "properties": {"width": {"type": "integer"}}},
                    "labels": {"type": "array", "items": {"$ref": "#/components/schemas/Owner"}},
                }},
                "Owner": {"type": "object", "properties": {"email": {"type": "string"}}},
                "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
            },
        },
    }


def test_the_reference_groups_operations_and_resolves_schemas() -> None:
    reference = build(document())
    assert [s.name for s in reference.sections] == ["Things", "API"]
    post = reference.sections[0].operations[0]
    assert (post.method, post.path, post.anchor) == ("POST", "/things/{thing_id}", "op-postThing")
    assert [[c.name for c in alternative] for alternative in post.auth] == [
        ["sb-api-key-id", "sb-api-secret-key"]]
    assert reference.sections[1].operations[0].auth == []
    thing_id, mode = post.parameters
    assert (thing_id.required, thing_id.notes) == (True, ["pattern `^[a-z]+$`"])
    assert mode.enum == ['"fast"', '"plain"']
    assert post.body is not None and post.body.shape is not None
    fields = {f.name: f for f in post.body.shape.fields}
    assert fields["name"].required and fields["name"].notes == ["at most 5 characters"]
    assert fields["note"].description == "Note plain"  # from the nullable union's member
    assert [t.text for t in fields["note"].type] == ["string", " | ", "null"]
    assert [(t.text, t.schema) for t in fields["owner"].type] == [("Owner", "Owner")]
    assert [(t.text, t.schema) for t in fields["labels"].type] == [
        ("array of ", None), ("Owner", "Owner")]
    assert [f.name for f in fields["size"].fields] == ["width"]  # inline objects, one level
    assert [r.status for r in post.successes] == ["200"]
    assert [r.status for r in post.errors] == ["404"]


def test_the_page_links_fields_to_the_schemas_section() -> None:
    page = render_reference(document(), static_base="docs/static/", document_url="openapi.json")
    assert 'id="schema-Owner"' in page
    assert 'href="#schema-Owner"' in page
    assert 'href="openapi.json"' in page
    assert "<code>plain</code>" in page  # backticks in descriptions become code


def test_the_page_escapes_what_the_document_says() -> None:
    page = render_reference(document(HOSTILE), static_base="docs/static/",
                            document_url="openapi.json")
    assert "<script" not in page.lower()
    escaped = escape(HOSTILE)
    for shown in (f"Post {escaped}", f"Name {escaped}", f"Missing {escaped}",
                  f"Tag {escaped}", f"<code>{escaped}</code>"):
        assert shown in page, shown
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert f"Long {HOSTILE} words" in text  # the words survive, as words
