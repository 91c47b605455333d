"""The Lines page: the account's lines as GET /api/v2/lines/state gives them, with their rate
limits; and the layout it proves, at desktop and phone widths and from the keyboard."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from ..agent_process import bare_agent, create_token
from ..server import SANDBOX_LINE, ServerProcess, wait_for
from .conftest import ADMIN, PHONE, screenshot

MAC_LINE = "+14155550142"  # served by a Mac's agent, none of which is connected
UNSTEADY_LINE = "+14155550143"  # served by a Mac's agent that keeps reconnecting


def row_of(page: Page, number: str) -> list[str]:
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=number))
    return [cell.strip() for cell in row.locator("th, td").all_inner_texts()]


def test_the_sandbox_line_is_listed_online_and_unlimited(page: Page) -> None:
    page.get_by_role("link", name="Lines", exact=True).click()
    expect(page).to_have_url(re.compile(r"/console/lines$"))
    assert row_of(page, SANDBOX_LINE) == [SANDBOX_LINE, "sandbox", "online", "unlimited", "yes"]
    screenshot(page, "lines")


def test_the_page_says_what_the_api_says(page: Page, console_server: ServerProcess) -> None:
    console_server.cli("lines", "add", MAC_LINE, "--account", ADMIN, "--connector", "agent")
    page.goto("/console/lines")
    assert row_of(page, MAC_LINE) == [MAC_LINE, "agent", "offline",
                                      "10 sends a second (default)", "no"]
    with console_server.client() as api:
        states = api.get("/api/v2/lines/state").json()["data"]
    shown = [row_of(page, state["number"]) for state in states]
    assert [(row[0], row[1], row[2]) for row in shown] == [
        (state["number"], state["connector"], state["state"]) for state in states]
    console_server.cli("lines", "set", MAC_LINE, "--rate-limit", "2.5")
    page.reload()
    expect(page.get_by_role("row").filter(has_text=MAC_LINE)).to_contain_text(
        "2.5 sends a second")
    screenshot(page, "lines-two")


def test_a_line_whose_agent_keeps_reconnecting_shows_degraded(
        page: Page, console_server: ServerProcess) -> None:
    console_server.cli("lines", "add", UNSTEADY_LINE, "--account", ADMIN, "--connector",
                       "agent")
    token = create_token(console_server, UNSTEADY_LINE)
    for _ in range(2):
        with bare_agent(console_server, token, UNSTEADY_LINE):
            pass
    with console_server.client() as api, bare_agent(console_server, token, UNSTEADY_LINE):
        def state() -> str:
            data = api.get("/api/v2/lines/state").json()["data"]
            return next(e["state"] for e in data if e["number"] == UNSTEADY_LINE)

        wait_for(lambda: state() == "degraded")
        page.goto("/console/lines")
        row = row_of(page, UNSTEADY_LINE)
        assert re.fullmatch(r"degraded\nreconnecting often since \d{4}-\d\d-\d\d \d\d:\d\d UTC",
                            row[2]), row
        expect(page.get_by_role("row").filter(has_text=UNSTEADY_LINE).locator(".state")) \
            .to_have_class(re.compile(r"\bdegraded\b"))
        screenshot(page, "lines-degraded")
    page.reload()  # its agent gone: offline, however unsteady it was
    assert row_of(page, UNSTEADY_LINE)[2] == "offline"


def test_the_layout_fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/console/lines")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lines")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    expect(page.get_by_role("rowheader", name=SANDBOX_LINE)).to_be_visible()
    screenshot(page, "lines-phone")


def test_the_keyboard_reaches_everything_and_shows_where_it_is(page: Page) -> None:
    page.goto("/console/lines")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown once focused
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    assert page.evaluate("document.activeElement.id") == "main"

    page.goto("/console/lines")
    reached: list[str] = []
    while "Sign out" not in reached and len(reached) < 20:  # the last control of the bar
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.innerText.trim()"))
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", f"no focus ring on {reached[-1]!r}"
    assert reached == ["Skip to content", "bluewire console", "Conversations", "Messages",
                       "Analytics", "Webhooks", "Contacts", "Lines", "Settings", "Sandbox",
                       "Sign out"]
