"""What the Contacts API accepts: fields and aliases, merging, the list query, path numbers."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from bluewire.api.endpoint import convert
from bluewire.domain.contact_input import (
    ContactChanges,
    parse_changes,
    parse_list_query,
    parse_number,
    path_number,
)
from bluewire.domain.contacts import Contact
from bluewire.domain.errors import ApiError
from bluewire.domain.wire.contacts import (
    BulkCreate,
    ContactChange,
    ListContactsQuery,
    NewContact,
)


def contact(**fields: object) -> Contact:
    return Contact(id=1, contact_id="ct_1", account_id=1, number="+14155550100",
                   **fields)  # type: ignore[arg-type]


def change(**body: Any) -> ContactChange:
    return msgspec.convert(body, ContactChange)


def new(**body: Any) -> NewContact:
    return msgspec.convert(body, NewContact)


def message_of(call: object) -> str:
    with pytest.raises(ApiError) as error:
        call()  # type: ignore[operator]
    assert error.value.http_status == 400 and error.value.error_code == 4000
    return error.value.message


def test_preferred_names_win_over_their_camel_case_aliases() -> None:
    changes = parse_changes(change(first_name=" Ada ", firstName="X", lastName="L",
                                   optOut=True))
    assert changes.text == {"first_name": "Ada", "last_name": "L"}
    assert changes.opt_out is True
    # A null under the preferred name clears the field, whatever the alias says.
    assert parse_changes(change(first_name=None, firstName="X")).text == {"first_name": None}
    assert parse_changes(change(opt_out=False, optOut=True)).opt_out is False
    assert parse_changes(change()).opt_out is None
    # Only a change of a contact (PUT) reads opt_out: a new contact's body has no such field.
    assert parse_changes(new(optOut=True, opt_out=True)).opt_out is None


def test_fields_left_out_are_not_changed() -> None:
    changes = parse_changes(change())
    assert (changes.text, changes.custom_variables, changes.tags) == ({}, None, None)
    assert parse_changes(change(last_name="  ")).text == {"last_name": None}


def test_errors_name_the_key_the_client_sent() -> None:
    assert "`custom_variables.n`" in message_of(
        lambda: parse_changes(change(custom_variables={"n": 1})))
    assert "`contacts[2].custom_variables.n`" in message_of(
        lambda: parse_changes(change(custom_variables={"n": 1}), where="contacts[2]."))
    assert "`custom_variables` keys" in message_of(
        lambda: parse_changes(change(custom_variables={" ": "x"})))
    assert "`assigned_to_email`" in message_of(
        lambda: parse_changes(change(assigned_to_email="x")))
    assert "`assignedToEmail`" in message_of(
        lambda: parse_changes(change(assignedToEmail="x")))
    assert "`sendblueNumber`" in message_of(
        lambda: parse_changes(change(sendblueNumber="line one")))


def test_the_types_name_a_mistyped_field_and_its_place() -> None:
    for body, kind, field in (
        ({"lastName": 3}, ContactChange, "`lastName` must be a string"),
        ({"tags": ["a", 2]}, ContactChange, "`tags[1]` must be a string"),
        ({"opt_out": None}, ContactChange, "`opt_out` must be true or false"),
        ({"contacts": [{}, {}, {"tags": ["a", 2]}]}, BulkCreate, "`contacts[2].tags[1]`"),
        ({"contacts": [{}] * 1001}, BulkCreate, "`contacts`"),
    ):
        with pytest.raises(ApiError) as error:
            convert(body, kind, "body")
        assert field in error.value.message


def test_custom_variables_merge_and_tags_replace() -> None:
    target = contact(custom_variables={"a": "1", "b": "2"}, tags=["old"], first_name="Kim")
    ContactChanges(text={"first_name": None}, custom_variables={"b": None, "c": "3"},
                   tags=["new"]).apply(target)
    assert target.custom_variables == {"a": "1", "c": "3"}
    assert target.tags == ["new"] and target.first_name is None


def test_tags_are_trimmed_and_deduplicated() -> None:
    assert parse_changes(change(tags=[" vip", "vip", "", "beta"])).tags == ["vip", "beta"]


def test_the_number_and_its_deprecated_aliases() -> None:
    assert parse_number({"number": None, "phone_number": None,
                         "phoneNumber": "+1 415 555 0100"}) == "+14155550100"
    assert parse_number({"number": "+14155550101", "phone_number": "+14155550102"}
                        ) == "+14155550101"
    assert "`number`" in message_of(lambda: parse_number({"number": None, "phoneNumber": None}))
    assert "`phoneNumber`" in message_of(lambda: parse_number({"number": None,
                                                               "phoneNumber": "hello"}))
    assert "`contacts[1].phone`" in message_of(
        lambda: parse_number({"phone": None, "number": None}, where="contacts[1]."))


def test_path_numbers() -> None:
    assert path_number("+14155550100") == "+14155550100"
    assert path_number(" 14155550100") == "+14155550100"  # a `+` decoded to a space
    assert "`phone_number`" in message_of(lambda: path_number("4155550100"))


def query(**values: str) -> ListContactsQuery:
    return convert(values, ListContactsQuery, "parameters")


def test_the_list_query() -> None:
    parsed = parse_list_query(query())
    assert (parsed.order_by, parsed.descending, parsed.limit, parsed.offset) == (
        "created_at", True, 100, 0)
    parsed = parse_list_query(query(order_by="createdAt", order_direction="asc",
                                    limit="5000", offset="10000",
                                    created_at_gte="2024-01-15T14:30:00.000 00:00"))
    assert (parsed.order_by, parsed.descending, parsed.limit, parsed.offset) == (
        "created_at", False, 1000, 10000)
    assert parsed.created_gte == 1705329000000
    assert parse_list_query(query(order_by="phoneNumber")).order_by == "phone"
    assert "`created_at_gte`" in message_of(
        lambda: parse_list_query(query(created_at_gte="2024-01-15")))
    assert "`phone_number`" in message_of(lambda: parse_list_query(query(phone_number="12")))
    for values, field in (({"limit": "0"}, "limit"), ({"offset": "10001"}, "offset"),
                          ({"order_by": "x"}, "order_by")):
        assert f"`{field}`" in message_of(lambda values=values: query(**values))
