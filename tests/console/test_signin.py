"""Signing in to the console with an API key pair, its session cookie, signing out, and a
revoked key ending its sessions."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, expect

from ..console_client import SESSION_COOKIE, ConsoleClient, token_hash
from ..server import KEY_ID, ServerProcess
from .conftest import ADMIN, screenshot, session_cookie, sign_in

SECTIONS = ("Conversations", "Messages", "Analytics", "Webhooks", "Contacts", "Lines", "Settings",
            "Sandbox")


def test_signing_in_shows_every_section_and_the_account(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/console/conversations$"))
    nav = page.get_by_role("navigation", name="Console sections")
    for title in SECTIONS:
        expect(nav.get_by_role("link", name=title, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Conversations")).to_have_attribute("aria-current",
                                                                            "page")
    expect(page.locator(".account .email")).to_have_text(ADMIN)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot(page, "conversations-coming")


def test_every_section_link_opens_a_page(page: Page) -> None:
    nav = page.get_by_role("navigation", name="Console sections")
    for title in SECTIONS:
        nav.get_by_role("link", name=title, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(nav.get_by_role("link", name=title, exact=True)).to_have_attribute(
            "aria-current", "page")


def test_a_wrong_secret_shows_an_error_and_sets_no_session(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/console/login")
    screenshot(page, "sign-in")
    sign_in(page, KEY_ID, "not-the-secret")
    expect(page.get_by_role("alert")).to_contain_text("not an API key that can sign in")
    expect(page.get_by_label("Key id")).to_have_value(KEY_ID)  # kept; the secret is not
    expect(page.get_by_label("Secret")).to_have_value("")
    assert session_cookie(context) is None
    screenshot(page, "sign-in-refused")


def test_the_session_cookie_is_http_only_lax_and_the_consoles_alone(
        page: Page, context: BrowserContext, console_server: ServerProcess) -> None:
    cookie = session_cookie(context)
    assert cookie is not None
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/console" and cookie["secure"] is False  # plain http here
    assert SESSION_COOKIE not in page.evaluate("document.cookie")  # no script reads it
    stored = {row["token_hash"] for row in console_server.sql(
        "SELECT token_hash FROM console_sessions")}
    assert token_hash(str(cookie["value"])) in stored and cookie["value"] not in stored


def test_signing_out_ends_the_session(page: Page, context: BrowserContext,
                                      console_server: ServerProcess) -> None:
    cookie = session_cookie(context)
    assert cookie is not None
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/login$"))
    assert session_cookie(context) is None
    # The old cookie, replayed, opens nothing: the session is gone from the store.
    assert not console_server.sql("SELECT 1 FROM console_sessions WHERE token_hash = ?",
                                  token_hash(str(cookie["value"])))
    with ConsoleClient(console_server.url) as replay:
        replay.http.cookies.set(SESSION_COOKIE, str(cookie["value"]), path="/console")
        answer = replay.get("/console/lines")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/login")
    page.goto("/console/lines")
    expect(page).to_have_url(re.compile(r"/console/login\?next=/console/lines$"))


def test_a_page_opened_signed_out_opens_once_signed_in(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/console/lines")
    expect(page).to_have_url(re.compile(r"/console/login\?next=/console/lines$"))
    sign_in(page, KEY_ID, "a typo")  # a failed attempt keeps where it was going
    expect(page.get_by_role("alert")).to_be_visible()
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/console/lines$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Lines")


def test_revoking_the_key_sends_the_next_page_load_to_sign_in(
        context: BrowserContext, console_server: ServerProcess) -> None:
    console_server.cli("keys", "create", "--account", ADMIN, "--api-key-id", "console-key",
                       "--api-secret-key", "console-secret")
    page = context.new_page()
    sign_in(page, "console-key", "console-secret")
    page.goto("/console/lines")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lines")

    console_server.cli("keys", "revoke", "console-key")
    page.reload()
    expect(page).to_have_url(re.compile(r"/console/login\?next=/console/lines$"))
    assert session_cookie(context) is None  # the stale cookie is cleared too
    sign_in(page, "console-key", "console-secret")  # and the key cannot sign in again
    expect(page.get_by_role("alert")).to_contain_text("not an API key that can sign in")
