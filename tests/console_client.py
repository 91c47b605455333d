"""httpx against a server's console as a browser would use it: cookies kept, redirects not
followed (tests look at them), posts sent with the page's `Origin`."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import httpx

from .server import KEY_ID, SECRET

SESSION_COOKIE = "bluewire_session"
_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
_PAGE_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]*)"')


def token_hash(token: str) -> str:
    """What the store keeps of a session cookie's token."""
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleClient:
    def __init__(self, url: str, *, local_address: str | None = None) -> None:
        """`local_address`: the loopback address to connect from (127.0.0.2, …), so a test can
        be several clients to the server."""
        transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
        self.url = url
        self.http = httpx.Client(base_url=url, transport=transport, timeout=30)

    def __enter__(self) -> ConsoleClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict[str, str] | None = None, *, origin: str | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        """POST `data` as a form, from `origin` (default: the server's own)."""
        return self.http.post(path, data=data,
                              headers={"origin": origin or self.url, **(headers or {})})

    def sign_in(self, key_id: str = KEY_ID, secret: str = SECRET) -> httpx.Response:
        """Load the sign-in form and submit it; the answer (303 when signed in)."""
        form = self.get("/console/login")
        found = _FORM_TOKEN.search(form.text)
        assert found, form.text
        return self.post("/console/login",
                         {"csrf_token": found.group(1), "key_id": key_id, "secret": secret})

    def csrf_token(self, path: str = "/console/lines") -> str:
        """The session's CSRF token, as a page carries it."""
        page = self.get(path)
        found = _PAGE_TOKEN.search(page.text)
        assert found, f"{path} answered {page.status_code}: {page.text[:500]}"
        return found.group(1)

    @property
    def session(self) -> str | None:
        return self.http.cookies.get(SESSION_COOKIE)
