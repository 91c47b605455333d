"""The Webhooks page: endpoints added and removed through the API's own service (and refused
with its errors), a secret that is never shown back, the delivery log with each delivery's
attempts, resend and replay; against the real loopback receiver."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from .. import databases
from ..console_client import ConsoleClient
from ..receiver import ReceiverProcess
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for
from .conftest import PHONE, screenshot

SECRET = "whsec-console-never-shown-7f3a"
PROBE = '<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path_factory.mktemp("receiver")).start()
    yield process
    process.stop()


def send(server: ServerProcess, number: str, content: str) -> str:
    with server.client() as api:
        response = api.post("/api/send-message", json={
            "number": number, "from_number": SANDBOX_LINE, "content": content})
    assert response.status_code in (200, 202), response.text
    return response.json()["message_handle"]


def add(page: Page, url: str, type_: str, secret: str = "") -> None:
    page.goto("/console/webhooks")
    form = page.locator("form").filter(has=page.get_by_role("button", name="Add webhook"))
    form.get_by_label("URL").fill(url)
    form.get_by_label("Type").select_option(type_)
    if secret:
        form.get_by_label("Signing secret (optional)").fill(secret)
    form.get_by_role("button", name="Add webhook").click()


def endpoint_row(page: Page, url: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("region", name="Endpoints").get_by_role("row").filter(has_text=url)


def test_a_webhook_added_hears_a_send_and_its_deliveries_show(
        page: Page, console_server: ServerProcess, receiver: ReceiverProcess) -> None:
    url = receiver.url_for("/console-outbound")
    add(page, url, "outbound", SECRET)
    expect(page.get_by_role("status")).to_have_text("Webhook added.")
    row = endpoint_row(page, url)
    expect(row).to_contain_text("outbound")
    expect(row).to_contain_text("set")
    with console_server.client() as api:
        assert any(isinstance(entry, dict) and entry["url"] == url
                   for entry in api.get("/api/account/webhooks").json()["webhooks"]["outbound"])

    handle = send(console_server, phone(221, "01"), "for the webhook " + PROBE)
    wait_for(lambda: receiver.received("/console-outbound"))
    received = receiver.received("/console-outbound")[0]
    received.verify(SECRET)  # signed with the secret given in the form

    # the log shows it live, from the page's event stream, without a reload
    log = page.get_by_role("region", name="Deliveries")
    expect(log.get_by_role("row").filter(has_text="message.created")).to_have_count(1)
    page.goto("/console/webhooks")
    delivered = log.get_by_role("row").filter(has_text="message.created")
    expect(delivered).to_contain_text("delivered")
    expect(delivered).to_contain_text("200")
    screenshot(page, "webhooks")

    # its detail, every attempt, and a resend that makes a new one
    delivered.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("delivered")
    expect(page.get_by_role("region", name="Attempts").get_by_role("row")).to_have_count(2)
    expect(page.get_by_role("link", name=handle)).to_be_visible()
    before = len(receiver.received("/console-outbound"))
    page.get_by_role("button", name="Resend").click()
    expect(page.get_by_role("status")).to_contain_text("queued again as")
    wait_for(lambda: len(receiver.received("/console-outbound")) > before)
    page.reload()
    expect(page.get_by_role("region", name="Attempts").get_by_role("row")).to_have_count(2)
    again = receiver.received("/console-outbound")[-1]
    assert again.webhook_id == received.webhook_id  # the same event: receivers dedupe
    expect(page.locator("pre.reply")).to_contain_text("<script>window.__pwned=1</script>")
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "webhook-delivery")


def test_a_secret_is_never_shown_after_creation(
        page: Page, receiver: ReceiverProcess) -> None:
    add(page, receiver.url_for("/secret-check"), "receive", "s3cret-" + SECRET)
    expect(page.get_by_role("status")).to_have_text("Webhook added.")
    for path in ("/console/webhooks", "/console/webhooks?state=delivered"):
        page.goto(path)
        assert SECRET not in page.content()
    expect(endpoint_row(page, receiver.url_for("/secret-check"))).to_contain_text("set")


def test_a_bad_url_is_refused_inline_and_the_secret_not_kept(
        page: Page) -> None:
    add(page, "ftp://example.com/hook", "receive")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("http")
    expect(page.get_by_label("URL")).to_have_value("ftp://example.com/hook")
    assert page.get_by_label("Signing secret (optional)").input_value() == ""


def test_remove_takes_it_away(page: Page, receiver: ReceiverProcess) -> None:
    url = receiver.url_for("/to-remove")
    add(page, url, "line_blocked")
    expect(endpoint_row(page, url)).to_have_count(1)
    endpoint_row(page, url).get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_have_text("Webhook removed.")
    expect(endpoint_row(page, url)).to_have_count(0)


def test_replay_queues_a_time_range_and_refuses_a_bad_one(
        page: Page, console_server: ServerProcess, receiver: ReceiverProcess) -> None:
    url = receiver.url_for("/replayed")
    add(page, url, "outbound")
    send(console_server, phone(222, "01"), "replay me")
    form = page.locator("form").filter(has=page.get_by_role("button", name="Replay", exact=True))
    form.get_by_label("Endpoint").select_option(label=f"outbound · {url}")
    form.get_by_label("From").fill("yesterday")
    form.get_by_role("button", name="Replay", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("`since` must be an ISO 8601")
    form.get_by_label("From").fill("2020-01-01T00:00:00Z")
    form.get_by_role("button", name="Replay", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Replay queued [1-9]\d* "))


def test_a_failing_endpoint_stands_out(page: Page, console_server: ServerProcess,
                                       receiver: ReceiverProcess) -> None:
    url = receiver.url_for("/failing")
    receiver.set_mode("500", path="/failing")
    add(page, url, "outbound")
    send(console_server, phone(223, "01"), "to a failing endpoint")
    wait_for(lambda: receiver.received("/failing"))
    page.goto("/console/webhooks")
    expect(endpoint_row(page, url)).to_contain_text(re.compile(r"failing: \d+ of \d+"))
    page.get_by_label("State").select_option("pending")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("region", name="Deliveries")).to_contain_text(url)
    page.goto("/console/webhooks?state=nonsense")
    expect(page.get_by_role("alert")).to_contain_text("state")
    page.goto("/console/webhooks")
    endpoint_row(page, url).get_by_role("button", name="Remove").click()


def test_a_post_without_the_csrf_token_is_refused(page: Page,
                                                   console_server: ServerProcess) -> None:
    origin = {"origin": console_server.url}
    for path in ("/console/webhooks/add", "/console/webhooks/remove",
                 "/console/webhooks/replay", "/console/webhooks/deliveries/1/resend"):
        refused = page.request.post(path, form={"url": "http://127.0.0.1:9/x",
                                                "type": "receive"}, headers=origin)
        assert refused.status == 403, path
    with console_server.client() as api:
        listed = api.get("/api/account/webhooks").json()["webhooks"]
    assert "http://127.0.0.1:9/x" not in str(listed)


def test_an_url_is_shown_as_text_never_run(page: Page, console_server: ServerProcess) -> None:
    probes = ['http://127.0.0.1:9/"><img src=x onerror="window.__pwned=1">',
              "http://127.0.0.1:9/<script>window.__pwned=1</script>"]
    for probe in probes:
        add(page, probe, "contact_created")
        expect(page.get_by_role("status")).to_have_text("Webhook added.")
    add(page, "javascript:window.__pwned=1", "receive")  # refused, and echoed as text
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("URL")).to_have_value("javascript:window.__pwned=1")
    assert page.evaluate("window.__pwned") is None
    page.goto("/console/webhooks")
    for probe in probes:
        expect(page.get_by_role("cell", name=probe, exact=True)).to_be_visible()
    assert page.locator("img[src=x], a[href^=javascript]").count() == 0
    assert page.evaluate("window.__pwned") is None
    for probe in probes:
        endpoint_row(page, probe).get_by_role("button", name="Remove").click()
        expect(page.get_by_role("status")).to_have_text("Webhook removed.")


def test_another_accounts_delivery_is_not_found(page: Page, console_server: ServerProcess,
                                                receiver: ReceiverProcess) -> None:
    console_server.cli("accounts", "create", "other-hooks@example.com")
    console_server.cli("keys", "create", "--account", "other-hooks@example.com",
                       "--api-key-id", "other-hooks", "--api-secret-key", "other-hooks-secret")
    url = receiver.url_for("/mine-alone")
    with console_server.client() as api:
        api.post("/api/account/webhooks", json={"webhooks": [url], "type": "outbound"}
                 ).raise_for_status()
        send(console_server, phone(224, "01"), "mine alone")
        mine = wait_for(lambda: api.get("/api/v2/webhook-deliveries",
                                        params={"url": url}).json()["data"])
        api.request("DELETE", "/api/account/webhooks", json={"webhooks": [url]})
    from .conftest import sign_in
    other = page.context.browser.new_context(base_url=console_server.url).new_page()
    sign_in(other, "other-hooks", "other-hooks-secret")
    response = other.goto(f"/console/webhooks/deliveries/{mine[0]['id']}")
    assert response is not None and response.status == 404
    token = other.locator('meta[name="csrf-token"]').get_attribute("content")
    resent = other.request.post(f"/console/webhooks/deliveries/{mine[0]['id']}/resend",
                                form={"csrf_token": token or ""},
                                headers={"origin": console_server.url})
    assert resent.status == 404
    other.goto("/console/webhooks")
    expect(other.get_by_text("No deliveries")).to_be_visible()
    other.context.close()


def test_the_page_fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/console/webhooks")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_role("button", name="Add webhook")).to_be_visible()
    screenshot(page, "webhooks-phone")


def test_a_private_address_is_refused_saying_how_to_allow_it(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """On a server that refuses private webhook addresses (the default outside --dev), the
    form shows the API's refusal, which says how to allow them."""
    refusing = ServerProcess(tmp_path_factory.mktemp("refusing"),
                             {"BLUEWIRE_ALLOW_PRIVATE_WEBHOOKS": "0"},
                             engine=databases.SQLITE).start()
    try:
        with ConsoleClient(refusing.url) as console:
            assert console.sign_in().status_code == 303
            token = console.csrf_token("/console/webhooks")
            refused = console.post("/console/webhooks/add", {
                "csrf_token": token, "url": "http://127.0.0.1:9/hook", "type": "receive",
                "secret": SECRET})
            assert refused.status_code == 400
            assert "loopback" in refused.text and "BLUEWIRE_ALLOW_PRIVATE_WEBHOOKS" in refused.text
            assert SECRET not in refused.text
    finally:
        refusing.stop()


def test_a_delivery_id_that_is_not_one_is_refused_as_the_api_refuses_it(page: Page) -> None:
    for given in ("abc", "99999999999999999999999", "0"):
        response = page.goto(f"/console/webhooks/deliveries/{given}")
        assert response is not None and response.status == 400, given
        expect(page.get_by_role("alert")).to_contain_text("delivery_id")
    response = page.goto("/console/webhooks/deliveries/987654321")
    assert response is not None and response.status == 404


def test_a_nul_in_the_form_is_refused_inline(page: Page, console_server: ServerProcess) -> None:
    token = page.goto("/console/webhooks") and page.locator(
        'meta[name="csrf-token"]').get_attribute("content")
    answer = page.request.post("/console/webhooks/add", form={
        "csrf_token": token or "", "url": "http://127.0.0.1:9/a", "type": "receive",
        "secret": "a\x00b"}, headers={"origin": console_server.url})
    assert answer.status == 400 and "NUL" in answer.text()
