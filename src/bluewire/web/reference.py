"""The API reference page: an OpenAPI 3.1 document turned into what the page shows (operations
grouped by tag, their parameters, bodies and responses, and the named schemas they point at),
then rendered with the `docs.html` template."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .pages import render

Schema = dict[str, Any]

SCHEMA_REF = "#/components/schemas/"
METHODS = ("get", "put", "post", "patch", "delete", "options", "head", "trace")
UNTAGGED = "API"
NESTED_DEPTH = 1  # inline objects inside a body show their own fields this many levels down


@dataclass(frozen=True, slots=True)
class Token:
    """A piece of a type label; `schema` names the component schema it links to, if any."""

    text: str
    schema: str | None = None

    @property
    def anchor(self) -> str:
        return schema_anchor(self.schema) if self.schema else ""


@dataclass(slots=True)
class Field:
    name: str
    type: list[Token]
    required: bool = False
    description: str = ""
    enum: list[str] = field(default_factory=list)  # allowed values, as JSON
    notes: list[str] = field(default_factory=list)  # constraints: pattern, lengths, default
    fields: list[Field] = field(default_factory=list)  # an inline object's own fields

    @property
    def prefix(self) -> str:
        """What its own fields' names are shown under: `items[].` for an array's items."""
        return self.name + ("[]." if self.type[0].text.startswith("array") else ".")


@dataclass(slots=True)
class Shape:
    """What the page says about a schema: its type, and its fields if it is an object."""

    type: list[Token]
    description: str = ""
    enum: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    variants: list[Shape] = field(default_factory=list)  # inline objects of an anyOf/oneOf


@dataclass(slots=True)
class Parameter:
    name: str
    location: str
    required: bool
    type: list[Token]
    description: str = ""
    enum: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    deprecated: bool = False


@dataclass(frozen=True, slots=True)
class Credential:
    name: str  # the header (query parameter, cookie) that carries it, or the scheme's name
    where: str  # "header", "query", "cookie", or a kind of HTTP authentication


@dataclass(slots=True)
class Body:
    media_types: list[str]
    required: bool
    description: str
    shape: Shape | None


@dataclass(slots=True)
class Reply:
    status: str
    description: str
    media_types: list[str]
    shape: Shape | None
    headers: list[str]

    @property
    def is_error(self) -> bool:
        return self.status[:1] in ("4", "5") or self.status == "default"


@dataclass(slots=True)
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    # Alternatives, each a set of credentials sent together; empty: no credentials needed.
    auth: list[list[Credential]]
    deprecated: bool
    parameters: list[Parameter]
    body: Body | None
    replies: list[Reply]

    @property
    def successes(self) -> list[Reply]:
        return [reply for reply in self.replies if not reply.is_error]

    @property
    def errors(self) -> list[Reply]:
        return [reply for reply in self.replies if reply.is_error]


@dataclass(slots=True)
class Section:
    name: str
    anchor: str
    description: str
    operations: list[Operation] = field(default_factory=list)


@dataclass(slots=True)
class NamedSchema:
    name: str
    anchor: str
    shape: Shape


@dataclass(slots=True)
class Reference:
    title: str
    version: str
    description: str
    credentials: list[Credential]  # every credential the document's security schemes name
    sections: list[Section]
    schemas: list[NamedSchema]


def render_reference(document: dict[str, Any], *, static_base: str,
                     document_url: str) -> str:
    """The whole page: `static_base` is the URL its stylesheet is under, `document_url` the
    OpenAPI document's."""
    return render("docs.html", reference=build(document), static_base=static_base,
                  document_url=document_url)


def build(document: dict[str, Any]) -> Reference:
    return _Builder(document).reference()


def schema_anchor(name: str) -> str:
    return "schema-" + ident(name)


