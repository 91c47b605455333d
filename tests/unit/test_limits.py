"""Content length, send styles, media URLs and status callback URLs, as
Sendblue's send-message docs set them."""

from __future__ import annotations

import pytest

from bluewire.domain.errors import ApiError
from bluewire.domain.limits import (
    MAX_CONTENT_CHARS,
    MEDIA_EXTENSIONS,
    SEND_STYLES,
    check_content,
    check_http_url,
    check_media_url,
    check_send_style,
    check_status_callback,
)

THIRTEEN_STYLES = [
    "celebration", "shooting_star", "fireworks", "lasers", "love", "confetti", "balloons",
    "spotlight", "echo", "invisible", "gentle", "loud", "slam",
]


def assert_validation_error(caught: pytest.ExceptionInfo[ApiError], *mentions: str) -> None:
    error = caught.value
    assert (error.http_status, error.error_code) == (400, 4000)
    for text in mentions:
        assert text in error.message, error.message


def test_content_must_be_under_18996_characters() -> None:
    assert MAX_CONTENT_CHARS == 18996


@pytest.mark.parametrize("length", [0, 1, 160, 18995])
def test_content_shorter_than_the_limit_is_accepted(length: int) -> None:
    content = "x" * length
    assert check_content(content) == content


@pytest.mark.parametrize("length", [18996, 18997, 100_000])
def test_content_at_or_over_the_limit_is_refused(length: int) -> None:
    with pytest.raises(ApiError) as caught:
        check_content("x" * length)
    assert_validation_error(caught, "`content`", str(length), "18996")


def test_content_length_counts_characters_not_bytes() -> None:
    content = "é" * 18995
    assert check_content(content) == content


def test_missing_content_is_none() -> None:
    assert check_content(None) is None


@pytest.mark.parametrize("value", [42, 1.5, True, ["hi"], {"text": "hi"}, b"hi"])
def test_non_string_content_is_refused(value: object) -> None:
    with pytest.raises(ApiError) as caught:
        check_content(value)
    assert_validation_error(caught, "`content` must be a string")


def test_content_errors_name_the_field_they_were_given() -> None:
    with pytest.raises(ApiError) as caught:
        check_content(7, "caption")
    assert_validation_error(caught, "`caption`")


def test_the_thirteen_send_styles_are_known() -> None:
    assert set(THIRTEEN_STYLES) == SEND_STYLES


@pytest.mark.parametrize("style", THIRTEEN_STYLES)
def test_every_send_style_is_accepted(style: str) -> None:
    assert check_send_style(style) == style


@pytest.mark.parametrize("style", [None, ""])
def test_no_send_style_is_none(style: str | None) -> None:
    assert check_send_style(style) is None


@pytest.mark.parametrize("style", ["Slam", "SLAM", " slam", "shooting-star", "confettii", "none",
                                   0, True, ["slam"]])
def test_other_send_styles_are_refused_listing_the_valid_ones(style: object) -> None:
    with pytest.raises(ApiError) as caught:
        check_send_style(style)
    assert_validation_error(caught, "`send_style`", *THIRTEEN_STYLES)


@pytest.mark.parametrize("url", [
    "https://cdn.example.com/WelcomeImage.png",
    "http://cdn.example.com/a/b/photo.JPG",
    "https://cdn.example.com/clip.mp4",
    "https://cdn.example.com/card.vcf",
    "https://cdn.example.com/doc.pdf",
    "https://cdn.example.com:8443/voice.m4a",
    "https://cdn.example.com/WelcomeImage.png?width=200&v=3",
    "https://cdn.example.com/WelcomeImage.png#top",
    "https://cdn.example.com/archive.v2/WelcomeImage.jpeg",
])
def test_media_urls_ending_in_a_media_extension_are_accepted(url: str) -> None:
    assert check_media_url(url) == url


