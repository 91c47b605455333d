"""GET /console/events: the signed-in account's live events, in the browser by the session
cookie, ending with the session."""

from __future__ import annotations

import threading

import httpx
from playwright.sync_api import Page

from ..console_client import ConsoleClient
from ..server import SANDBOX_LINE, ServerProcess, phone

LISTEN = """() => new Promise((resolve, reject) => {
  window.received = [];
  const source = new EventSource('/console/events?types=message.created');
  source.addEventListener('message.created',
                          (event) => window.received.push(JSON.parse(event.data)));
  source.onopen = () => resolve(true);
  source.onerror = () => reject(new Error('the stream was refused'));
})"""


def test_a_page_receives_the_accounts_events_live(page: Page,
                                                  console_server: ServerProcess) -> None:
    page.goto("/console/lines")
    assert page.evaluate(LISTEN) is True
    with console_server.client() as api:
        sent = api.post("/api/send-message", json={
            "number": phone(415), "from_number": SANDBOX_LINE, "content": "Hello, console"})
        assert sent.status_code == 200, sent.text
    handle = sent.json()["message_handle"]
    page.wait_for_function("() => window.received.length > 0")
    event = page.evaluate("window.received[0]")
    assert event["type"] == "message.created"
    assert event["data"]["message_handle"] == handle


def test_the_stream_needs_a_session_and_known_types(console_server: ServerProcess) -> None:
    refused = httpx.get(console_server.url + "/console/events", timeout=30,
                        headers={"accept": "text/event-stream"})
    assert refused.status_code == 401
    with ConsoleClient(console_server.url) as console:
        console.sign_in()
        unknown = console.get("/console/events?types=no.such.type")
        assert unknown.status_code == 400 and "unknown event type" in unknown.text


def test_the_stream_ends_when_its_session_does(console_server: ServerProcess) -> None:
    with ConsoleClient(console_server.url) as console:
        console.sign_in()
        ended = threading.Event()
        opened = threading.Event()

        def follow() -> None:
            with console.http.stream("GET", "/console/events",
                                     headers={"accept": "text/event-stream"}) as stream:
                assert stream.status_code == 200
                assert stream.headers["content-type"].startswith("text/event-stream")
                for line in stream.iter_lines():
                    if line == ": ready":
                        opened.set()
            ended.set()

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        assert opened.wait(30)
        with ConsoleClient(console_server.url) as other_tab:
            other_tab.http.cookies.update(console.http.cookies)
            signed_out = other_tab.post("/console/logout",
                                        {"csrf_token": other_tab.csrf_token()})
            assert signed_out.status_code == 303
        assert ended.wait(30), "the stream went on after signing out"
        reader.join(5)


def test_htmx_elements_react_to_the_stream(page: Page, console_server: ServerProcess) -> None:
    """What a live page does (`live=True` puts `hx-ext="sse"` and `sse-connect` on <main>):
    here set up on a page by hand, since no page of the console needs it yet."""
    page.goto("/console/lines")
    page.evaluate("""() => {
      const main = document.getElementById('main');
      main.setAttribute('hx-ext', 'sse');
      main.setAttribute('sse-connect', '/console/events');
      main.insertAdjacentHTML('beforeend', '<div id="latest" sse-swap="message.created"></div>');
      main.addEventListener('htmx:sseOpen', () => { window.streamOpen = true; });
      htmx.process(main);
    }""")
    page.wait_for_function("() => window.streamOpen === true")
    with console_server.client() as api:
        sent = api.post("/api/send-message", json={
            "number": phone(415), "from_number": SANDBOX_LINE, "content": "Swapped in"})
        assert sent.status_code == 200, sent.text
    page.wait_for_function("() => document.getElementById('latest').textContent.includes("
                           "'Swapped in')")
