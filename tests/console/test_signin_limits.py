"""Failed sign-ins are limited per client address and per key id: the sixth failure in a
minute is a 429 page saying when to retry. Each client here connects from its own loopback
address (127.0.0.x), as separate machines would."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, expect

from ..console_client import ConsoleClient
from ..server import KEY_ID, SECRET, ServerProcess
from .conftest import screenshot, sign_in


def test_the_sixth_failure_from_an_address_is_refused_and_says_when_to_retry(
        console_server: ServerProcess) -> None:
    with ConsoleClient(console_server.url, local_address="127.0.0.2") as guesser:
        for attempt in range(5):
            assert guesser.sign_in(f"guess-{attempt}", "wrong").status_code == 401
        refused = guesser.sign_in("guess-5", "wrong")
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 60
        assert f"Try again in {wait} seconds" in refused.text
        assert guesser.sign_in(KEY_ID, SECRET).status_code == 429  # not even checked
        assert guesser.session is None
    with ConsoleClient(console_server.url, local_address="127.0.0.3") as other:
        assert other.sign_in(KEY_ID, SECRET).status_code == 303  # another address is not held


def test_failures_against_one_key_id_are_counted_from_every_address(
        console_server: ServerProcess) -> None:
    for n in range(5):
        with ConsoleClient(console_server.url, local_address=f"127.0.1.{n + 1}") as client:
            assert client.sign_in("targeted-key", "wrong").status_code == 401
    with ConsoleClient(console_server.url, local_address="127.0.1.9") as client:
        assert client.sign_in("targeted-key", "wrong").status_code == 429
        assert client.sign_in(KEY_ID, SECRET).status_code == 303  # other keys are not held


def test_the_browser_shows_the_refusal(context: BrowserContext) -> None:
    page = context.new_page()
    for _ in range(6):
        sign_in(page, KEY_ID, "wrong")
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"Try again in \d+ seconds"))
    screenshot(page, "sign-in-too-many")