@pytest.mark.parametrize("url", [
    "https://cdn.example.com/WelcomeImage",
    "https://cdn.example.com/WelcomeImage.exe",
    "https://cdn.example.com/images.png/",
    "https://cdn.example.com/archive.v2/WelcomeImage",
    "https://cdn.example.com/download?file=WelcomeImage.png",
    "https://cdn.example.com/download#WelcomeImage.png",
    "https://cdn.example.png",
    "https://cdn.example.com/WelcomeImage.png.html",
])
def test_media_urls_whose_path_has_no_media_extension_are_refused(url: str) -> None:
    with pytest.raises(ApiError) as caught:
        check_media_url(url)
    assert_validation_error(caught, "`media_url`", "extension", "upload-media-object")


@pytest.mark.parametrize("url", [
    "ftp://cdn.example.com/WelcomeImage.png",
    "file:///tmp/WelcomeImage.png",
    "data:image/png;base64,AAAA.png",
    "//cdn.example.com/WelcomeImage.png",
    "/WelcomeImage.png",
    "WelcomeImage.png",
    "https:///WelcomeImage.png",
])
def test_media_urls_must_be_absolute_http_urls(url: str) -> None:
    with pytest.raises(ApiError) as caught:
        check_media_url(url)
    assert_validation_error(caught, "`media_url`", "http")


@pytest.mark.parametrize("value", [None, ""])
def test_no_media_url_is_none(value: str | None) -> None:
    assert check_media_url(value) is None


@pytest.mark.parametrize("value", [42, ["https://cdn.example.com/a.png"], "   "])
def test_a_media_url_that_is_not_a_url_string_is_refused(value: object) -> None:
    with pytest.raises(ApiError) as caught:
        check_media_url(value)
    assert_validation_error(caught, "`media_url`")


def test_common_media_extensions_are_known() -> None:
    assert {"jpg", "jpeg", "png", "gif", "heic", "mp4", "mov", "mp3", "m4a", "pdf",
            "vcf"} <= MEDIA_EXTENSIONS
    assert all(ext == ext.lower() and not ext.startswith(".") for ext in MEDIA_EXTENSIONS)


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/sendblue",
    "http://localhost:8080/status",
    "http://127.0.0.1:9000/cb?token=abc",
    "https://user:secret@hooks.example.com/cb",
    "https://[::1]:8443/cb",
    "HTTPS://HOOKS.EXAMPLE.COM/cb",
])
def test_status_callbacks_must_be_absolute_http_urls(url: str) -> None:
    assert check_status_callback(url) == url


def test_a_status_callback_is_returned_without_surrounding_whitespace() -> None:
    assert check_status_callback("  https://hooks.example.com/cb \n") == (
        "https://hooks.example.com/cb"
    )


@pytest.mark.parametrize("value", [None, ""])
def test_no_status_callback_is_none(value: str | None) -> None:
    assert check_status_callback(value) is None


@pytest.mark.parametrize("url", [
    "hooks.example.com/cb",
    "/cb",
    "ftp://hooks.example.com/cb",
    "javascript:alert(1)",
    "mailto:ops@example.com",
    "https://",
    "http://:8080/cb",
    "https://hooks.example.com:0/cb",
    "https://hooks.example.com:65536/cb",
    "https://hooks.example.com:port/cb",
    "http://[::1/cb",
])
def test_status_callbacks_that_are_not_absolute_http_urls_are_refused(url: str) -> None:
    with pytest.raises(ApiError) as caught:
        check_status_callback(url)
    assert_validation_error(caught, "`status_callback`")


@pytest.mark.parametrize("value", [42, True, {"url": "https://hooks.example.com"}, " "])
def test_status_callbacks_must_be_strings(value: object) -> None:
    with pytest.raises(ApiError) as caught:
        check_status_callback(value)
    assert_validation_error(caught, "`status_callback`", "URL")


def test_urls_over_2048_characters_are_refused() -> None:
    base = "https://hooks.example.com/"
    assert check_http_url(base + "a" * (2048 - len(base)), "url")
    with pytest.raises(ApiError) as caught:
        check_http_url(base + "a" * (2049 - len(base)), "url")
    assert_validation_error(caught, "`url`", "2048")
