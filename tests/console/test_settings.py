"""The Settings page: the auto mark-read toggle (applied from the very next inbound), API keys
(a new secret shown once; revoking this session's key signs it out) and the global webhook
secret (shown once when rotated, then only "set")."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from ..server import SANDBOX_LINE, ServerProcess, wait_for
from .conftest import DESKTOP, PHONE, screenshot, sign_in

ECHO = "+12065550106"  # a sandbox phone that replies to what it is sent


def test_auto_mark_read_applies_from_the_next_inbound(page: Page,
                                                      console_server: ServerProcess) -> None:
    page.goto("/console/settings")
    expect(page.locator("#auto-state")).to_have_text("off")
    screenshot(page, "settings")
    page.get_by_role("button", name="Turn auto mark-read on").click()
    expect(page.locator("#auto-state")).to_have_text("on")
    with console_server.client() as api:
        sent = api.post("/api/send-message", json={"number": ECHO, "content": "hi",
                                                   "from_number": SANDBOX_LINE})
        assert sent.status_code == 200, sent.text
    rows = wait_for(lambda: console_server.sql(
        "SELECT mode FROM read_receipts WHERE number = ?", ECHO))
    assert rows == [{"mode": "auto"}]
    page.get_by_role("button", name="Turn auto mark-read off").click()
    expect(page.locator("#auto-state")).to_have_text("off")


def test_a_new_key_secret_is_shown_once_and_signs_in(page: Page, browser: Browser,
                                                     console_server: ServerProcess) -> None:
    page.goto("/console/settings")
    page.get_by_role("button", name="Create a key pair").click()
    secret = page.locator("#new-key-secret").inner_text().strip()
    key_id = page.locator(".new-secret code").first.inner_text().strip()
    assert secret and key_id
    expect(page.get_by_role("rowheader", name=re.compile(re.escape(key_id)))).to_be_visible()
    page.goto("/console/settings")
    expect(page.locator("#new-key-secret")).to_have_count(0)
    assert secret not in page.content()
    other = browser.new_context(base_url=console_server.url, viewport=DESKTOP)
    try:
        fresh = other.new_page()
        sign_in(fresh, key_id, secret)
        expect(fresh).not_to_have_url(re.compile(r"/login"))
    finally:
        other.close()


def test_revoking_the_current_key_signs_out(browser: Browser,
                                            console_server: ServerProcess) -> None:
    console_server.cli("keys", "create", "--account", "admin@bluewire.local",
                       "--api-key-id", "settings-own", "--api-secret-key", "settings-own-secret")
    other = browser.new_context(base_url=console_server.url, viewport=DESKTOP)
    try:
        page = other.new_page()
        sign_in(page, "settings-own", "settings-own-secret")
        page.goto("/console/settings")
        page.get_by_role("button", name="Revoke key settings-own").click()
        expect(page).to_have_url(re.compile(r"/console/login"))
        page.goto("/console/settings")
        expect(page).to_have_url(re.compile(r"/console/login"))
    finally:
        other.close()
    keys = console_server.cli("keys", "list", "--json").stdout
    assert '"settings-own"' in keys


def test_the_webhook_secret_is_shown_once(page: Page, console_server: ServerProcess) -> None:
    page.goto("/console/settings")
    page.get_by_role("button", name=re.compile("Set a secret|Rotate the secret")).click()
    secret = page.locator("#new-webhook-secret").inner_text().strip()
    assert len(secret) >= 32
    expect(page.locator("#secret-state")).to_have_text("set")
    page.goto("/console/settings")
    assert secret not in page.content()
    expect(page.locator("#secret-state")).to_have_text("set")
    page.get_by_role("button", name="Remove the secret").click()
    expect(page.locator("#secret-state")).to_have_text("not set")


def test_another_accounts_key_is_not_found(page: Page, console_server: ServerProcess) -> None:
    console_server.cli("accounts", "create", "other-settings@example.com")
    console_server.cli("keys", "create", "--account", "other-settings@example.com",
                       "--api-key-id", "other-settings-key")
    page.goto("/console/settings")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    answer = page.request.post("/console/settings/keys/other-settings-key/revoke",
                               form={"csrf_token": token},
                               headers={"origin": console_server.url})
    assert answer.status == 404
    assert "other-settings-key" not in page.content()
    listed = console_server.cli("keys", "list", "--json").stdout
    assert '"revoked_at": null' in listed.split("other-settings-key")[1].split("}")[0]


def test_a_post_without_the_csrf_token_is_refused(page: Page,
                                                  console_server: ServerProcess) -> None:
    origin = {"origin": console_server.url}
    for path, form in (("/console/settings/auto-mark-read", {"auto_mark_read": "on"}),
                       ("/console/settings/keys", {}),
                       ("/console/settings/webhook-secret", {"action": "rotate"})):
        refused = page.request.post(path, form=form, headers=origin)
        assert refused.status == 403, path
    page.goto("/console/settings")
    expect(page.locator("#auto-state")).to_have_text("off")


def test_the_page_fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/console/settings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Settings")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "settings-phone")
