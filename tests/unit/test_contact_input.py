"""What the Contacts API accepts: fields and aliases, merging, the list query, path numbers."""

from __future__ import annotations

import pytest

from bluewire.domain.contact_input import (
    ContactChanges,
    parse_changes,
    parse_list_query,
    parse_number,
    path_number,
)
from bluewire.domain.contacts import Contact
from bluewire.domain.errors import ApiError


def contact(**fields: object) -> Contact:
    return Contact(id=1, contact_id="ct_1", account_id=1, number="+14155550100",
                   **fields)  # type: ignore[arg-type]


def message_of(call: object) -> str:
    with pytest.raises(ApiError) as error:
        call()  # type: ignore[operator]
    assert error.value.http_status == 400 and error.value.error_code == 4000
    return error.value.message


def test_preferred_names_win_over_their_camel_case_aliases() -> None:
    changes = parse_changes({"first_name": " Ada ", "firstName": "X", "lastName": "L",
                             "optOut": True}, allow_opt_out=True)
    assert changes.text == {"first_name": "Ada", "last_name": "L"}
    assert changes.opt_out is True
    assert parse_changes({"optOut": True}).opt_out is None  # only where opt-out is allowed


def test_errors_name_the_key_the_client_sent() -> None:
    assert "`lastName`" in message_of(lambda: parse_changes({"lastName": 3}))
    assert "`contacts[2].tags[1]`" in message_of(
        lambda: parse_changes({"tags": ["a", 2]}, where="contacts[2]."))
    assert "`custom_variables.n`" in message_of(
        lambda: parse_changes({"custom_variables": {"n": 1}}))
    assert "`assigned_to_email`" in message_of(
        lambda: parse_changes({"assigned_to_email": "x"}))


def test_custom_variables_merge_and_tags_replace() -> None:
    target = contact(custom_variables={"a": "1", "b": "2"}, tags=["old"], first_name="Kim")
    ContactChanges(text={"first_name": None}, custom_variables={"b": None, "c": "3"},
                   tags=["new"]).apply(target)
    assert target.custom_variables == {"a": "1", "c": "3"}
    assert target.tags == ["new"] and target.first_name is None


def test_tags_are_trimmed_and_deduplicated() -> None:
    assert parse_changes({"tags": [" vip", "vip", "", "beta"]}).tags == ["vip", "beta"]


def test_the_number_and_its_deprecated_aliases() -> None:
    assert parse_number({"phoneNumber": "+1 415 555 0100"}, "number",
                        ("phone_number", "phoneNumber")) == "+14155550100"
    assert parse_number({"number": "+14155550101", "phone_number": "+14155550102"}, "number",
                        ("phone_number",)) == "+14155550101"
    assert "`number`" in message_of(lambda: parse_number({}))


def test_path_numbers() -> None:
    assert path_number("+14155550100") == "+14155550100"
    assert path_number(" 14155550100") == "+14155550100"  # a `+` decoded to a space
    assert "`phone_number`" in message_of(lambda: path_number("4155550100"))


def test_the_list_query() -> None:
    query = parse_list_query({})
    assert (query.order_by, query.descending, query.limit, query.offset) == (
        "created_at", True, 100, 0)
    query = parse_list_query({"order_by": "createdAt", "order_direction": "asc",
                              "limit": "5000", "offset": "10000",
                              "created_at_gte": "2024-01-15T14:30:00.000 00:00"})
    assert (query.order_by, query.descending, query.limit, query.offset) == (
        "created_at", False, 1000, 10000)
    assert query.created_gte == 1705329000000
    for params, field in (({"limit": "0"}, "limit"), ({"offset": "10001"}, "offset"),
                          ({"order_by": "x"}, "order_by"),
                          ({"created_at_gte": "2024-01-15"}, "created_at_gte")):
        assert f"`{field}`" in message_of(lambda params=params: parse_list_query(params))
