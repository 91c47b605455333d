"""What the official clients call besides messaging, over real HTTP: the command-line client's
account and lines reads, and the SDK resources a self-hosted gateway cannot serve, which answer
501 saying why rather than "No such endpoint"."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sendblue_api import APIStatusError, SendblueAPI

from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess

UNSERVED = [
    ("GET", "/api/location", "Location sharing"),
    ("GET", "/api/location/%2B14155550100", "Location sharing"),
    ("POST", "/api/request-location", "Location sharing"),
    ("PUT", f"/api/lines/{SANDBOX_LINE}/call-forwarding", "Call forwarding"),
    ("POST", "/api/send-carousel", "Carousels"),
    ("GET", "/api/v2/seats/count", "Seats"),
]


@pytest.fixture
def sdk(server: ServerProcess) -> Iterator[SendblueAPI]:
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url,
                     max_retries=0) as client:
        yield client


def test_the_command_line_clients_account_and_lines(api: httpx.Client) -> None:
    account = api.get("/account")
    assert account.status_code == 200, account.text
    assert account.json()["email"] and account.json()["plan"]
    assert SANDBOX_LINE in account.json()["numbers"]
    lines = api.get("/api/lines")
    assert lines.status_code == 200 and SANDBOX_LINE in lines.json()["numbers"]


def test_the_account_read_checks_the_key_pair(server: ServerProcess) -> None:
    with server.client(secret="not-the-secret") as stranger:
        assert stranger.get("/account").status_code == 401


@pytest.mark.parametrize(("method", "path", "feature"), UNSERVED)
def test_unserved_resources_say_why(api: httpx.Client, method: str, path: str,
                                    feature: str) -> None:
    answer = api.request(method, path, json={} if method in ("POST", "PUT") else None)
    assert answer.status_code == 501, answer.text
    message = answer.json()["message"]
    assert message.startswith(feature) and "not served by bluewire" in message


def test_the_sdk_raises_the_reason(sdk: SendblueAPI) -> None:
    with pytest.raises(APIStatusError) as raised:
        sdk.v2.seats.list()
    assert raised.value.status_code == 501
    assert "Seats is not served by bluewire" in str(raised.value)
    with pytest.raises(APIStatusError) as forwarding:
        sdk.lines.call_forwarding.retrieve(SANDBOX_LINE)
    assert forwarding.value.status_code == 501


def test_unserved_resources_still_need_credentials(server: ServerProcess) -> None:
    assert httpx.get(server.url + "/api/v2/seats", timeout=10).status_code == 401
