"""The Messages page: the account's messages as GET /api/v2/messages lists them, filtered by
the API's own parameters (and refused with its own errors); and a message's page, with its
status, the events it caused and the webhook deliveries of those events."""

from __future__ import annotations

import re
from urllib.parse import quote

from playwright.sync_api import Page, expect

from ..receiver import ReceiverProcess
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for
from .conftest import PHONE, screenshot

PROBES = ("<script>window.__pwned=1</script>",
          '"><img src=x onerror="window.__pwned=1">',
          "javascript:window.__pwned=1")


def send(server: ServerProcess, number: str, content: str) -> dict:
    with server.client() as api:
        response = api.post("/api/send-message", json={
            "number": number, "from_number": SANDBOX_LINE, "content": content})
    assert response.status_code in (200, 202), response.text
    return response.json()


def status_of(server: ServerProcess, handle: str) -> str:
    with server.client() as api:
        return api.get("/api/status", params={"handle": handle}).json()["status"]


def test_the_table_lists_and_filters_by_status(page: Page, console_server: ServerProcess) -> None:
    sent = send(console_server, phone(212, "01"), "hello from the table")
    wait_for(lambda: status_of(console_server, sent["message_handle"]) == "DELIVERED")
    page.get_by_role("link", name="Messages", exact=True).click()
    expect(page).to_have_url(re.compile(r"/console/messages$"))
    row = page.get_by_role("row").filter(has_text=sent["message_handle"])
    expect(row).to_contain_text("hello from the table")
    expect(row).to_contain_text("DELIVERED")
    expect(row.get_by_role("link", name=sent["message_handle"])).to_be_visible()

    page.get_by_label("Status").select_option("QUEUED")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=QUEUED"))
    expect(page.get_by_role("row").filter(has_text=sent["message_handle"])).to_have_count(0)

    page.get_by_label("Status").select_option("DELIVERED")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("row").filter(has_text=sent["message_handle"])).to_have_count(1)
    screenshot(page, "messages")


def test_a_bad_filter_shows_the_apis_message(page: Page) -> None:
    response = page.goto("/console/messages?created_at_gte=yesterday")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("`created_at_gte` must be an ISO 8601")
    page.goto("/console/messages?number=12")
    expect(page.get_by_role("alert")).to_be_visible()
    page.goto("/console/messages?limit=0")
    expect(page.get_by_role("alert")).to_contain_text("limit")


def test_pages_go_forward_and_back(page: Page, console_server: ServerProcess) -> None:
    for index in range(3):
        send(console_server, phone(213, "01"), f"paged {index}")
    page.goto(f"/console/messages?number={quote(phone(213, '01'))}&limit=2")
    expect(page.get_by_role("row")).to_have_count(3)  # the header and two
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"offset=2"))
    expect(page.get_by_role("row")).to_have_count(2)
    page.get_by_role("link", name="← Previous").click()
    expect(page).to_have_url(re.compile(r"offset=0"))


def test_a_messages_page_shows_its_events_and_deliveries(
        page: Page, console_server: ServerProcess,
        tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    receiver = ReceiverProcess(tmp_path_factory.mktemp("receiver")).start()
    try:
        hook = receiver.url_for("/outbound")
        with console_server.client() as api:
            api.post("/api/account/webhooks", json={"webhooks": [hook], "type": "outbound"}
                     ).raise_for_status()
        sent = send(console_server, phone(214, "01"), "watched by a webhook")
        handle = sent["message_handle"]
        wait_for(lambda: status_of(console_server, handle) == "DELIVERED")

        def delivery_recorded() -> bool:  # the receiver's answer stored, not just sent
            with console_server.client() as api:
                data = api.get("/api/v2/webhook-deliveries",
                               params={"message": handle, "state": "delivered"}).json()["data"]
            return bool(data)

        wait_for(delivery_recorded)
        page.goto(f"/console/messages/{handle}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(handle)
        expect(page.locator(".fields")).to_contain_text("watched by a webhook")
        events = page.get_by_role("region", name="Events")
        expect(events).to_contain_text("message.created")
        expect(events).to_contain_text("message.updated")
        expect(page.locator(".delivery").first).to_contain_text(hook)
        expect(page.locator(".delivery").first).to_contain_text("HTTP 200")
        screenshot(page, "message")
        page.set_viewport_size(PHONE)
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, "message-phone")
    finally:
        with console_server.client() as api:
            api.request("DELETE", "/api/account/webhooks", json={"webhooks": [hook]})
        receiver.stop()


def test_content_is_shown_as_text_never_run(page: Page, console_server: ServerProcess) -> None:
    handles = [send(console_server, phone(215, "01"), probe)["message_handle"] for probe in PROBES]
    page.goto(f"/console/messages?number={quote(phone(215, '01'))}")
    for probe in PROBES:
        expect(page.get_by_role("cell", name=probe, exact=True)).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    for handle, probe in zip(handles, PROBES, strict=True):
        page.goto(f"/console/messages/{handle}")
        expect(page.locator(".fields dd.content")).to_have_text(probe)
        assert page.evaluate("window.__pwned") is None


def test_another_accounts_message_is_not_found(page: Page, console_server: ServerProcess) -> None:
    console_server.cli("accounts", "create", "other-messages@example.com")
    console_server.cli("keys", "create", "--account", "other-messages@example.com",
                       "--api-key-id", "other-messages", "--api-secret-key", "other-secret")
    mine = send(console_server, phone(216, "01"), "mine alone")["message_handle"]
    response = page.goto(f"/console/messages/{mine}")
    assert response is not None and response.status == 200
    with console_server.client("other-messages", "other-secret") as other:
        assert other.get(f"/api/v2/messages/{mine}").status_code == 404
    other_page = page.context.browser.new_context(base_url=console_server.url).new_page()
    from .conftest import sign_in
    sign_in(other_page, "other-messages", "other-secret")
    response = other_page.goto(f"/console/messages/{mine}")
    assert response is not None and response.status == 404
    expect(other_page.get_by_role("alert")).to_contain_text("No message with handle")
    other_page.goto("/console/messages")
    expect(other_page.get_by_text("mine alone")).to_have_count(0)
    other_page.context.close()


def test_the_table_fits_a_phone(page: Page, console_server: ServerProcess) -> None:
    send(console_server, phone(217, "01"), "small screen")
    page.set_viewport_size(PHONE)
    page.goto("/console/messages")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_role("button", name="Filter")).to_be_visible()
    screenshot(page, "messages-phone")


def test_a_handle_that_cannot_be_one_is_an_error_page_not_a_crash(page: Page) -> None:
    response = page.goto("/console/messages/%00")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("NUL")
    response = page.goto("/console/messages/" + "x" * 300)
    assert response is not None and response.status == 404