def ident(text: str) -> str:
    """`text` made fit for an HTML id and a URL fragment (case kept: ids are case-sensitive)."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-") or "x"


class _Builder:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        components = document.get("components") or {}
        self.schemas: dict[str, Schema] = components.get("schemas") or {}
        self.components = components
        self.schemes: dict[str, Any] = components.get("securitySchemes") or {}
        self.anchors: set[str] = set()

    def reference(self) -> Reference:
        info = self.document.get("info") or {}
        return Reference(
            title=str(info.get("title") or "API"),
            version=str(info.get("version") or ""),
            description=str(info.get("description") or ""),
            credentials=[self.credential(name) for name in self.schemes],
            sections=self.sections(),
            schemas=[NamedSchema(name, schema_anchor(name), self.shape(schema))
                     for name, schema in self.schemas.items()],
        )

    def unique(self, anchor: str) -> str:
        candidate, n = anchor, 1
        while candidate in self.anchors:
            n += 1
            candidate = f"{anchor}-{n}"
        self.anchors.add(candidate)
        return candidate

    # Operations

    def sections(self) -> list[Section]:
        sections: dict[str, Section] = {}
        for tag in self.document.get("tags") or []:
            self.section(sections, tag.get("name", UNTAGGED), tag.get("description", ""))
        for path, item in (self.document.get("paths") or {}).items():
            item = self.resolve(item)
            shared = item.get("parameters") or []
            for method in METHODS:
                operation = item.get(method)
                if not isinstance(operation, dict):
                    continue
                tags = operation.get("tags") or [UNTAGGED]
                self.section(sections, tags[0]).operations.append(
                    self.operation(method, path, operation, shared))
        return [section for section in sections.values() if section.operations]

    def section(self, sections: dict[str, Section], name: str, description: str = "") -> Section:
        if name not in sections:
            sections[name] = Section(name, self.unique("tag-" + ident(name)), description)
        return sections[name]

    def operation(self, method: str, path: str, operation: Schema,
                  shared: list[Schema]) -> Operation:
        own = [self.resolve(p) for p in operation.get("parameters") or []]
        named = {(p.get("name"), p.get("in")) for p in own}
        inherited = [p for p in map(self.resolve, shared) if (p.get("name"), p.get("in"))
                     not in named]
        security = operation.get("security", self.document.get("security") or [])
        anchor = ident(operation.get("operationId") or f"{method} {path}")
        return Operation(
            anchor=self.unique("op-" + anchor),
            method=method.upper(),
            path=path,
            summary=str(operation.get("summary") or ""),
            description=str(operation.get("description") or ""),
            auth=[[self.credential(name) for name in requirement] for requirement in security],
            deprecated=bool(operation.get("deprecated")),
            parameters=[self.parameter(p) for p in [*inherited, *own]],
            body=self.body(operation.get("requestBody")),
            replies=[self.reply(str(status), reply)
                     for status, reply in (operation.get("responses") or {}).items()],
        )

    def credential(self, name: str) -> Credential:
        scheme = self.resolve(self.schemes.get(name) or {})
        kind = scheme.get("type")
        if kind == "apiKey":
            return Credential(str(scheme.get("name") or name), str(scheme.get("in") or ""))
        if kind == "http":
            return Credential("Authorization", f"header, HTTP {scheme.get('scheme', '')}".strip())
        return Credential(name, str(kind or ""))

    def parameter(self, parameter: Schema) -> Parameter:
        schema = parameter.get("schema") or {}
        if not schema and parameter.get("content"):
            schema = next(iter(parameter["content"].values())).get("schema") or {}
        return Parameter(
            name=str(parameter.get("name", "")),
            location=str(parameter.get("in", "")),
            required=bool(parameter.get("required")),
            type=self.label(schema),
            description=str(parameter.get("description") or self.description(schema)),
            enum=self.enum(schema),
            notes=self.notes(schema),
            deprecated=bool(parameter.get("deprecated")),
        )

    def body(self, body: Schema | None) -> Body | None:
        if not body:
            return None
        body = self.resolve(body)
        content = body.get("content") or {}
        return Body(list(content), bool(body.get("required")), str(body.get("description") or ""),
                    self.content_shape(content))

    def reply(self, status: str, reply: Schema) -> Reply:
        reply = self.resolve(reply)
        content = reply.get("content") or {}
        return Reply(status, str(reply.get("description") or ""), list(content),
                     self.content_shape(content), list(reply.get("headers") or {}))

    def content_shape(self, content: dict[str, Any]) -> Shape | None:
        """The shape of the first JSON media type's schema, else of the first one's."""
        if not content:
            return None
        media = next((value for key, value in content.items() if "json" in key),
                     next(iter(content.values())))
        schema = (media or {}).get("schema")
        return self.shape(schema) if schema else None

    # Schemas

    def resolve(self, value: Any) -> Schema:
        """Follow local `$ref`s (to any component) to what they name."""
        seen: set[str] = set()
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            ref = value["$ref"]
            if ref in seen or not ref.startswith("#/"):
                break
            seen.add(ref)
            target: Any = self.document
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, dict) else None
            if target is None:
                break
            value = target
        return value if isinstance(value, dict) else {}

    def shape(self, schema: Schema) -> Shape:
        resolved = self.resolve(schema)
        variants = [self.shape(v) for v in self.alternatives(resolved)
                    if "$ref" not in v and self.properties(v)[0]]
        return Shape(
            type=self.label(schema),
            description=self.description(resolved),
            enum=self.enum(resolved),
            notes=self.notes(resolved),
            fields=self.fields(resolved, NESTED_DEPTH),
            variants=variants,
        )

    def fields(self, schema: Schema, depth: int) -> list[Field]:
        properties, required = self.properties(schema)
        found: list[Field] = []
        for name, value in properties.items():
            value = value if isinstance(value, dict) else {}
            inline = self.inline_object(value)
            found.append(Field(
                name=name,
                type=self.label(value),
                required=name in required,
                description=self.description(value),
                enum=self.enum(value),
                notes=self.notes(value),
                fields=self.fields(inline, depth - 1) if inline and depth > 0 else [],
            ))
        return found

    def properties(self, schema: Schema) -> tuple[dict[str, Any], set[str]]:
        """An object's properties and required names, those of its `allOf` parts included."""
        properties: dict[str, Any] = dict(schema.get("properties") or {})
        required = set(schema.get("required") or [])
        for part in schema.get("allOf") or []:
            more, needed = self.properties(self.resolve(part))
            properties.update(more)
            required |= needed
        return properties, required

    def inline_object(self, schema: Schema) -> Schema | None:
        """The object written out in `schema` itself (or as its array's items, or as the
        non-null alternative of a nullable union): the fields to show under it."""
        if "$ref" in schema:
            return None
        if self.properties(schema)[0]:
            return schema
        if isinstance(schema.get("items"), dict):
            return self.inline_object(schema["items"])
        alternatives = [v for v in self.alternatives(schema) if v.get("type") != "null"]
        if len(alternatives) == 1:
            return self.inline_object(alternatives[0])
        return None

    def description(self, schema: Schema) -> str:
        """The schema's own, or that of the one alternative of a nullable union (where msgspec
        puts a field's description)."""
        if schema.get("description"):
            return str(schema["description"])
        alternatives = [v for v in self.alternatives(schema) if v.get("type") != "null"]
        if len(alternatives) == 1 and "$ref" not in alternatives[0]:
            return self.description(alternatives[0])
        return ""

    @staticmethod
    def alternatives(schema: Schema) -> list[Schema]:
        return [v for v in (schema.get("anyOf") or schema.get("oneOf") or [])
                if isinstance(v, dict)]

    def label(self, schema: Any) -> list[Token]:
        if not isinstance(schema, dict) or not schema:
            return [Token("any")]
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.removeprefix(SCHEMA_REF)
            return [Token(name, name if ref.startswith(SCHEMA_REF) else None)]
        for key, joiner in (("anyOf", " | "), ("oneOf", " | "), ("allOf", " & ")):
            if schema.get(key):
                return _join([self.label(v) for v in schema[key]], joiner)
        if "const" in schema:
            return [Token(_json(schema["const"]))]
        types = schema.get("type")
        if types is None:
            types = "object" if "properties" in schema else _kind_of(schema.get("enum"))
        if not isinstance(types, list):
            types = [types]
        labels = [self.single(schema, str(kind)) for kind in types]
        if schema.get("nullable") and "null" not in types:
            labels.append([Token("null")])
        return _join(labels, " | ")

    def single(self, schema: Schema, kind: str) -> list[Token]:
        if kind == "array":
            items = schema.get("items")
            if not items:
                return [Token("array")]
            inner = self.label(items)
            if any(" | " in t.text or " & " in t.text for t in inner):
                inner = [Token("("), *inner, Token(")")]
            return [Token("array of "), *inner]
        if kind == "object":
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra and not schema.get("properties"):
                return [Token("map of "), *self.label(extra)]
            return [Token("object")]
        if kind != "null" and schema.get("format"):
            return [Token(f"{kind} ({schema['format']})")]
        return [Token(kind)]

    def enum(self, schema: Schema) -> list[str]:
        values: list[Any] = []
        if "enum" in schema:
            values = list(schema["enum"])
        elif isinstance(schema.get("items"), dict) and "$ref" not in schema["items"]:
            return self.enum(schema["items"])
        else:
            for alternative in self.alternatives(schema):
                if "$ref" not in alternative:
                    values += alternative.get("enum") or (
                        [alternative["const"]] if "const" in alternative else [])
        return [_json(value) for value in values]

    def notes(self, schema: Schema) -> list[str]:
        notes = [text.format(_value(schema[key])) for key, text in _NOTES
                 if schema.get(key) is not None and schema[key] is not False]
        if schema.get("uniqueItems"):
            notes.append("items are unique")
        if isinstance(schema.get("items"), dict) and "$ref" not in schema["items"]:
            notes += [f"each item: {note}" for note in self.notes(schema["items"])]
        for alternative in self.alternatives(schema):
            if "$ref" not in alternative:
                notes += self.notes(alternative)
        return list(dict.fromkeys(notes))


