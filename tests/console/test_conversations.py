"""The Conversations page: the list with last messages and unread counts, a thread with each
message's status chain, sending from the compose boxes (text, a picture, an effect, a group),
marking read, and the live thread (a status change, an inbound reply, typing) without reload;
hostile text stays text, another account's thread is a 404, a long thread pages back."""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

from playwright.sync_api import Page, expect

from ..server import SANDBOX_LINE, ServerProcess, phone
from .conftest import PHONE, screenshot, sign_in, wait_for_loaded_picture

PROBES = ['<script>window.__pwned=1</script>', '"><img src=x onerror="window.__pwned=1">',
          'javascript:window.__pwned=1']


def one_pixel_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x0b\x5c\xab")) + chunk(b"IEND", b""))


def thread_url(number: str, line: str = SANDBOX_LINE) -> str:
    return f"/console/conversations/{line.replace('+', '%2B')}/{number.replace('+', '%2B')}"


def api_send(server: ServerProcess, number: str, content: str, **extra: Any) -> dict[str, Any]:
    with server.client() as api:
        answer = api.post("/api/send-message", json={"number": number, "content": content,
                                                     "from_number": SANDBOX_LINE, **extra})
    assert answer.status_code == 200, answer.text
    return answer.json()


def phone_says(server: ServerProcess, number: str, content: str) -> None:
    with server.client() as api:
        answer = api.post(f"/sandbox/phones/{number}/messages",
                          json={"content": content, "line": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text


def mark_unreloaded(page: Page) -> None:
    """A marker that a reload or a navigation would wipe out."""
    page.evaluate("() => { window.__stayed = true; }")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("() => window.__stayed") is True


def step(page: Page, status: str) -> Any:
    return page.locator("#thread-live .bubble.out").last.locator(f"[data-status={status}]")


def test_a_message_sent_from_compose_reaches_read_without_reload(page: Page) -> None:
    number = phone(310, "00")  # reads what it gets, with read receipts on
    page.goto("/console/conversations")
    compose = page.locator("form[aria-labelledby=new-message]")
    compose.get_by_label("To").fill(number)
    compose.get_by_label("Message").fill("Hello from the console")
    with page.expect_navigation():
        compose.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(re.escape(thread_url(number)) + "$"))
    mark_unreloaded(page)
    expect(page.locator("#thread-live .bubble.out .text")).to_have_text("Hello from the console")
    expect(step(page, "READ")).to_have_class(re.compile(r"\breached\b"), timeout=15_000)
    for status in ("QUEUED", "SENT", "DELIVERED", "READ"):
        expect(step(page, status).locator("time")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    assert_not_reloaded(page)
    screenshot(page, "conversation")


def test_a_phone_reply_and_its_typing_appear_live_and_mark_read_clears_unread(
    page: Page, console_server: ServerProcess,
) -> None:
    number = phone(311, "01")
    api_send(console_server, number, "Are you there?")
    page.goto(thread_url(number))
    mark_unreloaded(page)
    with console_server.client() as api:
        assert api.post(f"/sandbox/phones/{number}/typing",
                        json={"line": SANDBOX_LINE, "typing": True}).status_code == 200
    expect(page.locator(".typing")).to_have_text(f"{number} is typing…")
    phone_says(console_server, number, "Yes, here!")
    expect(page.locator("#thread-live .bubble.in .text")).to_have_text("Yes, here!")
    expect(page.locator("#unread")).to_have_text("1 unread")
    assert_not_reloaded(page)
    page.goto("/console/conversations")
    row = page.locator(".conversation", has_text=number)
    expect(row.locator(".unread")).to_have_text("1")
    expect(row.locator(".last")).to_have_text("Yes, here!")
    row.click()
    page.get_by_role("button", name="Mark read").click()
    expect(page.locator("#unread")).to_have_text("All read")
    page.goto("/console/conversations")
    expect(page.locator(".conversation", has_text=number).locator(".unread")).to_have_count(0)


def test_a_thread_updates_live_only_for_its_own_conversation(
    page: Page, console_server: ServerProcess,
) -> None:
    mine, other = phone(312, "01"), phone(313, "01")
    api_send(console_server, mine, "first")
    page.goto(thread_url(mine))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    phone_says(console_server, other, "not for this thread")
    phone_says(console_server, mine, "for this thread")
    expect(page.locator("#thread-live .bubble.in .text")).to_have_text("for this thread")
    expect(page.locator("#thread-live")).not_to_contain_text("not for this thread")
    live = [url for url in requests if "/live" in url]
    assert live and all(mine.replace("+", "%2B") in url for url in live)


def test_a_picture_and_an_effect_from_compose(page: Page, console_server: ServerProcess,
                                              tmp_path: Any) -> None:
    number = phone(314, "01")
    picture = tmp_path / "cat.png"
    picture.write_bytes(one_pixel_png())
    page.goto("/console/conversations")
    compose = page.locator("form[aria-labelledby=new-message]")
    compose.get_by_label("To").fill(number)
    compose.get_by_label("Message").fill("A picture")
    compose.get_by_label("Picture or file").set_input_files(str(picture))
    compose.get_by_label("Effect").select_option("confetti")
    with page.expect_navigation():
        compose.get_by_role("button", name="Send").click()
    bubble = page.locator("#thread-live .bubble.out").last
    expect(bubble.locator(".media img")).to_be_visible()
    expect(bubble.locator(".meta")).to_contain_text("confetti")
    with console_server.client() as api:
        sent = api.get("/api/v2/messages", params={"number": number}).json()["data"][0]
    assert sent["send_style"] == "confetti" and sent["media_url"].endswith(".png")
    wait_for_loaded_picture(page, ".media img")


def test_a_refused_send_shows_the_apis_error_and_keeps_the_text(page: Page) -> None:
    page.goto("/console/conversations")
    compose = page.locator("form[aria-labelledby=new-message]")
    compose.get_by_label("To").fill("not a number")
    compose.get_by_label("Message").fill("kept")
    with page.expect_response(lambda r: r.url.endswith("/conversations/send")) as answer:
        compose.get_by_role("button", name="Send").click()
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text("number")
    expect(page.locator("form[aria-labelledby=new-message] textarea[name=content]")
           ).to_have_value("kept")


def test_a_new_group_shows_each_members_read(page: Page, console_server: ServerProcess) -> None:
    members = [phone(315, "00"), phone(316, "01")]
    page.goto("/console/conversations")
    compose = page.locator("form[aria-labelledby=new-group]")
    compose.get_by_label("Members (one number a line, or commas)").fill("\n".join(members))
    compose.get_by_label("Message").fill("Hello, both of you")
    with page.expect_navigation():
        compose.get_by_role("button", name="Send to the group").click()
    expect(page).to_have_url(re.compile(r"/console/conversations/groups/[^/]+$"))
    for number in members:
        expect(page.locator(".members")).to_contain_text(number)
    copies = page.locator("#thread-live .bubble.out .copies")
    expect(copies.locator("summary")).to_have_text("Read by 1 of 2", timeout=15_000)
    copies.locator("summary").click()
    expect(copies.locator("li", has_text=members[0])).to_contain_text("read")
    expect(copies.locator("li", has_text=members[1])).to_contain_text("delivered")


def test_hostile_text_stays_text(page: Page, console_server: ServerProcess) -> None:
    number = phone(317, "01")
    with console_server.client() as api:
        api.post("/api/v2/contacts", json={"number": number, "first_name": PROBES[1]})
    for probe in PROBES:
        phone_says(console_server, number, probe)
    page.goto("/console/conversations")
    expect(page.locator(".conversation", has_text=number).locator(".who")
           ).to_have_text(PROBES[1])
    page.goto(thread_url(number))
    expect(page.locator("#thread-live .bubble.in .text")).to_have_text(PROBES)
    expect(page.locator("h1")).to_have_text(PROBES[1])
    assert page.locator("#thread-live a[href^=javascript]").count() == 0
    assert page.evaluate("() => window.__pwned") is None


def test_another_accounts_thread_is_a_404(page: Page, console_server: ServerProcess) -> None:
    number = phone(318, "01")
    api_send(console_server, number, "mine alone")
    console_server.cli("accounts", "create", "other-threads@example.com")
    console_server.cli("keys", "create", "--account", "other-threads@example.com",
                       "--api-key-id", "other-threads", "--api-secret-key", "other-secret")
    other = page.context.browser.new_context(base_url=console_server.url).new_page()
    sign_in(other, "other-threads", "other-secret")
    for path in (thread_url(number), thread_url(number) + "/live",
                 thread_url(number, "+14155550111")):
        answer = other.goto(path)
        assert answer is not None and answer.status == 404, path
    other.goto("/console/conversations")
    expect(other.locator(".conversation")).to_have_count(0)
    assert "mine alone" not in other.content()


def test_a_long_thread_opens_on_its_latest_page_and_pages_back(
    page: Page, console_server: ServerProcess,
) -> None:
    number = phone(319, "05")  # never resolves: nothing but our sends in the thread
    with console_server.client() as api:
        for index in range(120):
            answer = api.post("/api/send-message", json={
                "number": number, "content": f"message {index}", "from_number": SANDBOX_LINE})
            assert answer.status_code == 200
    page.goto(thread_url(number))
    texts = page.locator(".bubble .text")
    expect(texts).to_have_count(50)
    expect(texts.last).to_have_text("message 119")
    expect(texts.first).to_have_text("message 70")
    page.get_by_role("link", name="Load older messages").click()
    expect(texts).to_have_count(100)
    expect(texts.first).to_have_text("message 20")
    page.get_by_role("link", name="Load older messages").click()
    expect(texts).to_have_count(120)
    expect(texts.first).to_have_text("message 0")
    expect(page.get_by_role("link", name="Load older messages")).to_have_count(0)


def test_readable_at_phone_width(page: Page, console_server: ServerProcess) -> None:
    number = phone(320, "01")
    api_send(console_server, number, "small screen")
    page.set_viewport_size(PHONE)
    page.goto(thread_url(number))
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    screenshot(page, "conversation-phone")
    page.goto("/console/conversations")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "conversations")
