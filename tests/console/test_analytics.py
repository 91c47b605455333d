"""The Analytics page: the figures of GET /api/v2/analytics/messages for a window and filters
(the API's own query parameters, refused with its own errors): the totals, delivery and read
rate over time as a server-drawn SVG chart with its numbers in a table, and the same figures by
campaign; and a message's page, with its campaign, tags and follow-ups, a scheduled one
cancelled from there."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Locator, Page, expect

from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for
from .conftest import PHONE, screenshot

ALPHA = "spring-alpha"
BETA = "spring-beta"
PROBE = "<script>window.__pwned=1</script>"


def send(server: ServerProcess, number: str, content: str, **extra: Any) -> str:
    with server.client() as api:
        response = api.post("/api/send-message", json={
            "number": number, "from_number": SANDBOX_LINE, "content": content, **extra})
    assert response.status_code in (200, 202), response.text
    return response.json()["message_handle"]


def status_of(server: ServerProcess, handle: str) -> str:
    with server.client() as api:
        return api.get("/api/status", params={"handle": handle}).json()["status"]


def analytics(server: ServerProcess, **params: str) -> dict[str, Any]:
    with server.client() as api:
        response = api.get("/api/v2/analytics/messages", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def figure(page: Page, name: str) -> Locator:
    return page.locator(".figures div").filter(
        has=page.locator("dt", has_text=re.compile(f"^{name}$"))).locator("dd")


def bars_of(answer: dict[str, Any]) -> int:
    """How many bars the chart draws: one per period and rate that is not null."""
    return sum((b["delivery_rate"] is not None) + (b["read_rate"] is not None)
               for b in answer["buckets"])


def sent_and_settled(server: ServerProcess) -> None:
    """Two campaigns: ALPHA read (…00), delivered unread (…01) and failed (…04); BETA read
    twice. Waits until every status is final."""
    expected = {}
    for suffix, final in (("00", "READ"), ("01", "DELIVERED"), ("04", "ERROR")):
        handle = send(server, phone(312, suffix), f"alpha {suffix}", campaign=ALPHA,
                      tags=["spring"])
        expected[handle] = final
    for npa in (313, 314):
        expected[send(server, phone(npa, "00"), "beta", campaign=BETA)] = "READ"
    for handle, final in expected.items():
        wait_for(lambda handle=handle, final=final: status_of(server, handle) == final)


def test_the_page_shows_totals_chart_and_campaigns(page: Page,
                                                   console_server: ServerProcess) -> None:
    sent_and_settled(console_server)
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name="Analytics", exact=True).click()
    expect(page).to_have_url(re.compile(r"/console/analytics$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Analytics")

    page.get_by_label("Campaign", exact=True).fill(ALPHA)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(f"campaign={ALPHA}"))
    for name, value in (("Messages", "3"), ("Sent", "2"), ("Delivered", "2"), ("Read", "1"),
                        ("Errored", "1"), ("Pending", "0"), ("Delivery rate", "100%"),
                        ("Read rate", "50%"), ("Reply rate", "0%"), ("Error rate", "33.3%")):
        expect(figure(page, name)).to_have_text(value)
    expect(figure(page, "Time to deliver")).to_contain_text("p50")
    chart = page.get_by_role("img", name=re.compile("Delivery rate and read rate by day"))
    expect(chart).to_be_visible()
    by_day = analytics(console_server, campaign=ALPHA, group_by="day")
    assert bars_of(by_day) >= 2  # two a day: more only if the sends straddled midnight
    expect(chart.locator("rect.bar")).to_have_count(bars_of(by_day))
    if len(by_day["buckets"]) == 1:
        expect(chart.locator("rect.bar-delivery title")).to_contain_text(["delivery rate 100%"])
        expect(chart.locator("rect.bar-read title")).to_contain_text(["read rate 50%"])
    over_time = page.get_by_role("region", name="Rates over time")
    expect(over_time.get_by_role("row")).to_have_count(1 + len(by_day["buckets"]))
    expect(over_time.get_by_role("row").last).to_contain_text("%")

    page.goto("/console/analytics")
    whole = analytics(console_server)["buckets"][0]
    expect(figure(page, "Sent")).to_have_text(str(whole["sent"]))
    campaigns = page.get_by_role("region", name="By campaign")
    alpha = campaigns.get_by_role("row").filter(has_text=ALPHA)
    beta = campaigns.get_by_role("row").filter(has_text=BETA)
    expect(alpha.get_by_role("cell").nth(1)).to_have_text("100%")  # delivery
    expect(alpha.get_by_role("cell").nth(2)).to_have_text("50%")  # read
    expect(beta.get_by_role("cell").nth(1)).to_have_text("100%")
    expect(beta.get_by_role("cell").nth(2)).to_have_text("100%")
    expect(alpha.locator("svg.rate-bar rect.bar-read")).to_have_attribute("width", "50.0")
    screenshot(page, "analytics")

    alpha.get_by_role("link", name=ALPHA).click()  # a campaign's row filters the page by it
    expect(page.get_by_label("Campaign", exact=True)).to_have_value(ALPHA)
    expect(figure(page, "Messages")).to_have_text("3")


def test_a_short_window_is_charted_by_hour(page: Page, console_server: ServerProcess) -> None:
    send(console_server, phone(315, "00"), "hourly", campaign="hourly")
    until = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    since = until - timedelta(hours=6)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    page.goto(f"/console/analytics?since={since.strftime(stamp)}&until={until.strftime(stamp)}"
              "&campaign=hourly")
    chart = page.get_by_role("img", name=re.compile("Delivery rate and read rate by hour"))
    expect(chart).to_be_visible()
    expect(chart).to_contain_text(f"{(until - timedelta(hours=1)).strftime('%H')}:00")
    expect(chart.locator("desc")).to_contain_text("6 hours")
    wait_for(lambda: bars_of(analytics(console_server, campaign="hourly",
                                       group_by="hour")) == 2)
    page.reload()
    expect(chart.locator("rect.bar")).to_have_count(2)


def test_a_bad_parameter_shows_the_apis_message(page: Page) -> None:
    response = page.goto("/console/analytics?since=yesterday")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("`since` must be an ISO 8601")
    page.goto("/console/analytics?service=Carrier+pigeon")
    expect(page.get_by_role("alert")).to_contain_text("service")
    page.goto("/console/analytics?since=2026-01-01T00:00:00Z&until=2024-01-01T00:00:00Z")
    expect(page.get_by_role("alert")).to_contain_text("`since` must be before `until`")
    expect(page.get_by_role("button", name="Show")).to_be_visible()


def test_a_window_without_messages_says_so(page: Page) -> None:
    page.goto("/console/analytics?campaign=nothing-sent-here")
    expect(page.locator(".empty")).to_contain_text("No outbound messages")
    expect(figure(page, "Sent")).to_have_text("0")
    expect(figure(page, "Delivery rate")).to_have_text("—")
    expect(page.get_by_role("img")).to_have_count(0)


def test_a_campaign_name_is_text_never_run(page: Page, console_server: ServerProcess) -> None:
    handle = send(console_server, phone(316, "00"), "probed", campaign=PROBE, tags=[PROBE])
    wait_for(lambda: status_of(console_server, handle) == "READ")
    page.goto("/console/analytics")
    campaigns = page.get_by_role("region", name="By campaign")
    expect(campaigns.get_by_role("rowheader", name=PROBE, exact=True)).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    page.get_by_role("link", name=PROBE).click()
    expect(page.get_by_label("Campaign", exact=True)).to_have_value(PROBE)
    expect(figure(page, "Read")).to_have_text("1")
    assert page.evaluate("window.__pwned") is None
    page.goto(f"/console/messages/{handle}")
    expect(page.locator(".fields dd.campaign")).to_have_text(PROBE)
    expect(page.locator(".fields dd.tags")).to_have_text(PROBE)
    assert page.evaluate("window.__pwned") is None


def test_a_messages_follow_up_is_shown_and_cancelled(page: Page,
                                                     console_server: ServerProcess) -> None:
    handle = send(console_server, phone(317, "01"), "will they read it?", campaign="nudges",
                  tags=["vip", "spring"])
    wait_for(lambda: status_of(console_server, handle) == "DELIVERED")
    with console_server.client() as api:
        response = api.post("/api/v2/follow-ups", json={
            "message_handle": handle, "condition": "not_read", "after": 3600,
            "action": {"send": {"content": "Did you get a chance to look?"}}})
    assert response.status_code == 200, response.text
    follow_up = response.json()["data"]

    page.goto(f"/console/messages/{handle}")
    expect(page.locator(".fields dd.campaign")).to_have_text("nudges")
    expect(page.locator(".fields dd.tags")).to_contain_text("vip")
    expect(page.locator(".fields dd.tags")).to_contain_text("spring")
    table = page.get_by_role("region", name="Follow-ups")
    row = table.get_by_role("row").filter(has_text="not_read")
    expect(row).to_contain_text("1 h")
    expect(row).to_contain_text("send: Did you get a chance to look?")
    expect(row).to_contain_text("scheduled")
    expect(row).to_contain_text(follow_up["due_at"][:19].replace("T", " "))
    screenshot(page, "message-follow-ups")

    row.get_by_role("button", name="Cancel").click()
    expect(row).to_contain_text("cancelled")
    expect(row).to_contain_text("(cancelled)")
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    with console_server.client() as api:
        state = api.get(f"/api/v2/follow-ups/{follow_up['id']}").json()["data"]["state"]
    assert state == "cancelled"


def test_cancelling_an_ended_follow_up_shows_the_apis_conflict(
        page: Page, console_server: ServerProcess) -> None:
    handle = send(console_server, phone(318, "01"), "cancel twice")
    wait_for(lambda: status_of(console_server, handle) == "DELIVERED")
    with console_server.client() as api:
        created = api.post("/api/v2/follow-ups", json={
            "message_handle": handle, "condition": "not_read", "after": 3600,
            "action": {"notify": {"escalate": "call"}}}).json()["data"]
    page.goto(f"/console/messages/{handle}")
    row = page.get_by_role("region", name="Follow-ups").get_by_role("row").filter(
        has_text="not_read")
    expect(row).to_contain_text('notify: {"escalate":"call"}')
    with console_server.client() as api:  # ended elsewhere while the page was open
        api.delete(f"/api/v2/follow-ups/{created['id']}").raise_for_status()
    row.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alert")).to_contain_text("has already ended")


def test_the_page_fits_a_phone(page: Page, console_server: ServerProcess) -> None:
    send(console_server, phone(319, "00"), "small screen", campaign="a-rather-long-campaign-name")
    page.set_viewport_size(PHONE)
    page.goto("/console/analytics")
    expect(page.get_by_role("heading", name="By campaign")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "analytics-phone")
