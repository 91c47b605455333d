"""/docs: the API reference page a real server renders from its own OpenAPI document."""

from __future__ import annotations

import html
import re
from importlib import resources
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from ..databases import SQLITE, Engine
from ..server import ServerProcess


@pytest.fixture(scope="module")
def engine() -> Engine:
    """The page never touches the store: one engine is enough."""
    return SQLITE


@pytest.fixture(scope="module")
def page(server: ServerProcess) -> httpx.Response:
    return httpx.get(server.url + "/docs", timeout=30)  # no credentials


@pytest.fixture(scope="module")
def document(server: ServerProcess) -> dict[str, Any]:
    return httpx.get(server.url + "/openapi.json", timeout=30).json()


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def articles(page: str) -> dict[tuple[str, str], str]:
    """Each operation's part of the page, by (method, path) as its heading shows them."""
    found: dict[tuple[str, str], str] = {}
    for article in re.findall(r'<article class="operation".*?</article>', page, re.S):
        heading = re.search(r"<h3>(.*?)</h3>", article, re.S)
        assert heading is not None
        method, path = text_of(heading.group(1)).split()[:2]
        found[(method, path)] = article
    return found


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation)
            for path, item in document["paths"].items()
            for method, operation in item.items() if isinstance(operation, dict)]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_docs_is_an_html_page_under_a_strict_policy(page: httpx.Response) -> None:
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text.lstrip().lower().startswith("<!doctype html>")
    policy = page.headers["content-security-policy"]
    for directive in ("default-src 'none'", "style-src 'self'", "frame-ancestors 'none'",
                      "base-uri 'none'", "form-action 'none'"):
        assert directive in policy
    assert page.headers["x-content-type-options"] == "nosniff"


def test_every_operation_of_the_document_is_on_the_page(page: httpx.Response,
                                                        document: dict[str, Any]) -> None:
    shown = articles(page.text)
    expected = {(method, path) for method, path, _ in operations(document)}
    assert expected and expected == set(shown)
    text = text_of(page.text)
    for path in document["paths"]:
        assert path in text
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page.text
    assert "sb-api-key-id" in text and "sb-api-secret-key" in text
    assert 'href="openapi.json"' in page.text


def test_parameters_and_request_fields_are_listed(page: httpx.Response,
                                                  document: dict[str, Any]) -> None:
    shown = articles(page.text)
    checked = set()
    for method, path, operation in operations(document):
        article = shown[(method, path)]
        for parameter in operation.get("parameters", []):
            assert f"<code>{parameter['name']}</code>" in article, (method, path, parameter)
            checked.add("parameter")
        content = operation.get("requestBody", {}).get("content", {})
        schema = resolve(document, content.get("application/json", {}).get("schema", {}))
        for name in schema.get("properties", {}):
            assert f"<code>{name}</code>" in article, (method, path, name)
            checked.add("field")
    assert checked == {"parameter", "field"}
    send = text_of(shown[("POST", "/api/send-message")])
    assert "Request body" in send and "Errors" in send and "401" in send


def test_the_stylesheet_is_served_from_the_package(server: ServerProcess,
                                                   page: httpx.Response) -> None:
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert len(links) == 1
    url = urljoin(server.url + "/docs", html.unescape(links[0]))
    assert url.startswith(server.url + "/docs/static/docs.css?v=")
    css = httpx.get(url, timeout=30)
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert css.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in css.headers["cache-control"]  # the URL names this very content
    shipped = (resources.files("bluewire.web") / "static" / "docs.css").read_bytes()
    assert css.content == shipped
    unversioned = httpx.get(server.url + "/docs/static/docs.css", timeout=30)
    assert unversioned.content == shipped and unversioned.headers["cache-control"] == "no-cache"
    for name in ("nothing.css", "..%2Fpages.py", "%2E%2E"):
        assert httpx.get(f"{server.url}/docs/static/{name}", timeout=30).status_code == 404


def test_the_page_loads_nothing_from_elsewhere(server: ServerProcess,
                                               page: httpx.Response) -> None:
    assert "<script" not in page.text.lower()
    assert "<iframe" not in page.text.lower()
    assert " style=" not in page.text.lower()  # the policy would block inline styles anyway
    targets = re.findall(r'\b(?:src|href|action)\s*=\s*"([^"]*)"', page.text, re.I)
    assert targets
    off_site = [t for t in targets if re.match(r"^(?:[a-z][a-z0-9+.-]*:|//)", t, re.I)]
    assert off_site == []
    css = httpx.get(server.url + "/docs/static/docs.css", timeout=30).text
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(?:https?:)?//", css)
