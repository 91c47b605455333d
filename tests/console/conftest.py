"""The console in a real browser: Debian's headless Chromium driven by Playwright (its sync
API), against one real `bluewire serve` per test module, on SQLite (what the console stores is
also tested on both engines, in tests/integration/test_console_sessions.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from .. import databases
from ..server import KEY_ID, SECRET, ServerProcess

CHROMIUM = os.environ.get("BLUEWIRE_TEST_CHROMIUM", "/usr/bin/chromium")
REQUIRE_CHROMIUM_ENV = "BLUEWIRE_TEST_REQUIRE_CHROMIUM"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).parent / "screenshots"  # gitignored: for people to look at
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ADMIN = "admin@bluewire.local"


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server for the module's tests; its event stream checks its session twice a second."""
    process = ServerProcess(tmp_path_factory.mktemp("console"), engine=databases.SQLITE,
                            env={"BLUEWIRE_SSE_HEARTBEAT_MS": "500"}).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for the module's tests. Not for the session: while Playwright's sync API is
    open it holds an event loop running on this thread, which async tests elsewhere need."""
    if not shutil.which(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM}: install Debian's chromium package"
        if os.environ.get(REQUIRE_CHROMIUM_ENV) == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, console_server: ServerProcess) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) at desktop size, pointed at the server."""
    fresh = browser.new_context(base_url=console_server.url, viewport=DESKTOP)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A page signed in with the test key pair."""
    opened = context.new_page()
    sign_in(opened)
    return opened


def sign_in(page: Page, key_id: str = KEY_ID, secret: str = SECRET,
            path: str = "/console/login") -> None:
    """Fill in and submit the sign-in form: the one the page shows, else the one at `path`."""
    if "/console/login" not in page.url:
        page.goto(path)
    page.get_by_label("Key id").fill(key_id)
    page.get_by_label("Secret").fill(secret)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as SCREENSHOTS/<name>.png, for a person to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def session_cookie(context: BrowserContext) -> dict[str, object] | None:
    return next((dict(cookie) for cookie in context.cookies()
                 if cookie["name"] == "bluewire_session"), None)


def wait_for_loaded_picture(page: Page, selector: str, width: int = 1) -> None:
    """Waits until the first picture matching `selector` has loaded, `width` pixels wide: one
    the server could not serve never gets there."""
    page.wait_for_function(
        "([selector, width]) => { const img = document.querySelector(selector);"
        " return img !== null && img.complete && img.naturalWidth === width; }",
        arg=[selector, width])
