"""Campaigns and tags: taken by both sends, stored, shown in every answer and payload of the
message, and filters of the message list; bad values are a 400 naming the field."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for


def send(api: httpx.Client, **body: Any) -> httpx.Response:
    return api.post("/api/send-message", json={"from_number": SANDBOX_LINE, "content": "hi",
                                               **body})


def test_a_campaign_and_tags_follow_the_message_everywhere(api: httpx.Client,
                                                           server: ServerProcess) -> None:
    number = phone(331, "00")
    sent = send(api, number=number, campaign=" spring-sale ", tags=["vip", "b", "vip"])
    assert sent.status_code == 200, sent.text
    answer = sent.json()
    assert answer["campaign"] == "spring-sale"
    assert answer["tags"] == ["vip", "b"]  # spaces dropped, each tag once
    handle = answer["message_handle"]

    def read() -> dict[str, Any] | None:
        status = api.get("/api/status", params={"handle": handle}).json()
        return status if status["status"] == "READ" else None

    status = wait_for(read)
    assert (status["campaign"], status["tags"]) == ("spring-sale", ["vip", "b"])
    row = api.get(f"/api/v2/messages/{handle}").json()["data"]
    assert (row["campaign"], row["tags"]) == ("spring-sale", ["vip", "b"])
    # every event of the message (its creation and each status change) carries them
    events = server.sql("SELECT type, data FROM events WHERE message_handle = ? ORDER BY id",
                        handle)
    assert [json.loads(e["data"])["status"] for e in events] == ["QUEUED", "SENT", "DELIVERED",
                                                                  "READ"]
    for event in events:
        data = json.loads(event["data"])
        assert (data["campaign"], data["tags"]) == ("spring-sale", ["vip", "b"]), event


def test_the_message_list_filters_by_campaign_and_tag(api: httpx.Client) -> None:
    number = phone(332, "01")
    handles = {}
    for name, campaign, tags in (("a", "c1", ["x", "y"]), ("b", "c1", ["y"]),
                                 ("c", "c2", ["x"]), ("d", None, [])):
        answer = send(api, number=number, campaign=campaign, tags=tags).json()
        handles[answer["message_handle"]] = name

    def listed(**params: str) -> set[str]:
        rows = api.get("/api/v2/messages", params={"number": number, **params}).json()["data"]
        return {handles[row["message_handle"]] for row in rows}

    assert listed() == {"a", "b", "c", "d"}
    assert listed(campaign="c1") == {"a", "b"}
    assert listed(tag="x") == {"a", "c"}
    assert listed(tag="y", campaign="c1") == {"a", "b"}
    assert listed(tag="x", campaign="c2") == {"c"}
    assert listed(tag="nothing") == set()
    rows = api.get("/api/v2/messages", params={"number": number}).json()["data"]
    untagged = next(row for row in rows if handles[row["message_handle"]] == "d")
    assert (untagged["campaign"], untagged["tags"]) == (None, [])


def test_a_group_message_takes_a_campaign_and_tags(api: httpx.Client) -> None:
    numbers = [phone(333, "00"), phone(333, "01")]
    answer = api.post("/api/send-group-message", json={
        "from_number": SANDBOX_LINE, "numbers": numbers, "content": "hello all",
        "campaign": "launch", "tags": ["group"]})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["campaign"], answer.json()["tags"]) == ("launch", ["group"])
    rows = api.get("/api/v2/messages", params={"tag": "group", "campaign": "launch"}).json()
    assert [row["message_handle"] for row in rows["data"]] == [answer.json()["message_handle"]]


def test_a_form_body_takes_repeated_tags(api: httpx.Client) -> None:
    answer = api.post("/api/send-message", data={
        "from_number": SANDBOX_LINE, "number": phone(334, "00"), "content": "hi",
        "campaign": "form", "tags[]": ["one", "two"]})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["campaign"], answer.json()["tags"]) == ("form", ["one", "two"])


@pytest.mark.parametrize(
    ("extra", "mention"),
    [
        ({"campaign": "c" * 101}, "`campaign`"),
        ({"campaign": 5}, "`campaign`"),
        ({"tags": "vip"}, "`tags`"),
        ({"tags": [f"t{i}" for i in range(11)]}, "`tags`"),
        ({"tags": ["ok", "t" * 51]}, "`tags[1]`"),
        ({"tags": ["ok", 7]}, "`tags[1]`"),
        ({"tags": ["ok", "  "]}, "`tags[1]`"),
    ],
)
@pytest.mark.parametrize("path", ["/api/send-message", "/api/send-group-message"])
def test_bad_campaigns_and_tags_are_refused_naming_the_field(
        api: httpx.Client, path: str, extra: dict[str, Any], mention: str) -> None:
    body = {"from_number": SANDBOX_LINE, "content": "hi", **extra}
    if path == "/api/send-message":
        body["number"] = phone(335, "00")
    else:
        body["numbers"] = [phone(335, "00"), phone(335, "01")]
    answer = api.post(path, json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["status"] == "ERROR" and error["error_code"] == 4000
    assert mention in error["message"], error["message"]
    assert not api.get("/api/v2/messages", params={"number": phone(335, "00")}).json()["data"]