_NOTES = (
    ("pattern", "pattern `{}`"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minimum", "at least {}"),
    ("exclusiveMinimum", "more than {}"),
    ("maximum", "at most {}"),
    ("exclusiveMaximum", "less than {}"),
    ("multipleOf", "a multiple of {}"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("minProperties", "at least {} entries"),
    ("maxProperties", "at most {} entries"),
    ("default", "default `{}`"),
    ("examples", "e.g. `{}`"),
    ("example", "e.g. `{}`"),
    ("readOnly", "read-only"),
    ("writeOnly", "write-only"),
    ("deprecated", "deprecated"),
)


def _kind_of(values: list[Any] | None) -> list[str]:
    """The JSON types of an enum's values (msgspec writes a Literal's without a `type`)."""
    names = {bool: "boolean", int: "integer", float: "number", str: "string",
             type(None): "null", list: "array", dict: "object"}
    kinds = list(dict.fromkeys(names.get(type(value), "any") for value in values or []))
    return kinds or ["any"]


def _value(value: Any) -> str:
    if isinstance(value, list) and value:  # `examples`: the first will do
        value = value[0]
    return value if isinstance(value, str | int | float) and not isinstance(value, bool) \
        else _json(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _join(labels: Iterable[list[Token]], joiner: str) -> list[Token]:
    tokens: list[Token] = []
    for label in labels:
        if tokens:
            tokens.append(Token(joiner))
        tokens += label
    return tokens or [Token("any")]
