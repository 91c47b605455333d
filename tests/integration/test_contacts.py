"""The Contacts API (`/api/v2/contacts`) and the CLI's shared-line contacts, against a real
`bluewire serve` process: every endpoint through the official SDK with strict response
validation, the SDK's wire quirks through raw httpx, validation errors, account isolation, and
`contact_created` webhooks arriving at a real receiver exactly once per new contact."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jsonschema
import pytest
from aiohttp import web
from sendblue_api import (
    ConflictError,
    NotFoundError,
    SendblueAPI,
)

from ..databases import Engine
from ..receiver import ThreadedReceiver
from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, wait_for

BASE = "/api/v2/contacts"
_numbers = itertools.count(1000)


def fresh() -> str:
    """A number no other test of this module uses (+1 646 555 1XXX: plain sandbox phones)."""
    return f"+1646555{next(_numbers):04d}"


class Receiver(ThreadedReceiver):
    """An aiohttp server in a thread of its own that records every POST body by path."""

    def __init__(self) -> None:
        super().__init__()
        self._bodies: list[tuple[str, dict[str, Any], str]] = []

    def bodies(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for hit_path, body, _ in self._bodies if hit_path == path]

    def webhook_ids(self, path: str) -> list[str]:
        with self._lock:
            return [webhook_id for hit_path, _, webhook_id in self._bodies if hit_path == path]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            self._bodies.append((request.path, body, request.headers.get("webhook-id", "")))
        return web.Response(text="ok")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("contacts"), {
        "BLUEWIRE_SWEEP_INTERVAL_MS": "100",
    }, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def sdk(server: ServerProcess) -> Iterator[SendblueAPI]:
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url, max_retries=0,
                     _strict_response_validation=True) as client:
        yield client


@pytest.fixture(scope="module")
def other(server: ServerProcess) -> Iterator[httpx.Client]:
    """A second account, with the shared sandbox line too."""
    server.cli("accounts", "create", "contacts-other@example.com")
    server.cli("keys", "create", "--account", "contacts-other@example.com", "--key-id",
               "contacts-other", "--secret", "contacts-other-secret")
    server.cli("lines", "add", SANDBOX_LINE, "--account", "contacts-other@example.com")
    client = server.client("contacts-other", "contacts-other-secret")
    yield client
    client.close()


AddHook = Callable[[], str]


@pytest.fixture
def contact_hook(api: httpx.Client, receiver: Receiver) -> Iterator[AddHook]:
    """Adds a contact_created webhook on a unique receiver path; removes it after the test."""
    added: list[str] = []

    def add() -> str:
        path = f"/contacts-{uuid.uuid4().hex[:8]}"
        answer = api.post("/api/account/webhooks",
                          json={"type": "contact_created", "webhooks": [receiver.url(path)]})
        assert answer.status_code == 200, answer.text
        added.append(receiver.url(path))
        return path

    yield add
    if added:
        api.request("DELETE", "/api/account/webhooks",
                    json={"webhooks": added, "type": "contact_created"})


def error_of(answer: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["status"] == "ERROR"
    return body


def validation(answer: httpx.Response, field: str) -> None:
    body = error_of(answer)
    assert body["error_code"] == 4000, body
    assert f"`{field}`" in body["message"], body


# -- every endpoint through the SDK ---------------------------------------------------------------


def test_create_retrieve_update_and_delete_a_contact(sdk: SendblueAPI) -> None:
    number = fresh()
    created = sdk.contacts.create(
        number=number, body_first_name_1="Ada", body_last_name_2="Lovelace",
        body_assigned_to_email_1="owner@example.com", body_sendblue_number_1=SANDBOX_LINE,
        custom_variables={"plan": "gold", "city": "London"}, tags=["vip", "beta", "vip"])
    assert created.status == "OK"
    contact = created.contact
    assert contact is not None
    assert contact.phone == number and contact.contact_id and contact.contact_id.startswith("ct_")
    assert (contact.first_name, contact.last_name) == ("Ada", "Lovelace")
    assert contact.assigned_to_email == "owner@example.com"
    assert contact.sendblue_number == SANDBOX_LINE
    assert contact.custom_variables == {"plan": "gold", "city": "London"}
    assert contact.tags == ["vip", "beta"]
    assert (contact.opt_out, contact.verified) == (False, False)
    assert contact.created_at is not None
    assert abs(contact.created_at - datetime.now(UTC)) < timedelta(minutes=1)

    found = sdk.contacts.retrieve(number)
    assert found.status == "OK" and found.contact == contact

    updated = sdk.contacts.update(number, custom_variables={"plan": "platinum", "seat": "3"},
                                  body_company_name_2="Analytical Engines", tags=["paid"],
                                  body_opt_out_1=True)
    after = updated.contact
    assert after is not None
    # Custom variables are merged, not replaced; tags are replaced.
    assert after.custom_variables == {"plan": "platinum", "city": "London", "seat": "3"}
    assert after.company_name == "Analytical Engines" and after.tags == ["paid"]
    assert after.opt_out is True
    assert (after.contact_id, after.created_at, after.first_name) == (
        contact.contact_id, contact.created_at, "Ada")
    assert sdk.contacts.retrieve(number).contact == after

    assert sdk.contacts.delete(number).status == "OK"
    with pytest.raises(NotFoundError) as missing:
        sdk.contacts.retrieve(number)
    assert number in missing.value.body["message"]  # type: ignore[index]
    with pytest.raises(NotFoundError):
        sdk.contacts.delete(number)
    with pytest.raises(NotFoundError):
        sdk.contacts.update(number, body_first_name_1="Gone")


def test_creating_an_existing_contact_is_a_409_unless_update_if_exists(
    server: ServerProcess, sdk: SendblueAPI
) -> None:
    number = fresh()
    sdk.contacts.create(number=number, body_first_name_1="First",
                        custom_variables={"a": "1"})
    requests: list[httpx.Request] = []
    counting = httpx.Client(event_hooks={"request": [requests.append]})
    # A client with the SDK's default retries: 409 is retryable, so the answer says not to.
    retrying = SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url,
                           http_client=counting)
    with retrying, pytest.raises(ConflictError) as conflict:
        retrying.contacts.create(number=number, body_first_name_1="Second")
    assert len(requests) == 1
    body = conflict.value.body
    assert isinstance(body, dict)
    assert body["error_code"] == 4000 and body["error_key"] == "CONTACT_EXISTS"
    assert "update_if_exists" in body["message"] and number in body["message"]
    assert sdk.contacts.retrieve(number).contact.first_name == "First"  # type: ignore[union-attr]

    upserted = sdk.contacts.create(number=number, body_first_name_1="Second",
                                   custom_variables={"b": "2"}, update_if_exists=True)
    assert upserted.contact is not None
    assert upserted.contact.first_name == "Second"
    assert upserted.contact.custom_variables == {"a": "1", "b": "2"}
    assert upserted.to_dict()["created"] is False
    fresh_number = fresh()
    new = sdk.contacts.create(number=fresh_number, update_if_exists=True)
    assert new.contact is not None and new.contact.phone == fresh_number
    assert new.to_dict()["created"] is True


def test_the_deprecated_aliases_of_the_create_fields(sdk: SendblueAPI,
                                                     api: httpx.Client) -> None:
    number = fresh()
    answer = api.post(BASE, json={"phoneNumber": number, "firstName": "Grace",
                                  "lastName": "Hopper", "companyName": "Navy",
                                  "assignedToEmail": "a@example.com",
                                  "sendblueNumber": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text
    contact = answer.json()["contact"]
    assert contact["phone"] == number
    assert (contact["first_name"], contact["last_name"], contact["company_name"]) == (
        "Grace", "Hopper", "Navy")
    assert contact["assigned_to_email"] == "a@example.com"
    assert contact["sendblue_number"] == SANDBOX_LINE
    # phone_number through the SDK's own kwarg; `number` wins over it when both are given.
    second = fresh()
    made = sdk.contacts.create(number=second, body_phone_number_1=fresh(),
                               body_first_name_2="Camel")
    assert made.contact is not None
    assert (made.contact.phone, made.contact.first_name) == (second, "Camel")
    # The preferred name wins over its alias.
    answer = api.put(f"{BASE}/{number}", json={"first_name": "Snake", "firstName": "Camel",
                                               "optOut": True})
    assert answer.json()["contact"]["first_name"] == "Snake"
    assert answer.json()["contact"]["opt_out"] is True


def test_list_is_a_bare_array_with_filters_order_and_paging(sdk: SendblueAPI,
                                                            api: httpx.Client) -> None:
    since = datetime.now(UTC) - timedelta(milliseconds=5)
    numbers = [fresh() for _ in range(3)]
    for number in numbers:
        sdk.contacts.create(number=number)
        time.sleep(0.005)  # distinct created_at
    raw = api.get(BASE, params={"created_at_gte": since.isoformat()})
    assert raw.status_code == 200 and isinstance(raw.json(), list)

    ascending = sdk.contacts.list(created_at_gte=since, order_by="created_at",
                                  order_direction="asc")
    assert [c.phone for c in ascending] == numbers
    newest_first = sdk.contacts.list(created_at_gte=since)  # default: created_at, desc
    assert [c.phone for c in newest_first] == numbers[::-1]
    camel = sdk.contacts.list(created_at_gte=since, order_by="createdAt",
                              order_direction="asc", limit=2, offset=1)
    assert [c.phone for c in camel] == numbers[1:]
    by_phone = sdk.contacts.list(created_at_gte=since, order_by="phone", order_direction="desc")
    assert [c.phone for c in by_phone] == sorted(numbers, reverse=True)

    one = sdk.contacts.list(phone_number=numbers[1])
    assert [c.phone for c in one] == [numbers[1]]
    by_id = sdk.contacts.list(cid=one[0].contact_id)
    assert [c.phone for c in by_id] == [numbers[1]]
    assert sdk.contacts.list(cid="ct_nothing") == []
    later = datetime.now(UTC) + timedelta(hours=1)
    assert sdk.contacts.list(created_at_gte=later) == []
    # The CLI's recovery form: a `+` of the offset left unencoded arrives as a space.
    unencoded = f"{BASE}?created_at_gte={since.isoformat()}&order_by=created_at&order_direction=asc"
    answer = api.get(unencoded)
    assert [c["phone"] for c in answer.json()] == numbers
    # More than 1000 is served as 1000 ("capped at 1000").
    assert api.get(BASE, params={"limit": 5000}).status_code == 200


def test_list_query_errors_name_the_parameter(api: httpx.Client) -> None:
    for params, field in (
        ({"limit": "0"}, "limit"), ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"), ({"offset": "10001"}, "offset"),
        ({"order_by": "favourite_colour"}, "order_by"),
        ({"order_direction": "sideways"}, "order_direction"),
        ({"created_at_gte": "yesterday"}, "created_at_gte"),
        ({"created_at_gte": "2024-01-01T00:00:00"}, "created_at_gte"),
        ({"phone_number": "12"}, "phone_number"),
    ):
        validation(api.get(BASE, params=params), field)


def test_count(sdk: SendblueAPI) -> None:
    before = sdk.contacts.count()
    assert before.status == "OK" and isinstance(before.count, int)
    for _ in range(3):
        sdk.contacts.create(number=fresh())
    assert sdk.contacts.count().count == before.count + 3


def test_opt_out_and_back_in_refuses_then_allows_sends(sdk: SendblueAPI,
                                                       api: httpx.Client) -> None:
    number = fresh()  # not a contact yet: opting it out makes it one, opted out
    answer = sdk.contacts.opt_out(number=number)
    assert (answer.status, answer.number, answer.opted_out) == ("OK", number, True)
    assert sdk.contacts.retrieve(number).contact.opt_out is True  # type: ignore[union-attr]
    refused = api.post("/api/send-message", json={"number": number, "content": "hi",
                                                   "from_number": SANDBOX_LINE})
    assert refused.status_code == 400, refused.text
    assert (refused.json()["error_code"], refused.json()["error_key"]) == (4002, "OPTED_OUT")

    back = sdk.contacts.opt_out(number=number, opted_out=False)
    assert back.opted_out is False
    assert sdk.contacts.retrieve(number).contact.opt_out is False  # type: ignore[union-attr]
    sent = api.post("/api/send-message", json={"number": number, "content": "welcome back",
                                               "from_number": SANDBOX_LINE})
    assert sent.status_code == 200, sent.text

    # PUT opt_out goes the same way (the same record inbound STOP sets).
    sdk.contacts.update(number, body_opt_out_1=True)
    refused = api.post("/api/send-message", json={"number": number, "content": "again",
                                                   "from_number": SANDBOX_LINE})
    assert refused.status_code == 400 and refused.json()["error_key"] == "OPTED_OUT"
    # Opting a stranger back in makes no contact.
    stranger = fresh()
    assert sdk.contacts.opt_out(number=stranger, opted_out=False).opted_out is False
    with pytest.raises(NotFoundError):
        sdk.contacts.retrieve(stranger)


def test_verify_marks_a_contact_verified(sdk: SendblueAPI) -> None:
    number = fresh()
    sdk.contacts.create(number=number)
    assert sdk.contacts.verify(number=number).status == "OK"
    assert sdk.contacts.retrieve(number).contact.verified is True  # type: ignore[union-attr]
    newcomer = fresh()
    assert sdk.contacts.verify(number=newcomer).status == "OK"
    assert sdk.contacts.retrieve(newcomer).contact.verified is True  # type: ignore[union-attr]


def test_bulk_create_and_bulk_delete(sdk: SendblueAPI) -> None:
    existing = fresh()
    sdk.contacts.create(number=existing, body_first_name_1="Old", custom_variables={"a": "1"})
    new_one, new_two = fresh(), fresh()
    answer = sdk.contacts.bulk.create(contacts=[
        {"phone": new_one, "first_name": "One", "tags": ["import"]},
        {"phone": existing, "last_name": "Known", "custom_variables": {"b": "2"}},
        {"phone": new_two, "company_name": "Two Inc", "custom_variables": {"k": "v"}},
    ])
    assert answer.status == "OK" and answer.contacts is not None
    assert [c.phone for c in answer.contacts] == [new_one, existing, new_two]
    assert answer.to_dict()["created"] == 2 and answer.to_dict()["updated"] == 1
    one, known, two = answer.contacts
    assert (one.first_name, one.tags) == ("One", ["import"])
    assert (known.first_name, known.last_name) == ("Old", "Known")
    assert known.custom_variables == {"a": "1", "b": "2"}
    assert (two.company_name, two.custom_variables) == ("Two Inc", {"k": "v"})
    assert sdk.contacts.retrieve(new_two).contact == two

    gone = sdk.contacts.bulk.delete(contact_ids=[new_one, existing, fresh()])
    assert (gone.status, gone.amount) == ("OK", 2)
    for number in (new_one, existing):
        with pytest.raises(NotFoundError):
            sdk.contacts.retrieve(number)
    # A contact id works too.
    assert two.contact_id is not None
    assert sdk.contacts.bulk.delete(contact_ids=[two.contact_id]).amount == 1
    assert sdk.contacts.bulk.delete(contact_ids=[]).amount == 0


def test_bulk_errors_name_the_item(api: httpx.Client) -> None:
    validation(api.post(f"{BASE}/bulk", json={}), "contacts")
    validation(api.post(f"{BASE}/bulk", json={"contacts": "+16465550000"}), "contacts")
    validation(api.post(f"{BASE}/bulk", json={"contacts": [{"phone": fresh()}, {}]}),
               "contacts[1].phone")
    validation(api.post(f"{BASE}/bulk", json={"contacts": [{"phone": fresh()}, "x"]}),
               "contacts[1]")
    validation(api.post(f"{BASE}/bulk", json={
        "contacts": [{"phone": fresh(), "tags": [1]}]}), "contacts[0].tags[0]")
    too_many = [{"phone": fresh()} for _ in range(1001)]
    validation(api.post(f"{BASE}/bulk", json={"contacts": too_many}), "contacts")
    # All or nothing: the valid first item of a refused request was not added.
    first = fresh()
    validation(api.post(f"{BASE}/bulk", json={
        "contacts": [{"phone": first}, {"phone": "nope"}]}), "contacts[1].phone")
    assert api.get(f"{BASE}/{first}").status_code == 404
    validation(api.request("DELETE", BASE, json={"contact_ids": ["+16465550001", "911"]}),
               "contact_ids[1]")
    validation(api.request("DELETE", BASE, json={"contact_ids": "+16465550001"}),
               "contact_ids")


# -- the SDK's wire quirks, through raw httpx -----------------------------------------------------


def test_a_literal_plus_and_an_encoded_plus_in_the_path(api: httpx.Client,
                                                        server: ServerProcess) -> None:
    number = fresh()
    assert api.post(BASE, json={"number": number}).status_code == 200
    for path in (f"{BASE}/{number}", f"{BASE}/%2B{number[1:]}", f"{BASE}/%20{number[1:]}"):
        answer = api.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.json()["contact"]["phone"] == number
    # The SDK's own request line carries the `+` as it is.
    seen: list[str] = []
    hooks = {"request": [lambda request: seen.append(request.url.raw_path.decode())]}
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url, max_retries=0,
                     http_client=httpx.Client(event_hooks=hooks)) as client:
        client.contacts.retrieve(number)
    assert seen == [f"{BASE}/{number}"]
    # A number without its country code is an error that says so, not a miss.
    validation(api.get(f"{BASE}/{number[2:]}"), "phone_number")


def test_delete_with_an_empty_json_body_and_bulk_delete_with_a_json_body(
    api: httpx.Client,
) -> None:
    number, first, second = fresh(), fresh(), fresh()
    for each in (number, first, second):
        assert api.post(BASE, json={"number": each}).status_code == 200
    answer = api.request("DELETE", f"{BASE}/{number}", content=b"",
                         headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "OK"}
    # Whatever body a DELETE of one contact carries is ignored.
    assert api.request("DELETE", f"{BASE}/{first}", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 200
    answer = api.request("DELETE", BASE, json={"contact_ids": [second]})
    assert answer.status_code == 200 and answer.json() == {"status": "OK", "amount": 1}
    error_of(api.request("DELETE", BASE, content=b"",
                         headers={"content-type": "application/json"}))


def test_the_fixed_paths_are_not_phone_numbers(sdk: SendblueAPI, api: httpx.Client) -> None:
    assert isinstance(sdk.contacts.count().count, int)
    for method, path in (("GET", "opt-out"), ("GET", "verify"), ("GET", "bulk"),
                         ("DELETE", "count"), ("PUT", "opt-out"), ("POST", "count")):
        answer = api.request(method, f"{BASE}/{path}")
        assert answer.status_code == 405, (method, path, answer.text)
    number = fresh()
    assert api.post(f"{BASE}/{number}", json={}).status_code == 405


# -- validation -----------------------------------------------------------------------------------


def test_bad_input_is_a_400_that_names_the_field(api: httpx.Client) -> None:
    for body, field in (
        ({}, "number"),
        ({"number": ""}, "number"),
        ({"number": 14155550100}, "number"),
        ({"number": "hello"}, "number"),
        ({"number": "4155550100"}, "number"),
        ({"number": fresh(), "first_name": 7}, "first_name"),
        ({"number": fresh(), "firstName": ["x"]}, "firstName"),
        ({"number": fresh(), "custom_variables": ["a"]}, "custom_variables"),
        ({"number": fresh(), "custom_variables": {"age": 40}}, "custom_variables.age"),
        ({"number": fresh(), "tags": "vip"}, "tags"),
        ({"number": fresh(), "assigned_to_email": "nobody"}, "assigned_to_email"),
        ({"number": fresh(), "sendblue_number": "+14155550100"}, "sendblue_number"),
        ({"number": fresh(), "sendblue_number": "line one"}, "sendblue_number"),
        ({"number": fresh(), "update_if_exists": "yes"}, "update_if_exists"),
    ):
        validation(api.post(BASE, json=body), field)
    blocked = error_of(api.post(BASE, json={"number": "911"}))
    assert blocked["error_code"] == 4002
    error_of(api.post(BASE, content=b"{oops", headers={"content-type": "application/json"}))
    error_of(api.post(BASE, json=["+16465550000"]))

    number = fresh()
    assert api.post(BASE, json={"number": number}).status_code == 200
    validation(api.put(f"{BASE}/{number}", json={"opt_out": "true"}), "opt_out")
    validation(api.put(f"{BASE}/{number}", json={"tags": [None]}), "tags[0]")
    validation(api.post(f"{BASE}/opt-out", json={"number": number, "opted_out": 1}),
               "opted_out")
    validation(api.post(f"{BASE}/opt-out", json={}), "number")
    validation(api.post(f"{BASE}/verify", json={"number": "x"}), "number")
    validation(api.get(f"{BASE}/not-a-number"), "phone_number")
    # An empty PUT changes nothing; a null clears a field, a null variable removes it.
    assert api.put(f"{BASE}/{number}", json={"first_name": "Kim",
                                             "custom_variables": {"a": "1", "b": "2"}}
                   ).status_code == 200
    assert api.put(f"{BASE}/{number}", content=b"").json()["contact"]["first_name"] == "Kim"
    cleared = api.put(f"{BASE}/{number}", json={"first_name": None,
                                                "custom_variables": {"a": None}})
    assert cleared.json()["contact"]["first_name"] is None
    assert cleared.json()["contact"]["custom_variables"] == {"b": "2"}


def test_an_unknown_contact_is_a_json_404(api: httpx.Client) -> None:
    number = fresh()
    for method in ("GET", "PUT", "DELETE"):
        body = error_of(api.request(method, f"{BASE}/{number}", json={}), 404)
        assert number in body["message"]


# -- accounts -------------------------------------------------------------------------------------


def test_accounts_never_see_or_change_each_others_contacts(api: httpx.Client,
                                                          other: httpx.Client) -> None:
    mine = fresh()
    assert api.post(BASE, json={"number": mine, "first_name": "Mine"}).status_code == 200
    before = other.get(f"{BASE}/count").json()["count"]
    assert other.get(f"{BASE}/{mine}").status_code == 404
    assert other.put(f"{BASE}/{mine}", json={"first_name": "Theirs"}).status_code == 404
    assert other.delete(f"{BASE}/{mine}").status_code == 404
    assert other.request("DELETE", BASE, json={"contact_ids": [mine]}).json()["amount"] == 0
    assert other.get(BASE, params={"phone_number": mine}).json() == []
    contact_id = api.get(f"{BASE}/{mine}").json()["contact"]["contact_id"]
    assert other.get(BASE, params={"cid": contact_id}).json() == []
    assert other.request("DELETE", BASE, json={"contact_ids": [contact_id]}).json()[
        "amount"] == 0
    assert mine not in {c["number"] for c in other.get("/accounts/shared-contacts").json()[
        "contacts"]}
    # The same number is a contact of each account on its own, with its own fields.
    answer = other.post(BASE, json={"number": mine, "first_name": "Theirs"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["contact"]["contact_id"] != contact_id
    assert other.post(f"{BASE}/opt-out", json={"number": mine}).status_code == 200
    assert other.get(f"{BASE}/count").json()["count"] == before + 1
    mine_now = api.get(f"{BASE}/{mine}").json()["contact"]
    assert (mine_now["first_name"], mine_now["opt_out"]) == ("Mine", False)
    assert other.delete(f"{BASE}/{mine}").status_code == 200
    assert api.get(f"{BASE}/{mine}").status_code == 200


# -- the shared line (CLI) ------------------------------------------------------------------------


def test_shared_contacts_and_adding_one(api: httpx.Client) -> None:
    number = fresh()
    added = api.post("/accounts/verify-contact-on-shared-account", json={"recipient": number})
    assert added.status_code == 200, added.text
    body = added.json()
    assert body["status"] == "OK"
    route = body["route"]
    assert route["number"] == number and route["verified"] is False
    assert isinstance(route["id"], int) and route["createdAt"].endswith("Z")
    again = api.post("/accounts/verify-contact-on-shared-account", json={"recipient": number})
    assert again.json()["route"] == route
    contact = api.get(f"{BASE}/{number}").json()["contact"]
    assert contact["sendblue_number"] == SANDBOX_LINE

    listing = api.get("/accounts/shared-contacts").json()
    assert listing["status"] == "OK" and listing["sharedNumber"] == SANDBOX_LINE
    assert route in listing["contacts"]
    api.post(f"{BASE}/verify", json={"number": number})
    listing = api.get("/accounts/shared-contacts").json()
    assert {**route, "verified": True} in listing["contacts"]
    validation(api.post("/accounts/verify-contact-on-shared-account", json={}), "recipient")


# -- contact_created webhooks ---------------------------------------------------------------------


def test_every_new_contact_is_announced_once(sdk: SendblueAPI, api: httpx.Client,
                                             receiver: Receiver, contact_hook: AddHook) -> None:
    path = contact_hook()
    created = fresh()
    sdk.contacts.create(number=created, body_first_name_1="Hooked",
                        body_sendblue_number_1=SANDBOX_LINE)
    upserted = fresh()
    sdk.contacts.create(number=upserted, update_if_exists=True)
    bulk_one, bulk_two = fresh(), fresh()
    sdk.contacts.bulk.create(contacts=[{"phone": bulk_one}, {"phone": bulk_two},
                                       {"phone": bulk_one, "first_name": "Twice"}])
    opted = fresh()
    sdk.contacts.opt_out(number=opted)
    verified = fresh()
    sdk.contacts.verify(number=verified)
    shared = fresh()
    api.post("/accounts/verify-contact-on-shared-account", json={"recipient": shared})
    messaged = fresh()  # sending to a number makes it a contact
    assert api.post("/api/send-message", json={"number": messaged, "content": "hello",
                                               "from_number": SANDBOX_LINE}).status_code == 200
    expected = [created, upserted, bulk_one, bulk_two, opted, verified, shared, messaged]

    # None of these makes a new contact.
    with pytest.raises(ConflictError):
        sdk.contacts.create(number=created)
    sdk.contacts.create(number=created, update_if_exists=True, body_last_name_1="Again")
    sdk.contacts.bulk.create(contacts=[{"phone": upserted}])
    sdk.contacts.update(verified, body_first_name_1="V")
    sdk.contacts.opt_out(number=opted)
    sdk.contacts.verify(number=verified)
    api.post("/api/send-message", json={"number": created, "content": "known",
                                        "from_number": SANDBOX_LINE})

    wait_for(lambda: len(receiver.bodies(path)) >= len(expected))
    time.sleep(0.5)  # anything extra would have arrived by now
    bodies = receiver.bodies(path)
    assert sorted(body["phone"] for body in bodies) == sorted(expected)
    assert len(set(receiver.webhook_ids(path))) == len(expected)
    first = next(body for body in bodies if body["phone"] == created)
    contact = sdk.contacts.retrieve(created).contact
    assert contact is not None
    assert first["contact_id"] == contact.contact_id
    assert first["first_name"] == "Hooked" and first["created_at"].endswith("Z")
    assert first["contact"]["phone"] == created
    assert first["contact"]["sendblue_number"] == SANDBOX_LINE
    opted_body = next(body for body in bodies if body["phone"] == opted)
    assert opted_body["contact"]["opt_out"] is True


def test_a_deleted_contact_is_made_again_by_the_next_message(
    sdk: SendblueAPI, api: httpx.Client, receiver: Receiver, contact_hook: AddHook
) -> None:
    path = contact_hook()
    number = fresh()
    send = {"number": number, "content": "hi", "from_number": SANDBOX_LINE}
    assert api.post("/api/send-message", json=send).status_code == 200
    contact = sdk.contacts.retrieve(number).contact
    assert contact is not None and contact.sendblue_number == SANDBOX_LINE
    wait_for(lambda: len(receiver.bodies(path)) == 1)

    assert sdk.contacts.delete(number).status == "OK"
    assert api.post("/api/send-message", json=send).status_code == 200
    again = sdk.contacts.retrieve(number).contact
    assert again is not None and again.contact_id != contact.contact_id
    wait_for(lambda: len(receiver.bodies(path)) == 2)
    assert [body["contact_id"] for body in receiver.bodies(path)] == [
        contact.contact_id, again.contact_id]


def test_the_openapi_document_describes_the_contacts_api(server: ServerProcess) -> None:
    document = httpx.get(server.url + "/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    assert set(paths[BASE]) == {"get", "post", "delete"}
    assert set(paths[f"{BASE}/{{phone_number}}"]) == {"get", "put", "delete"}
    for fixed in ("count", "opt-out", "verify", "bulk"):
        assert f"{BASE}/{fixed}" in paths
    assert "/accounts/shared-contacts" in paths
    assert "/accounts/verify-contact-on-shared-account" in paths

    create = paths[BASE]["post"]
    assert {"200", "400", "401", "409"} <= set(create["responses"])
    new = schemas[create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                  .rsplit("/", 1)[1]]
    assert new["properties"]["firstName"]["deprecated"] is True
    assert new["properties"]["number"]["pattern"].startswith("^\\+")
    assert new["properties"]["assigned_to_email"]["format"] == "email"
    # The list answers a bare array of contacts, filtered and paged by its query.
    listing = paths[BASE]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/Contact"}}
    parameters = {p["name"]: p for p in listing["parameters"]}
    assert {"cid", "phone_number", "created_at_gte", "order_by", "order_direction", "limit",
            "offset"} == set(parameters)
    assert "createdAt" in parameters["order_by"]["schema"]["anyOf"][0]["enum"]
    assert parameters["offset"]["schema"]["maximum"] == 10_000
    one = paths[f"{BASE}/{{phone_number}}"]
    assert one["get"]["parameters"][0]["in"] == "path"
    assert one["put"]["requestBody"]["required"] is False
    assert "requestBody" not in one["delete"]
    bulk = schemas["BulkCreate"]["properties"]["contacts"]
    assert bulk["maxItems"] == 1000
    contact = schemas["Contact"]
    assert set(contact["required"]) == set(contact["properties"])
    assert contact["properties"]["first_name"]["anyOf"][1] == {"type": "null"}
    route = schemas["SharedContacts"]["properties"]["contacts"]["items"]
    assert route == {"$ref": "#/components/schemas/ContactRoute"}


def test_every_contacts_answer_matches_its_documented_schema(
        server: ServerProcess, api: httpx.Client) -> None:
    """The answers of a round through every endpoint, checked against the document."""
    document = httpx.get(server.url + "/openapi.json").json()

    def check(method: str, path: str, answer: httpx.Response) -> None:
        assert answer.status_code == 200, answer.text
        content = document["paths"][path][method]["responses"]["200"]["content"]
        schema = {**content["application/json"]["schema"],
                  "components": document["components"]}
        jsonschema.validate(answer.json(), schema)

    number = fresh()
    one = f"{BASE}/{{phone_number}}"
    check("post", BASE, api.post(BASE, json={"number": number, "first_name": "Ada",
                                             "custom_variables": {"a": "1"}}))
    check("get", BASE, api.get(BASE, params={"limit": 5}))
    check("get", one, api.get(f"{BASE}/{number}"))
    check("put", one, api.put(f"{BASE}/{number}", json={"tags": ["x"]}))
    check("get", f"{BASE}/count", api.get(f"{BASE}/count"))
    check("post", f"{BASE}/opt-out", api.post(f"{BASE}/opt-out", json={"number": number}))
    check("post", f"{BASE}/verify", api.post(f"{BASE}/verify", json={"number": number}))
    check("post", f"{BASE}/bulk", api.post(f"{BASE}/bulk", json={"contacts": [
        {"phone": fresh()}]}))
    check("get", "/accounts/shared-contacts", api.get("/accounts/shared-contacts"))
    check("post", "/accounts/verify-contact-on-shared-account", api.post(
        "/accounts/verify-contact-on-shared-account", json={"recipient": fresh()}))
    check("delete", one, api.delete(f"{BASE}/{number}"))
    check("delete", BASE, api.request("DELETE", BASE, json={"contact_ids": [fresh()]}))
