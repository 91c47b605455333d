"""Media (README "Media"): fetched, size- and type-checked, SSRF-guarded, stored and served back,
over real HTTP against `bluewire serve` and a local file server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bluewire.domain.wire.media import FileUploaded, MediaObjectUploaded

from ..answers import assert_answer
from ..databases import Engine
from ..file_server import serving
from ..server import SANDBOX_LINE, ServerProcess, wait_for

PNG_HEADER = b"\x89PNG\r\n\x1a\n"
MB = 1024 * 1024


def _png(size: int) -> bytes:
    return PNG_HEADER + os.urandom(size - len(PNG_HEADER))


FILES: dict[str, tuple[str, bytes]] = {
    "/big.png": ("image/png", _png(6 * MB)),
    "/small.png": ("image/png", _png(1 * MB)),
    "/photo.jpg": ("image/jpeg", b"\xff\xd8\xff" + os.urandom(50_000)),
    "/page.png": ("text/html", b"<html>not a picture</html>"),
    "/signed": ("image/png", _png(20_000)),  # a signed URL: no extension, the type says
    "/CamelCase.pdf": ("application/pdf", b"%PDF-1.4 " + os.urandom(1000)),
}


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    with serving(FILES, unsized=frozenset({"/big.png"})) as url:
        yield url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("media"), env={
        "BLUEWIRE_MEDIA_FETCH": "1", "BLUEWIRE_MEDIA_TTL_MS": "3000",
    }, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory,
            engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("media-guarded"), env={
        "BLUEWIRE_MEDIA_FETCH": "1", "BLUEWIRE_ALLOW_PRIVATE_WEBHOOKS": "0",
    }, engine=engine).start()
    yield process
    process.stop()


def phone(suffix: str) -> str:
    return f"+1415555{suffix}"


def _received(api: httpx.Client, number: str) -> list[dict[str, object]]:
    view = api.get(f"/sandbox/phones/{number}").json()
    return [m for c in view["conversations"] for m in c["received"]]


def test_six_megabytes_is_refused_naming_the_limit(api: httpx.Client, files: str) -> None:
    answer = api.post("/api/send-message", json={
        "number": phone("0101"), "from_number": SANDBOX_LINE, "media_url": f"{files}/big.png"})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error_code"] == 4000
    assert "5 MB" in body["message"] and "limit" in body["message"]


def test_a_group_message_fetches_its_media_the_same_way(api: httpx.Client, files: str) -> None:
    numbers = [phone("0110"), phone("0111")]
    refused = api.post("/api/send-group-message", json={
        "numbers": numbers, "from_number": SANDBOX_LINE, "content": "too big",
        "media_url": f"{files}/big.png"})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error_code"] == 4000 and "5 MB" in refused.json()["message"]
    sent = api.post("/api/send-group-message", json={
        "numbers": numbers, "from_number": SANDBOX_LINE, "content": "fits",
        "media_url": f"{files}/small.png"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["media_url"] == f"{files}/small.png"


def test_one_megabyte_png_reaches_the_phone(api: httpx.Client, files: str) -> None:
    number = phone("0102")
    url = f"{files}/small.png"
    answer = api.post("/api/send-message", json={
        "number": number, "from_number": SANDBOX_LINE, "media_url": url,
        "content": "a picture", "send_style": "celebration"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "QUEUED" and body["media_url"] == url
    assert body["send_style"] == "celebration"
    received = wait_for(lambda: _received(api, number))
    assert received[0]["media_url"] == url and received[0]["content"] == "a picture"
    handle = body["message_handle"]
    status = api.get("/api/status", params={"handle": handle}).json()
    assert status["status"] != "QUEUED" and status["send_style"] == "celebration"


def test_send_style_is_null_when_unused(api: httpx.Client) -> None:
    body = api.post("/api/send-message", json={
        "number": phone("0103"), "from_number": SANDBOX_LINE, "content": "plain"}).json()
    assert "send_style" in body and body["send_style"] is None


def test_wrong_content_type_is_refused(api: httpx.Client, files: str) -> None:
    answer = api.post("/api/send-message", json={
        "number": phone("0104"), "from_number": SANDBOX_LINE, "media_url": f"{files}/page.png"})
    assert answer.status_code == 400 and answer.json()["error_code"] == 4000
    assert "text/html" in answer.json()["message"] and ".png" in answer.json()["message"]


def test_a_private_address_is_refused_with_the_guard_on(guarded: ServerProcess,
                                                        files: str) -> None:
    with guarded.client() as api:
        answer = api.post("/api/send-message", json={
            "number": phone("0105"), "from_number": SANDBOX_LINE,
            "media_url": f"{files}/small.png"})
        assert answer.status_code == 400 and answer.json()["error_code"] == 4000
        assert "loopback" in answer.json()["message"]
        named = api.post("/api/send-message", json={
            "number": phone("0105"), "from_number": SANDBOX_LINE,
            "media_url": "http://localhost:9/x.png"})
        assert named.status_code == 400 and "refused" in named.json()["message"]


def test_upload_media_object_then_send_it(api: httpx.Client, server: ServerProcess,
                                          files: str) -> None:
    upload = api.post("/api/upload-media-object", json={"media_url": f"{files}/signed?sig=abc"})
    assert upload.status_code == 200, upload.text
    body = upload.json()
    assert_answer(body, MediaObjectUploaded)
    assert body["status"] == "OK" and body["message"]
    media_id = body["mediaObjectId"]
    assert media_id.startswith("mo_")
    number = phone("0106")
    for reference in (media_id, f"bluewire-media://{media_id}"):
        sent = api.post("/api/send-message", json={
            "number": number, "from_number": SANDBOX_LINE, "media_url": reference})
        assert sent.status_code == 200, sent.text
        link = sent.json()["media_url"]
        assert link.startswith(server.url + "/media/" + media_id + "/")
        download = httpx.get(link)
        assert download.status_code == 200
        assert download.headers["content-type"] == "image/png"
        assert download.content == FILES["/signed"][1]
    unknown = api.post("/api/send-message", json={
        "number": number, "from_number": SANDBOX_LINE, "media_url": "mo_" + "x" * 32})
    assert unknown.status_code == 400 and "no media object" in unknown.json()["message"]


def test_an_inbound_picture_downloads_then_expires(api: httpx.Client, server: ServerProcess,
                                                   files: str) -> None:
    number = phone("0107")
    hello = {"number": number, "from_number": SANDBOX_LINE, "content": "send me a photo"}
    assert api.post("/api/send-message", json=hello).status_code == 200  # now a contact
    sent = api.post(f"/sandbox/phones/{number}/messages",
                    json={"content": "look", "media_url": f"{files}/photo.jpg"})
    assert sent.status_code == 200, sent.text
    handle = sent.json()["message_handles"][0]
    message = api.get(f"/api/v2/messages/{handle}").json()["data"]
    link = message["media_url"]
    assert link.startswith(server.url + "/media/mo_") and link.endswith(".jpg")
    download = httpx.get(link)  # no key: the id is the secret
    assert download.status_code == 200 and download.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(download.content).digest() == \
        hashlib.sha256(FILES["/photo.jpg"][1]).digest()
    time.sleep(3.2)  # this server's media links last 3 s
    assert httpx.get(link).status_code == 410


def test_an_inbound_picture_too_large_is_refused(api: httpx.Client, files: str) -> None:
    answer = api.post(f"/sandbox/phones/{phone('0108')}/messages",
                      json={"media_url": f"{files}/big.png"})
    assert answer.status_code == 400 and "5 MB" in answer.json()["message"]


def test_download_of_an_unknown_id_is_404(server: ServerProcess) -> None:
    assert httpx.get(f"{server.url}/media/mo_{'a' * 32}/x.png").status_code == 404


def test_upload_file_and_cli_send_media(api: httpx.Client, server: ServerProcess,
                                        tmp_path: Path, files: str) -> None:
    picture = tmp_path / "Welcome Image.png"
    picture.write_bytes(FILES["/small.png"][1])
    number = phone("0109")
    result = server.cli("send", number, "hello", "--media", str(picture))
    assert "QUEUED" in result.stdout
    received = wait_for(lambda: _received(api, number))
    link = str(received[0]["media_url"])
    assert "/media/mo_" in link and link.endswith(".png")
    assert httpx.get(link).content == picture.read_bytes()
    by_url = server.cli("send", number, "--media", f"{files}/CamelCase.pdf")
    assert "QUEUED" in by_url.stdout
    upload = api.post("/api/upload-file", files={"file": ("notes.exe", b"MZ")})
    assert upload.status_code == 400 and "extension" in upload.json()["message"]
    upload = api.post("/api/upload-file", files={"file": ("Welcome.png", picture.read_bytes())})
    assert upload.status_code == 200, upload.text
    assert_answer(upload.json(), FileUploaded)
    assert httpx.get(upload.json()["media_url"]).content == picture.read_bytes()


def test_upload_media_object_needs_a_media_url(api: httpx.Client) -> None:
    for body in ({}, {"media_url": 5}, {"media_url": "ftp://example.com/a.png"}):
        answer = api.post("/api/upload-media-object", json=body)
        assert answer.status_code == 400 and answer.json()["error_code"] == 4000, answer.text
        assert "`media_url`" in answer.json()["message"]


def test_openapi_describes_the_media_endpoints(server: ServerProcess) -> None:
    document = httpx.get(server.url + "/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    by_url = paths["/api/upload-media-object"]["post"]
    assert by_url["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UploadMediaObject"}
    assert schemas["UploadMediaObject"]["required"] == ["media_url"]
    upload = paths["/api/upload-file"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    form = schemas[upload["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert form["required"] == ["file"] and form["properties"]["file"]["format"] == "binary"
    download = paths["/media/{media_id}/{filename}"]["get"]
    assert download["security"] == []  # the id is the secret
    assert [p["name"] for p in download["parameters"]] == ["media_id", "filename"]
    assert download["responses"]["200"]["content"]["*/*"]["schema"]["format"] == "binary"
    assert {"404", "410"} <= set(download["responses"])
