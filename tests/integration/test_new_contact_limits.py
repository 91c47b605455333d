"""New-contact limits over real HTTP and through the official SDK: a line may make only so many
first contacts (sends to contacts it has not exchanged a message with in the lookback) per
rolling hour and per day; known contacts are never held back; sandbox lines have no limits
unless the operator turns them on to rehearse, as these servers do."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sendblue_api import SendblueAPI

from ..databases import Engine
from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, phone

LIMITED = {"BLUEWIRE_SANDBOX_NEW_CONTACT_LIMITS": "1", "BLUEWIRE_NEW_CONTACTS_PER_HOUR": "3",
           "BLUEWIRE_NEW_CONTACTS_PER_DAY": "4"}


def serve(tmp_path_factory: pytest.TempPathFactory, engine: Engine,
          env: dict[str, str]) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("limits"), env, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture
def limited(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> Iterator[ServerProcess]:
    yield from serve(tmp_path_factory, engine, LIMITED)


@pytest.fixture(scope="module")
def unlimited(tmp_path_factory: pytest.TempPathFactory,
              engine: Engine) -> Iterator[ServerProcess]:
    yield from serve(tmp_path_factory, engine, {})


def send(api: httpx.Client, number: str, content: str = "hello") -> httpx.Response:
    return api.post("/api/send-message", json={"number": number, "content": content,
                                               "from_number": SANDBOX_LINE})


def usage_of(api: httpx.Client) -> dict:
    answer = api.get("/api/v2/lines/usage")
    assert answer.status_code == 200, answer.text
    return next(line for line in answer.json()["lines"] if line["phone"] == SANDBOX_LINE)


def test_a_line_makes_only_its_hourly_first_contacts_and_still_reaches_known_ones(
        limited: ServerProcess) -> None:
    with limited.client() as api:
        before = usage_of(api)
        assert before["state"] == "available"
        assert before["hourly"] == {"used": 0, "limit": 3, "remaining": 3, "nextSlotAt": None}
        firsts = [phone(401, suffix) for suffix in ("00", "01", "02")]
        for number in firsts:
            assert send(api, number).status_code == 200
        refused = send(api, phone(401, "03"))
        assert refused.status_code == 429, refused.text
        body = refused.json()
        assert body["error_code"] == 4001
        assert "new contacts" in body["message"] and "an hour" in body["message"]
        assert 3000 <= int(refused.headers["retry-after"]) <= 3600
        # A contact messaged already is known: its messages go on.
        again = send(api, firsts[0], "second message")
        assert again.status_code == 200, again.text
        after = usage_of(api)
        assert after["state"] == "limited"
        assert (after["hourly"]["used"], after["hourly"]["remaining"]) == (3, 0)
        assert (after["daily"]["used"], after["daily"]["remaining"]) == (3, 1)
        slot = datetime.fromisoformat(after["hourly"]["nextSlotAt"].replace("Z", "+00:00"))
        assert 3500 <= (slot - datetime.now(UTC)).total_seconds() <= 3600
        assert after["availableAt"] == after["hourly"]["nextSlotAt"]
        refused_stored = api.get("/api/v2/messages", params={"number": phone(401, "03")})
        assert refused_stored.json()["data"] == []  # a refused send leaves nothing


def test_contact_status_says_known_or_new(limited: ServerProcess) -> None:
    with limited.client() as api:
        assert send(api, phone(402, "00")).status_code == 200
        messaged = api.get("/api/v2/lines/contact-status",
                           params={"number": phone(402, "00"), "sendblue_number": SANDBOX_LINE})
        assert messaged.status_code == 200, messaged.text
        assert (messaged.json()["classification"], messaged.json()["known_contact"]) == (
            "known", True)
        fresh = api.get("/api/v2/lines/contact-status",
                        params={"number": phone(409, "00"), "sendblue_number": SANDBOX_LINE})
        assert (fresh.json()["classification"], fresh.json()["known_contact"]) == ("new", False)
        assert fresh.json()["new_contact_lookback_days"] == 30
        not_a_line = api.get("/api/v2/lines/contact-status",
                             params={"number": phone(409, "00"),
                                     "sendblue_number": "+14155550123"})
        assert not_a_line.status_code == 404, not_a_line.text
        bad = api.get("/api/v2/lines/contact-status", params={"number": "nope",
                                                              "sendblue_number": SANDBOX_LINE})
        assert bad.status_code == 400 and "number" in bad.json()["message"]


def test_the_daily_limit_holds_when_the_hour_has_room(
        tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> None:
    env = {**LIMITED, "BLUEWIRE_NEW_CONTACTS_PER_HOUR": "10", "BLUEWIRE_NEW_CONTACTS_PER_DAY": "2"}
    for server in serve(tmp_path_factory, engine, env):
        with server.client() as api:
            assert send(api, phone(403, "00")).status_code == 200
            assert send(api, phone(403, "01")).status_code == 200
            refused = send(api, phone(403, "02"))
            assert refused.status_code == 429 and "a day" in refused.json()["message"]
            daily = usage_of(api)["daily"]
            assert daily["nextSlotAt"] == daily["resetsAt"]


def test_a_contact_unheard_for_the_lookback_counts_as_new_again(
        tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> None:
    env = {**LIMITED, "BLUEWIRE_NEW_CONTACT_LOOKBACK_DAYS": "0.00002"}  # 1.728 s
    for server in serve(tmp_path_factory, engine, env):
        with server.client() as api:
            number = phone(404, "01")
            assert send(api, number).status_code == 200
            time.sleep(2)
            assert send(api, number).status_code == 200
            assert usage_of(api)["hourly"]["used"] == 2


def test_sandbox_lines_have_no_limits_by_default(unlimited: ServerProcess) -> None:
    with unlimited.client() as api:
        for suffix in range(10, 16):
            assert send(api, phone(405, f"{suffix:02d}")).status_code == 200
        line = usage_of(api)
        assert line["state"] == "not_applicable"
        status = api.get("/api/v2/lines/contact-status",
                         params={"number": phone(405, "10"), "sendblue_number": SANDBOX_LINE})
        assert status.json()["classification"] == "not_applicable"


def test_the_official_sdk_reads_usage_and_contact_status_strictly(
        limited: ServerProcess) -> None:
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=limited.url, max_retries=0,
                     _strict_response_validation=True) as sdk:
        usage = sdk.lines.get_usage()
        line = next(entry for entry in usage.lines if entry.phone == SANDBOX_LINE)
        assert line.hourly.limit == 3 and line.daily.limit == 4
        assert line.daily.resets_at is not None
        status = sdk.lines.get_contact_status(number=phone(406, "00"),
                                              sendblue_number=SANDBOX_LINE)
        assert status.classification == "new" and status.known_contact is False
