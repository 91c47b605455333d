"""Verify and TOTP over real HTTP, through the official SDK (sync and async, with strict
validation of every answer) where it has the call.

Verify is an inverted one-time code: the answer that creates a verification gives a code and
a line, and the phone being verified texts the code to the line (here the sandbox phone does,
through /sandbox/phones/{number}/messages)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pyotp
import pytest
from sendblue_api import AsyncSendblueAPI, NotFoundError, SendblueAPI

from ..receiver import ReceiverProcess
from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, phone, wait_for

SERVICES = "/api/v2/verify/services"
OTHER_EMAIL, OTHER_KEY, OTHER_SECRET = "verify-other@example.com", "verify-other", "verify-sk"


@pytest.fixture
def strict(server: ServerProcess) -> Iterator[SendblueAPI]:
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url, max_retries=0,
                     _strict_response_validation=True) as sdk:
        yield sdk


def run_async(server: ServerProcess, calls: Any) -> Any:
    async def main() -> Any:
        async with AsyncSendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url,
                                    max_retries=0, _strict_response_validation=True) as sdk:
            return await calls(sdk)

    return asyncio.run(main())


@pytest.fixture(scope="module")
def hooked(server: ServerProcess, receiver: ReceiverProcess) -> ReceiverProcess:
    with server.client() as api:
        answer = api.put("/api/account/webhooks", json={
            "webhooks": {"verification": [receiver.url_for("/verify")]}})
        assert answer.status_code == 200, answer.text
    return receiver


@pytest.fixture(scope="module")
def other(server: ServerProcess) -> Iterator[httpx.Client]:
    """A second account, granted the same shared sandbox line."""
    server.cli("accounts", "create", OTHER_EMAIL)
    server.cli("keys", "create", "--account", OTHER_EMAIL, "--key-id", OTHER_KEY,
               "--secret", OTHER_SECRET)
    server.cli("lines", "add", SANDBOX_LINE, "--account", OTHER_EMAIL)
    with server.client(OTHER_KEY, OTHER_SECRET) as client:
        yield client


def new_service(api: httpx.Client, **settings: Any) -> str:
    answer = api.post(SERVICES, json={"friendly_name": "Sign-in", **settings})
    assert answer.status_code == 200, answer.text
    sid: str = answer.json()["sid"]
    assert sid.startswith("VA")
    return sid


def text(api: httpx.Client, number: str, content: str) -> None:
    """The phone `number` texts `content` to the sandbox line."""
    answer = api.post(f"/sandbox/phones/{number}/messages",
                      json={"content": content, "line": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text
    assert answer.json()["message_handles"], "the phone's message did not reach the account"


def wrong(code: str) -> str:
    return "".join(str((int(digit) + 1) % 10) for digit in code)


def events(server: ServerProcess, type_: str, sid: str) -> list[dict[str, Any]]:
    rows = server.sql("SELECT data FROM events WHERE type = ? ORDER BY id", type_)
    return [data for row in rows if (data := json.loads(row["data"]))["sid"] == sid]


def status_of(api: httpx.Client, service: str, sid: str) -> str:
    answer = api.get(f"{SERVICES}/{service}/verifications/{sid}")
    assert answer.status_code == 200, answer.text
    status: str = answer.json()["status"]
    return status


# --- Verify ---------------------------------------------------------------------------------

def test_the_phone_that_texts_the_code_is_approved(
        server: ServerProcess, api: httpx.Client, strict: SendblueAPI,
        hooked: ReceiverProcess) -> None:
    service = new_service(api)
    number = phone(611)
    created = strict.verify.verifications.create(service, to=number)
    assert (created.status, created.to, created.service_sid) == ("pending", number, service)
    assert created.channel == "imessage" and created.expires_at > created.date_created
    target = created.delivery_target
    assert target is not None and target.pool_number == SANDBOX_LINE
    assert len(target.code) == 6 and target.code.isdigit()
    assert target.code in target.sms_deep_link and SANDBOX_LINE in target.sms_deep_link

    # Only a salted hash of the code is stored, and the code is never shown again.
    stored = server.sql("SELECT code_hash, code_salt FROM verifications WHERE sid = ?",
                        created.sid)[0]
    assert target.code not in json.dumps(stored)
    assert stored["code_hash"] != hashlib.sha256(target.code.encode()).hexdigest()
    again = strict.verify.verifications.retrieve(created.sid, service_sid=service)
    assert again.status == "pending" and again.delivery_target is None

    text(api, number, f" {target.code[:3]} {target.code[3:]} ")  # spaced as people type it
    approved = strict.verify.verifications.retrieve(created.sid, service_sid=service)
    assert approved.status == "approved"
    # The same through the SDK's other path to the resource.
    same = strict.messages.v2.verify.services.verifications.retrieve(created.sid,
                                                                      service_sid=service)
    assert same.status == "approved"
    # The line got the code as a message of the conversation, as any inbound.
    inbound = api.get("/api/v2/messages", params={"is_outbound": "false", "number": number})
    assert inbound.status_code == 200, inbound.text
    contents = [m["content"] for m in inbound.json()["data"]]
    assert contents[0].split() == [target.code[:3], target.code[3:]]
    assert [e["status"] for e in events(server, "verification.approved", created.sid)] == [
        "approved"]
    hooks = wait_for(lambda: [r.json for r in hooked.received("/verify")
                              if r.json["sid"] == created.sid])
    assert hooks[0]["status"] == "approved" and hooks[0]["to"] == number


def test_wrong_codes_count_and_the_last_allowed_one_cancels(
        server: ServerProcess, api: httpx.Client, strict: SendblueAPI) -> None:
    service = new_service(api, max_attempts=3)
    number = phone(612)
    created = strict.verify.verifications.create(service, to=number)
    assert created.delivery_target is not None
    code = created.delivery_target.code
    text(api, number, wrong(code))
    text(api, number, "hello there, what is this?")  # a message, not a code: not counted
    assert server.sql("SELECT attempts FROM verifications WHERE sid = ?",
                      created.sid)[0]["attempts"] == 1
    assert status_of(api, service, created.sid) == "pending"
    text(api, number, wrong(code))
    text(api, number, wrong(code))
    assert status_of(api, service, created.sid) == "canceled"
    text(api, number, code)  # too late
    assert strict.verify.verifications.retrieve(created.sid, service_sid=service).status == \
        "canceled"
    assert len(events(server, "verification.canceled", created.sid)) == 1
    assert events(server, "verification.approved", created.sid) == []


def test_a_code_from_another_phone_approves_nothing(api: httpx.Client,
                                                    strict: SendblueAPI) -> None:
    service = new_service(api)
    created = strict.verify.verifications.create(service, to=phone(613))
    theirs = strict.verify.verifications.create(service, to=phone(614))
    assert created.delivery_target is not None and theirs.delivery_target is not None
    if created.delivery_target.code != theirs.delivery_target.code:
        text(api, phone(614), created.delivery_target.code)
        assert status_of(api, service, theirs.sid) == "pending"
    assert status_of(api, service, created.sid) == "pending"


def test_an_expired_verification_stays_expired_and_says_so_once(
        server: ServerProcess, api: httpx.Client, strict: SendblueAPI) -> None:
    service = new_service(api, ttl_seconds=60)
    number = phone(615)
    created = strict.verify.verifications.create(service, to=number)
    assert created.delivery_target is not None
    assert 59 <= (created.expires_at - created.date_created).total_seconds() <= 61
    server.sql("UPDATE verifications SET expires_at = ? WHERE sid = ?", 1, created.sid)
    assert strict.verify.verifications.retrieve(created.sid, service_sid=service).status == \
        "expired"
    text(api, number, created.delivery_target.code)
    assert status_of(api, service, created.sid) == "expired"
    listed = api.get("/api/v2/verify/verifications").json()["data"]
    assert {v["sid"]: v["status"] for v in listed}[created.sid] == "expired"
    assert len(events(server, "verification.expired", created.sid)) == 1


def test_a_verification_is_canceled_once(server: ServerProcess, api: httpx.Client) -> None:
    service = new_service(api)
    created = api.post(f"{SERVICES}/{service}/verifications", json={"to": phone(616)}).json()
    url = f"{SERVICES}/{service}/verifications/{created['sid']}"
    canceled = api.post(url, json={"status": "canceled"})
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    again = api.post(url, json={"status": "canceled"})
    assert again.status_code == 409 and "canceled" in again.json()["message"]
    assert len(events(server, "verification.canceled", created["sid"])) == 1


def test_the_list_recovers_endings_async(server: ServerProcess, api: httpx.Client) -> None:
    service = new_service(api, code_length=8)
    number = phone(617)

    async def calls(sdk: AsyncSendblueAPI) -> Any:
        created = await sdk.verify.verifications.create(service, to=number)
        assert created.delivery_target is not None and len(created.delivery_target.code) == 8
        await asyncio.to_thread(text, api, number, created.delivery_target.code)
        retrieved = await sdk.messages.v2.verify.services.verifications.retrieve(
            created.sid, service_sid=service)
        listed = await sdk.verify.verifications.list(updated_at_gte=created.date_created,
                                                     limit=100)
        return created, retrieved, listed

    created, retrieved, listed = run_async(server, calls)
    assert retrieved.status == "approved"
    mine = [v for v in listed.data if v.sid == created.sid]
    assert len(mine) == 1 and mine[0].status == "approved" and mine[0].date_completed
    assert listed.pagination.count is not None and listed.pagination.count >= 1


def test_another_account_cannot_see_or_touch_a_verification(
        api: httpx.Client, strict: SendblueAPI, other: httpx.Client) -> None:
    service = new_service(api)
    created = strict.verify.verifications.create(service, to=phone(618))
    one = f"{SERVICES}/{service}/verifications/{created.sid}"
    assert other.get(f"{SERVICES}/{service}").status_code == 404
    assert other.get(one).status_code == 404
    assert other.post(one, json={"status": "canceled"}).status_code == 404
    assert other.post(f"{SERVICES}/{service}/verifications",
                      json={"to": phone(618)}).status_code == 404
    assert created.sid not in {v["sid"] for v in
                               other.get("/api/v2/verify/verifications").json()["data"]}
    assert service not in {s["sid"] for s in other.get(SERVICES).json()["data"]}
    # The other account's own service does not open this one's verification either.
    theirs = other.post(SERVICES, json={}).json()["sid"]
    assert other.get(f"{SERVICES}/{theirs}/verifications/{created.sid}").status_code == 404
    with pytest.raises(NotFoundError):
        strict.verify.verifications.retrieve(created.sid, service_sid=theirs)
    assert status_of(api, service, created.sid) == "pending"


@pytest.mark.parametrize(("path", "body", "says"), [
    (SERVICES, {"code_length": 3}, "code_length"),
    (SERVICES, {"ttl_seconds": 5}, "ttl_seconds"),
    (SERVICES, {"max_attempts": 0}, "max_attempts"),
    (SERVICES, {"friendly_name": "x" * 65}, "friendly_name"),
    (SERVICES, {"from_number": "+14155550123"}, "not a line of this account"),
    ("{service}/verifications", {"to": "not a number"}, "`to`"),
    ("{service}/verifications", {}, "to"),
    ("{service}/verifications", {"to": SANDBOX_LINE}, "one of our lines"),
    ("{service}/verifications", {"to": phone(619), "hosted": {"parent_origin": "https://a.b"}},
     "hosted"),
])
def test_bad_input_is_refused_saying_what_to_fix(api: httpx.Client, path: str,
                                                 body: dict[str, Any], says: str) -> None:
    if "{service}" in path:
        path = f"{SERVICES}/" + path.format(service=new_service(api))
    answer = api.post(path, json=body)
    assert answer.status_code in (400, 422), answer.text
    assert says in answer.json()["message"]
    assert answer.json().get("error_code") is not None or answer.status_code == 422


def test_unknown_ids_are_not_found(api: httpx.Client) -> None:
    assert api.get(f"{SERVICES}/VA0").status_code == 404
    assert api.post(f"{SERVICES}/VA0/verifications", json={"to": phone(619)}).status_code == 404
    service = new_service(api)
    assert api.get(f"{SERVICES}/{service}/verifications/VE0").status_code == 404


# --- TOTP -----------------------------------------------------------------------------------

def current(totp: pyotp.TOTP) -> set[str]:
    """The codes of this step and its neighbours (a call may straddle a step's end)."""
    now = time.time()
    return {totp.at(now - totp.interval), totp.at(now), totp.at(now + totp.interval)}


def test_a_made_secret_gives_the_codes_an_authenticator_would(
        server: ServerProcess, strict: SendblueAPI) -> None:
    created = strict.v2.totp.secrets.create(label="GitHub - agent@example.com",
                                            issuer="GitHub")
    secret = created.totp_secret
    assert secret is not None and secret.id and secret.secret
    assert (secret.algorithm, secret.digits, secret.period) == ("SHA1", 6, 30)
    totp = pyotp.TOTP(secret.secret)
    code = strict.v2.totp.get_code(secret.id)
    assert code.code in current(totp)
    assert code.expires_in is not None and 1 <= code.expires_in <= 30
    # Shown once: the list has no secret; the database holds it sealed, not in clear.
    listed = strict.v2.totp.secrets.list().totp_secrets or []
    mine = [s for s in listed if s.id == secret.id]
    assert len(mine) == 1 and mine[0].secret is None and mine[0].label == secret.label
    stored = server.sql("SELECT secret FROM totp_secrets WHERE public_id = ?", secret.id)
    assert stored[0]["secret"] != secret.secret and secret.secret not in stored[0]["secret"]
    assert stored[0]["secret"].startswith("enc:v1:")
    assert strict.v2.totp.secrets.delete(secret.id).status == "OK"
    with pytest.raises(NotFoundError):
        strict.v2.totp.get_code(secret.id)


def test_a_qr_codes_uri_is_stored_with_its_settings_async(server: ServerProcess) -> None:
    base32 = pyotp.random_base32(32)
    uri = pyotp.TOTP(base32, digest=hashlib.sha256, digits=8, interval=60).provisioning_uri(
        name="agent@example.com", issuer_name="Example")

    async def calls(sdk: AsyncSendblueAPI) -> Any:
        created = await sdk.v2.totp.secrets.create(uri=uri, label="ignored: the uri wins")
        assert created.totp_secret is not None and created.totp_secret.id
        return created, await sdk.v2.totp.get_code(created.totp_secret.id)

    created, code = run_async(server, calls)
    secret = created.totp_secret
    assert (secret.algorithm, secret.digits, secret.period) == ("SHA256", 8, 60)
    assert (secret.label, secret.issuer, secret.secret) == ("agent@example.com", "Example",
                                                            base32)
    assert code.code in current(pyotp.TOTP(base32, digest=hashlib.sha256, digits=8,
                                           interval=60))


def test_a_given_secret_and_the_retrieve(api: httpx.Client) -> None:
    base32 = pyotp.random_base32()
    answer = api.post("/api/v2/totp/secrets", json={"label": "bank", "secret": base32.lower()})
    assert answer.status_code == 200, answer.text
    created = answer.json()["totp_secret"]
    assert created["secret"] == base32 and created["uri"].startswith("otpauth://totp/")
    one = api.get(f"/api/v2/totp/secrets/{created['id']}").json()["totp_secret"]
    assert one["secret"] is None and one["uri"] is None and one["label"] == "bank"
    code = api.get(f"/api/v2/totp/code/{created['id']}").json()["code"]
    assert code in current(pyotp.TOTP(base32))


@pytest.mark.parametrize(("body", "says"), [
    ({}, "label"),
    ({"label": "   "}, "label"),
    ({"label": "x", "secret": "not base32!"}, "base32"),
    ({"label": "x", "secret": "JBSWY3DP"}, "too short"),
    ({"label": "x", "digits": 7}, "digits"),
    ({"label": "x", "period": 0}, "period"),
    ({"label": "x", "algorithm": "MD5"}, "algorithm"),
    ({"uri": "https://example.com/not-otp"}, "otpauth"),
    ({"uri": "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DP&counter=1"}, "otpauth"),
    ({"uri": "otpauth://totp/x?issuer=Nobody"}, "secret"),
    ({"uri": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DP&digits=seven"}, "digits"),
])
def test_a_bad_secret_is_refused_saying_what_to_fix(api: httpx.Client, body: dict[str, Any],
                                                    says: str) -> None:
    answer = api.post("/api/v2/totp/secrets", json=body)
    assert answer.status_code in (400, 422), answer.text
    assert says in answer.json()["message"]


def test_another_accounts_secret_is_not_found(api: httpx.Client, other: httpx.Client) -> None:
    created = api.post("/api/v2/totp/secrets", json={"label": "mine"}).json()["totp_secret"]
    assert other.get(f"/api/v2/totp/code/{created['id']}").status_code == 404
    assert other.get(f"/api/v2/totp/secrets/{created['id']}").status_code == 404
    assert other.delete(f"/api/v2/totp/secrets/{created['id']}").status_code == 404
    assert created["id"] not in {s["id"] for s in
                                 other.get("/api/v2/totp/secrets").json()["totp_secrets"]}
    assert api.get(f"/api/v2/totp/code/{created['id']}").status_code == 200
