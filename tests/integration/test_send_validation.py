"""Bad input gets a clear error: HTTP status, error_code, and a message naming what to fix."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ..server import SANDBOX_LINE

PHONE = "+14155550100"


def send(api: httpx.Client, **body: Any) -> httpx.Response:
    return api.post("/api/send-message", json={"from_number": SANDBOX_LINE, **body})


def assert_error(response: httpx.Response, http_status: int, error_code: int | None,
                 *mentions: str) -> dict[str, Any]:
    assert response.status_code == http_status, response.text
    body = response.json()
    assert body["status"] == "ERROR"
    assert body.get("error_code") == error_code
    for text in mentions:
        assert text in body["message"], body["message"]
        assert body["error_message"] == body["message"]
    return body


@pytest.mark.parametrize(
    ("body", "mention"),
    [
        ({"content": "hi"}, "`number`"),
        ({"number": "", "content": "hi"}, "`number`"),
        ({"number": 14155550100, "content": "hi"}, "`number`"),
        ({"number": "4155550100", "content": "hi"}, "E.164"),
        ({"number": "+1415555010", "content": "hi"}, "`number`"),
        ({"number": "not a number", "content": "hi"}, "`number`"),
        ({"number": PHONE}, "`content` or `media_url`"),
        ({"number": PHONE, "content": ""}, "`content` or `media_url`"),
        ({"number": PHONE, "content": 5}, "`content`"),
        ({"number": PHONE, "content": "x" * 18996}, "18996"),
        ({"number": PHONE, "media_url": "ftp://cdn.example.com/a.png"}, "`media_url`"),
        ({"number": PHONE, "media_url": "https://cdn.example.com/image"}, "extension"),
        ({"number": PHONE, "content": "hi", "send_style": "sparkles"}, "`send_style`"),
        ({"number": PHONE, "content": "hi", "status_callback": "not a url"},
         "`status_callback`"),
        ({"number": PHONE, "content": "hi", "status_callback": "mailto:a@b.c"},
         "`status_callback`"),
        ({"number": PHONE, "content": "hi", "from_number": "+14155550123"}, "`from_number`"),
        ({"number": PHONE, "content": "hi", "from_number": "12"}, "`from_number`"),
        ({"number": SANDBOX_LINE, "content": "hi"}, "sending line"),
    ],
)
def test_invalid_send_is_refused_with_4000_naming_the_field(
    api: httpx.Client, body: dict[str, Any], mention: str
) -> None:
    assert_error(send(api, **body), 400, 4000, mention)


@pytest.mark.parametrize("number", ["911", "112", "+1911", "12345", "+44999"])
def test_emergency_and_short_numbers_are_refused_with_4002(api: httpx.Client,
                                                          number: str) -> None:
    assert_error(send(api, number=number, content="hi"), 400, 4002, "`number`", "emergency")


def test_content_just_under_the_limit_is_accepted(api: httpx.Client) -> None:
    response = send(api, number=PHONE, content="x" * 18995)
    assert response.status_code == 200, response.text
    assert len(response.json()["content"]) == 18995


def test_media_only_message_with_a_style_and_callback_is_accepted(api: httpx.Client) -> None:
    response = send(api, number=PHONE, media_url="https://cdn.example.com/Welcome.PNG?v=2",
                    send_style="confetti", status_callback="https://hooks.example.com/status")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["media_url"] == "https://cdn.example.com/Welcome.PNG?v=2"
    assert body["send_style"] == "confetti"
    assert body["content"] is None


def test_a_number_in_loose_format_is_stored_in_e164(api: httpx.Client) -> None:
    response = send(api, number="+1 (415) 555-0100", content="hi")
    assert response.status_code == 200, response.text
    assert response.json()["number"] == PHONE


def test_send_style_is_null_when_unused(api: httpx.Client) -> None:
    assert send(api, number=PHONE, content="hi").json()["send_style"] is None


@pytest.mark.parametrize(
    ("raw", "mention"),
    [
        (b'{"number": "+14155550100", "content": ', "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"", "JSON object"),
        (b'"just a string"', "JSON object"),
    ],
)
def test_malformed_bodies_get_400(api: httpx.Client, raw: bytes, mention: str) -> None:
    response = api.post("/api/send-message", content=raw,
                        headers={"content-type": "application/json"})
    assert_error(response, 400, 4000, mention)


def test_an_oversized_body_gets_400_not_a_hang(api: httpx.Client) -> None:
    big = b'{"number": "+14155550100", "content": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = api.post("/api/send-message", content=big,
                        headers={"content-type": "application/json"})
    assert_error(response, 400, 4000, "larger than")


def test_unknown_paths_and_methods_answer_json(api: httpx.Client) -> None:
    missing = api.get("/api/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["status"] == "ERROR"
    wrong_method = api.get("/api/send-message")
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.json()["message"]


def test_status_needs_a_handle_and_answers_404_for_an_unknown_one(api: httpx.Client) -> None:
    assert_error(api.get("/api/status"), 400, 4000, "`handle`")
    unknown = api.get("/api/status", params={"handle": "no-such-handle"})
    assert unknown.status_code == 404
    assert "no-such-handle" in unknown.json()["message"]


@pytest.mark.parametrize(
    ("query", "mention"),
    [
        ({"limit": "0"}, "`limit`"),
        ({"limit": "1001"}, "`limit`"),
        ({"limit": "ten"}, "`limit`"),
        ({"offset": "-1"}, "`offset`"),
        ({"is_outbound": "yes"}, "`is_outbound`"),
        ({"order_by": "content"}, "`order_by`"),
        ({"order_direction": "up"}, "`order_direction`"),
        ({"status": "LOST"}, "`status`"),
        ({"created_at_gte": "yesterday"}, "`created_at_gte`"),
        ({"number": "abc"}, "`number`"),
    ],
)
def test_bad_list_filters_get_400_naming_the_parameter(api: httpx.Client,
                                                       query: dict[str, str],
                                                       mention: str) -> None:
    assert_error(api.get("/api/v2/messages", params=query), 400, 4000, mention)


def test_evaluate_service_needs_a_valid_number(api: httpx.Client) -> None:
    assert_error(api.get("/api/evaluate-service"), 400, 4000, "`number`")
    assert_error(api.get("/api/evaluate-service", params={"number": "415"}), 400, 4002,
                 "`number`")
