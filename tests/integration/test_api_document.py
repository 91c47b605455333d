"""Every endpoint is declared once: the document lists exactly what is routed, and requests
are read (JSON or form, checked field by field) from the same declarations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from bluewire.api.http import Route
from bluewire.app import Gateway
from bluewire.config import Settings

from ..server import SANDBOX_LINE, ServerProcess

PHONE = "+14155550100"
FORM = "application/x-www-form-urlencoded"
# Routes that are pages for people, not API operations.
PAGES = {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/static/{name}"),
         ("GET", "/")}  # / leads to the console (mounted at /console, not routed)


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[Route]:
    """Every HTTP route the gateway serves, read off its router."""
    folder: Path = tmp_path_factory.mktemp("routes")
    gateway = Gateway(Settings.from_env(database_url=f"sqlite:///{folder / 'b.db'}"))
    try:
        return gateway.asgi().router.routes
    finally:
        gateway.database.dispose()


@pytest.fixture(scope="module")
def routed(routes: list[Route]) -> set[tuple[str, str]]:
    return {(route.method, route.path) for route in routes}


def test_every_route_but_the_pages_is_a_declared_endpoint(routes: list[Route]) -> None:
    undeclared = {(r.method, r.path) for r in routes if r.endpoint is None}
    assert undeclared == PAGES


def documented(server: ServerProcess) -> dict[tuple[str, str], dict[str, Any]]:
    document = httpx.get(f"{server.url}/openapi.json").json()
    return {(method.upper(), path): operation
            for path, operations in document["paths"].items()
            for method, operation in operations.items()}


def test_every_routed_endpoint_is_documented_and_every_documented_one_routed(
        server: ServerProcess, routed: set[tuple[str, str]]) -> None:
    operations = set(documented(server))
    assert routed - PAGES - operations == set(), "routed but missing from /openapi.json"
    assert operations - routed == set(), "documented but not routed"


def test_the_send_message_request_is_described_as_it_is_read(server: ServerProcess) -> None:
    document = httpx.get(f"{server.url}/openapi.json").json()
    operation = document["paths"]["/api/send-message"]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-www-form-urlencoded"}
    schema = document["components"]["schemas"]["SendMessage"]
    assert schema["required"] == ["number"]
    style = schema["properties"]["send_style"]["anyOf"][0]
    assert "confetti" in style["enum"]
    line = schema["properties"]["from_number"]["anyOf"][0]
    assert line["pattern"].startswith("^\\+")


def test_a_form_body_sends_a_message(api: httpx.Client) -> None:
    response = api.post("/api/send-message", content=f"number=%2B14155550100&from_number="
                        f"{SANDBOX_LINE.replace('+', '%2B')}&content=hello+there",
                        headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    assert response.json()["content"] == "hello there"
    assert response.json()["number"] == PHONE


def test_json_sent_with_curls_default_form_type_is_read_as_json(api: httpx.Client) -> None:
    response = api.post("/api/send-message", content=(
        f'{{"number": "{PHONE}", "from_number": "{SANDBOX_LINE}", "content": "hi"}}'),
        headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text


def test_a_body_of_another_type_is_refused_naming_its_content_type(api: httpx.Client) -> None:
    response = api.post("/api/send-message", content=b"number=1&content=x",
                        headers={"content-type": "text/plain"})
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == 4000
    assert "text/plain" in body["message"] and "application/json" in body["message"]


@pytest.mark.parametrize(("body", "mention"), [
    ({"number": PHONE, "content": ["a"]}, "`content` must be a string"),
    ({"content": "hi"}, "`number` is required"),
    ([{"number": PHONE}], "must be a JSON object"),
])
def test_a_mistyped_field_is_named(api: httpx.Client, body: Any, mention: str) -> None:
    response = api.post("/api/send-message", json=body)
    assert response.status_code == 400
    assert mention in response.json()["message"]
    assert response.json()["error_code"] == 4000


@pytest.mark.parametrize("depth", [65, 100_000])
def test_json_nested_past_64_levels_is_a_400_saying_so(api: httpx.Client, depth: int) -> None:
    raw = (f'{{"number": "{PHONE}", "content": "hi", "extra": ' + "[" * (depth - 1)
           + "]" * (depth - 1) + "}").encode()
    response = api.post("/api/send-message", content=raw,
                        headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"] == "The request body is nested more than 64 levels deep"
    assert response.json()["error_code"] == 4000


def test_json_nested_64_levels_and_brackets_in_text_are_read(api: httpx.Client) -> None:
    raw = (f'{{"number": "{PHONE}", "content": "{"[" * 200}", "extra": ' + "[" * 63
           + "]" * 63 + "}").encode()
    response = api.post("/api/send-message", content=raw,
                        headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["content"] == "[" * 200


@pytest.mark.parametrize(("query", "mention"), [
    ("limit=5000", "`limit` must be a whole number <= 1000"),
    ("offset=9223372036854775808", "`offset`"),
    ("status=LOST", "`status` must be one of: ACCEPTED"),
    ("limit=ten", "`limit` must be a whole number"),
])
def test_query_parameters_are_checked_against_their_declaration(
        api: httpx.Client, query: str, mention: str) -> None:
    response = api.get(f"/api/v2/messages?{query}")
    assert response.status_code == 400, response.text
    assert mention in response.json()["message"]


def test_a_blank_query_parameter_is_as_if_absent(api: httpx.Client) -> None:
    response = api.get("/api/v2/messages?limit=&status=&number=")
    assert response.status_code == 200, response.text
    assert response.json()["pagination"]["limit"] == 100


def form(api: httpx.Client, path: str, text: str) -> httpx.Response:
    return api.post(path, content=text.replace("+", "%2B"),
                    headers={"content-type": "application/x-www-form-urlencoded"})


def test_group_sends_mark_read_and_typing_take_form_bodies(api: httpx.Client) -> None:
    group = form(api, "/api/send-group-message", f"from_number={SANDBOX_LINE}"
                 "&numbers[]=+14155550100&numbers[]=+14155550101&content=to%20both")
    assert group.status_code == 200, group.text
    assert group.json()["participants"] == ["+14155550100", "+14155550101"]

    form(api, "/api/send-message", f"number=+13125550100&from_number={SANDBOX_LINE}"
         "&content=hi")
    marked = form(api, "/api/mark-read", f"number=+13125550100&from_number={SANDBOX_LINE}")
    assert marked.status_code == 200, marked.text
    assert marked.json()["number"] == "+13125550100"
    typing = form(api, "/api/send-typing-indicator",
                  "number=+13125550100&state=stop&max_duration_ms=5000")
    assert typing.status_code == 200, typing.text
    assert typing.json() == {"status": "SENT", "number": "+13125550100"}
    refused = form(api, "/api/send-typing-indicator", "number=+13125550100&max_duration_ms=0")
    assert refused.status_code == 400
    assert "`max_duration_ms`" in refused.json()["message"]


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("POST", "/api/send-message", {"json": {"number": PHONE, "content": "a\u0000b"}}),
    ("POST", "/api/account/webhooks", {"json": {"webhooks": ["https://x.example/\u0000"]}}),
    ("GET", "/api/v2/messages", {"params": {"number": "+1415\u00005550100"}}),
    ("POST", "/api/mark-read", {"content": "number=%2B14155550100%00",
                                "headers": {"content-type": FORM}}),
])
def test_a_nul_character_is_refused_on_every_engine(api: httpx.Client, method: str,
                                                    path: str, kwargs: Any) -> None:
    response = api.request(method, path, **kwargs)
    assert response.status_code == 400, response.text
    assert "NUL" in response.json()["message"]
    assert response.json()["error_code"] == 4000
