"""The Sandbox page: a simulated phone beside the business's thread. One person sends from the
business, sees the message arrive on the phone, replies from the phone (text, a picture),
reads, types and delivers by hand, and each side updates live; hostile text stays text;
another account's line, or a line that is not a sandbox line, is a 404."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from ..server import SANDBOX_LINE, ServerProcess, phone
from .conftest import PHONE, screenshot, wait_for_loaded_picture
from .test_conversations import (
    PROBES,
    api_send,
    mark_unreloaded,
    one_pixel_png,
    phone_says,
    step,
)

LIVE_MS = 15_000  # an update over the event stream, on a loaded machine


def simulator_url(number: str, line: str = SANDBOX_LINE) -> str:
    return f"/console/sandbox/{line.replace('+', '%2B')}/{number.replace('+', '%2B')}"


def open_phone(page: Page, number: str) -> None:
    page.goto("/console/sandbox")
    page.get_by_label("Phone number").fill(number)
    with page.expect_navigation():
        page.get_by_role("button", name="Open phone").click()
    expect(page).to_have_url(re.compile(re.escape(simulator_url(number)) + "$"))


def business_sends(page: Page, text: str) -> None:
    compose = page.get_by_role("form", name="Send as the business")
    compose.get_by_label("Message").fill(text)
    with page.expect_navigation():
        compose.get_by_role("button", name=re.compile("^Send from")).click()


def phone_screen(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("#phone-live .phone-screen")


def test_both_sides_of_a_conversation_in_one_window(page: Page) -> None:
    number = phone(320, "00")  # reads what it gets, with read receipts on
    open_phone(page, number)
    expect(phone_screen(page)).to_contain_text("Nothing between this phone")
    business_sends(page, "Your table is ready")
    expect(page.locator("#thread-live .bubble.out .text")).to_have_text("Your table is ready")
    expect(phone_screen(page).locator(".bubble.in .text")).to_have_text("Your table is ready")
    expect(step(page, "READ")).to_have_class(re.compile(r"\breached\b"), timeout=15_000)
    expect(phone_screen(page).locator(".phone-status")).to_contain_text("read")

    reply = page.get_by_role("form", name="Reply as the phone")
    reply.get_by_label("Phone's reply").fill("On my way")
    with page.expect_navigation():
        reply.get_by_role("button", name="Send from the phone").click()
    expect(page.locator("#thread-live .bubble.in .text")).to_have_text("On my way")
    expect(phone_screen(page).locator(".bubble.out .text")).to_have_text("On my way")
    screenshot(page, "sandbox")


def test_a_reply_and_typing_from_elsewhere_appear_live(page: Page,
                                                       console_server: ServerProcess) -> None:
    number = phone(321, "01")
    api_send(console_server, number, "first")
    page.goto(simulator_url(number))
    mark_unreloaded(page)
    phone_says(console_server, number, "second, from the API")
    expect(page.locator("#thread-live .bubble.in .text").last).to_have_text(
        "second, from the API", timeout=LIVE_MS)
    expect(phone_screen(page).locator(".bubble.out .text").last).to_have_text(
        "second, from the API", timeout=LIVE_MS)
    with console_server.client() as api:
        typed = api.post(f"/sandbox/phones/{number}/typing", json={"line": SANDBOX_LINE})
    assert typed.status_code == 200, typed.text
    expect(page.locator("#thread-live .typing")).to_contain_text("is typing", timeout=LIVE_MS)
    assert page.evaluate("() => window.__stayed") is True


def test_the_phones_buttons_type_deliver_and_read(page: Page) -> None:
    number = phone(322, "08")  # manual: delivers and reads only when told
    open_phone(page, number)
    business_sends(page, "Manual delivery")
    expect(step(page, "SENT")).to_have_class(re.compile(r"\breached\b"), timeout=10_000)
    expect(step(page, "DELIVERED")).not_to_have_class(re.compile(r"\breached\b"))
    with page.expect_navigation():
        page.get_by_role("button", name="Deliver").click()
    expect(step(page, "DELIVERED")).to_have_class(re.compile(r"\breached\b"), timeout=10_000)
    expect(step(page, "READ")).not_to_have_class(re.compile(r"\breached\b"))
    with page.expect_navigation():
        page.get_by_role("button", name="Read", exact=True).click()
    expect(step(page, "READ")).to_have_class(re.compile(r"\breached\b"), timeout=10_000)
    with page.expect_navigation():
        page.get_by_role("button", name="Type", exact=True).click()
    expect(page.locator("#thread-live .typing")).to_contain_text("is typing")
    with page.expect_navigation():
        page.get_by_role("button", name="Stop typing").click()
    expect(page.locator("#thread-live .typing")).to_have_text("")


def test_the_phone_sends_a_picture(page: Page, tmp_path) -> None:
    number = phone(323, "01")
    picture = tmp_path / "photo.png"
    picture.write_bytes(one_pixel_png())
    open_phone(page, number)
    business_sends(page, "Send me a picture")
    reply = page.get_by_role("form", name="Reply as the phone")
    reply.get_by_label("Picture").set_input_files(str(picture))
    with page.expect_navigation():
        reply.get_by_role("button", name="Send from the phone").click()
    image = page.locator("#thread-live .bubble.in .media img")
    expect(image).to_have_count(1)
    wait_for_loaded_picture(page, "#thread-live .bubble.in .media img")


def test_a_strangers_reply_is_said_to_reach_no_one(page: Page) -> None:
    number = phone(327, "01")
    open_phone(page, number)
    reply = page.get_by_role("form", name="Reply as the phone")
    reply.get_by_label("Phone's reply").fill("who is this?")
    reply.get_by_role("button", name="Send from the phone").click()
    expect(page.get_by_role("alert")).to_contain_text("not a contact of this account")
    expect(page.locator("#thread-live .bubble")).to_have_count(0)


def test_a_number_that_is_not_a_phone_is_refused_on_the_picker(page: Page) -> None:
    page.goto("/console/sandbox")
    page.get_by_label("Phone number").fill(SANDBOX_LINE)
    page.get_by_role("button", name="Open phone").click()
    expect(page.get_by_role("alert")).to_contain_text("one of our lines")


def test_hostile_text_from_a_phone_stays_text(page: Page, console_server: ServerProcess) -> None:
    number = phone(324, "01")
    api_send(console_server, number, "hello")
    for probe in PROBES:
        phone_says(console_server, number, probe)
    page.goto(simulator_url(number))
    expect(phone_screen(page).locator(".bubble.out .text")).to_have_count(len(PROBES))
    expect(phone_screen(page)).to_contain_text(PROBES[0])
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("a[href^='javascript']").count() == 0


def test_a_line_that_is_not_the_accounts_sandbox_line_is_a_404(
    page: Page, console_server: ServerProcess,
) -> None:
    response = page.goto(simulator_url(phone(325, "00"), line="+14155550123"))
    assert response is not None and response.status == 404
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    refused = page.request.post(simulator_url(phone(325, "06"), line="+14155550123") + "/send",
                                form={"csrf_token": token, "content": "hi"},
                                headers={"origin": console_server.url})
    assert refused.status == 404


def test_the_simulator_fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    open_phone(page, phone(326, "00"))
    expect(page.locator("#phone-live")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "sandbox-phone")
