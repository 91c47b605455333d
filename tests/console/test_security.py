"""The console's defences: security headers on every answer, CSRF tokens and same-origin checks
on every state-changing request, pages with nothing inline for the policy to refuse, and the
script layer working under that policy."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from ..console_client import ConsoleClient
from ..server import ServerProcess
from .conftest import screenshot, sign_in

POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
          "media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
          "frame-ancestors 'none'")
PAGES = ("/console/conversations", "/console/messages", "/console/analytics",
         "/console/webhooks", "/console/contacts", "/console/lines", "/console/settings",
         "/console/sandbox")


@pytest.fixture
def console(console_server: ServerProcess) -> Iterator[ConsoleClient]:
    """A signed-in httpx client."""
    with ConsoleClient(console_server.url) as client:
        assert client.sign_in().status_code == 303
        yield client


def assert_secured(answer: httpx.Response) -> None:
    assert answer.headers["content-security-policy"] == POLICY, answer.request.url
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"


def test_every_answer_has_the_security_headers(console: ConsoleClient,
                                               console_server: ServerProcess) -> None:
    for path in PAGES:
        answer = console.get(path)
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert_secured(answer)
    for path, status in (("/console", 303), ("/console/", 303), ("/console/nowhere", 404),
                         ("/console/static/console.css", 200)):
        assert_secured(answer := console.get(path))
        assert answer.status_code == status, path
    with ConsoleClient(console_server.url) as signed_out:
        for path in ("/console/login", "/console/lines"):
            assert_secured(signed_out.get(path))


def test_the_root_leads_to_the_console_and_the_console_to_its_home(
        console: ConsoleClient, console_server: ServerProcess) -> None:
    root = httpx.get(console_server.url + "/", timeout=30)
    assert root.status_code == 302 and root.headers["location"] == "/console"
    for path in ("/console", "/console/"):
        home = console.get(path)
        assert home.status_code == 303 and home.headers["location"] == "/console/conversations"


def test_static_files_are_versioned_by_content_and_kept_for_good(
        console: ConsoleClient) -> None:
    html = console.get("/console/lines").text
    urls = re.findall(r'(?:href|src)="(/console/static/[^"]+)"', html)
    assert {url.split("?")[0].rsplit("/", 1)[1] for url in urls} == {
        "console.css", "htmx.min.js", "htmx-ext-sse.min.js", "console.js"}
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        answer = console.get(url)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    unversioned = console.get("/console/static/console.js")
    assert unversioned.headers["cache-control"] == "no-cache"
    assert unversioned.headers["content-type"] == "text/javascript; charset=utf-8"
    for missing in ("nothing.css", "vendor/LICENSE.htmx", "vendor/README.md", "../pages.py"):
        assert console.get(f"/console/static/{missing}").status_code == 404, missing


def test_no_page_has_inline_script_style_or_handlers(console: ConsoleClient,
                                                     console_server: ServerProcess) -> None:
    with ConsoleClient(console_server.url) as signed_out:
        pages = [console.get(path).text for path in PAGES]
        pages += [signed_out.get("/console/login").text, console.get("/console/nowhere").text]
    for html in pages:
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # every script is a file
        assert not re.search(r"<style\b|\sstyle=", html)
        assert not re.search(r"\son[a-z]+=", html)


def test_a_post_without_the_csrf_token_is_refused(console: ConsoleClient) -> None:
    for data, headers in (({}, {}), ({"csrf_token": "forged"}, {}),
                          ({}, {"x-csrf-token": "forged"})):
        refused = console.post("/console/logout", data, headers=headers)
        assert refused.status_code == 403
        assert "security token" in refused.text
        assert_secured(refused)
    assert console.get("/console/lines").status_code == 200  # still signed in


def test_a_post_from_another_origin_is_refused_even_with_the_token(
        console: ConsoleClient) -> None:
    token = console.csrf_token()
    for origin in ("http://evil.example", "null"):
        refused = console.post("/console/logout", {"csrf_token": token}, origin=origin)
        assert refused.status_code == 403 and "did not come from" in refused.text
    no_origin = console.http.post("/console/logout", data={"csrf_token": token})
    assert no_origin.status_code == 403
    referred = console.http.post("/console/logout", data={"csrf_token": token},
                                 headers={"referer": console.url + "/console/lines"})
    assert referred.status_code == 303  # a Referer of this origin stands in for Origin


def test_the_token_in_a_header_or_a_field_is_accepted(console_server: ServerProcess) -> None:
    with ConsoleClient(console_server.url) as by_header:
        by_header.sign_in()
        signed_out = by_header.post("/console/logout",
                                    headers={"x-csrf-token": by_header.csrf_token()})
        assert signed_out.status_code == 303
        assert signed_out.headers["location"] == "/console/login"
    with ConsoleClient(console_server.url) as by_field:
        by_field.sign_in()
        signed_out = by_field.post("/console/logout", {"csrf_token": by_field.csrf_token()})
        assert signed_out.status_code == 303


def test_signing_in_needs_the_forms_own_token(console_server: ServerProcess) -> None:
    with ConsoleClient(console_server.url) as client:
        no_form = client.post("/console/login", {"key_id": "k", "secret": "s",
                                                 "csrf_token": "made-up"})
        assert no_form.status_code == 403  # no sign-in cookie: no form was loaded
        client.get("/console/login")
        wrong = client.post("/console/login", {"key_id": "k", "secret": "s",
                                               "csrf_token": "made-up"})
        assert wrong.status_code == 403


def test_a_body_over_the_limit_is_a_413_page(console: ConsoleClient) -> None:
    answer = console.post("/console/logout", {"csrf_token": "x" * (2 * 1024 * 1024)})
    assert answer.status_code == 413 and "larger than" in answer.text
    assert_secured(answer)


def test_scripts_run_under_the_policy_without_a_violation(page: Page) -> None:
    problems: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda error: problems.append(str(error)))
    for path in (*PAGES, "/console/nowhere"):
        page.goto(path)
        page.wait_for_function("() => window.htmx !== undefined && htmx.config !== undefined")
        assert page.evaluate("[htmx.config.allowEval, htmx.config.allowScriptTags, "
                             "htmx.config.includeIndicatorStyles, htmx.config.selfRequestsOnly]"
                             ) == [False, False, False, True]
        assert page.evaluate("typeof htmx.createEventSource") == "function"  # SSE extension
    assert not [p for p in problems if "404" not in p], problems  # the 404 page's own status


def test_htmx_requests_carry_the_csrf_token(page: Page,
                                            console_server: ServerProcess) -> None:
    page.goto("/console/lines")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    with page.expect_request(re.compile(r"/console/logout$")) as sent:
        page.evaluate("htmx.ajax('POST', '/console/logout', {target: 'main', swap: 'none'})")
    assert sent.value.headers.get("x-csrf-token") == token
    answer = sent.value.response()
    assert answer is not None and answer.status == 303  # signed out
    page.goto("/console/lines")
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/console/lines$"))


def test_an_unknown_page_is_a_404_in_the_layout(page: Page) -> None:
    answer = page.goto("/console/nowhere")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_role("alert")).to_have_text("There is no such page in the console.")
    expect(page.get_by_role("navigation", name="Console sections")).to_be_visible()
    screenshot(page, "not-found")
