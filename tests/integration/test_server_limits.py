"""Slow, idle or bloated clients cannot exhaust the server: a request head must arrive whole and
soon, a body may not stall, heads are bounded in size and fields, connections in number, and a
multipart upload in parts, parsed without holding the event loop."""

from __future__ import annotations

import re
import select
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from bluewire.console.forms import MAX_FORM_FIELDS

from ..console_client import ConsoleClient
from ..databases import SQLITE, Engine
from ..server import KEY_ID, SECRET, ServerProcess

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
KEEP_ALIVE_TIMEOUT = 1.0
MAX_CONNECTIONS = 20
MAX_PARTS = 100
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERS = 100
UPLOAD_LIMIT = 5 * 1024 * 1024  # a media file's limit


@pytest.fixture(scope="module")
def engine() -> Engine:
    """Connections and parsing never touch the store: one engine is enough."""
    return SQLITE


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("limits"), env={
        "BLUEWIRE_HEADER_TIMEOUT_MS": str(int(HEADER_TIMEOUT * 1000)),
        "BLUEWIRE_BODY_TIMEOUT_MS": str(int(BODY_TIMEOUT * 1000)),
        "BLUEWIRE_KEEP_ALIVE_TIMEOUT_MS": str(int(KEEP_ALIVE_TIMEOUT * 1000)),
        "BLUEWIRE_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }).start()
    yield process
    process.stop()


def connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """What the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received, time.monotonic() - started


def ask(sock: socket.socket, path: str = "/healthz") -> bytes:
    """One keep-alive request on `sock`; the answer's head and body (small answers only)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    sock.settimeout(10)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        body += sock.recv(65536)
    return answer


def test_a_half_request_line_is_closed_after_the_header_timeout(server: ServerProcess) -> None:
    with connect(server) as slow, connect(server) as silent:
        slow.sendall(b"GET /heal")
        received, waited = read_until_closed(slow, HEADER_TIMEOUT + 5)
        assert received == b"" and HEADER_TIMEOUT * 0.8 <= waited < HEADER_TIMEOUT + 2
        received, _ = read_until_closed(silent, 5)  # sent nothing at all: closed as well
        assert received == b""


def test_a_head_trickled_byte_by_byte_is_closed_too(server: ServerProcess) -> None:
    with connect(server) as slow:
        started = time.monotonic()
        with pytest.raises(OSError):  # the server closes it mid-way: a reset, or a broken pipe
            for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
                slow.send(bytes([byte]))
                time.sleep(0.05)
                if slow in select.select([slow], [], [], 0)[0] and slow.recv(1) == b"":
                    raise ConnectionResetError("closed")
        assert time.monotonic() - started < HEADER_TIMEOUT + 2


def test_an_idle_keep_alive_connection_is_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        assert ask(sock).startswith(b"HTTP/1.1 200")
        received, waited = read_until_closed(sock, KEEP_ALIVE_TIMEOUT + 5)
        assert received == b"" and KEEP_ALIVE_TIMEOUT * 0.8 <= waited < KEEP_ALIVE_TIMEOUT + 2
        # Stray line ends between requests do not keep it open either.
    with connect(server) as sock:
        assert ask(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(b"\r\n")
        received, waited = read_until_closed(sock, HEADER_TIMEOUT + 5)
        assert received == b"" and waited < HEADER_TIMEOUT + 2


def test_a_stalled_body_is_answered_408_and_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /api/send-message HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"sb-api-key-id: " + KEY_ID.encode() + b"\r\nsb-api-secret-key: "
                     + SECRET.encode() + b"\r\ncontent-type: application/json\r\n"
                     b"content-length: 100\r\n\r\n{\"number\": ")
        received, waited = read_until_closed(sock, BODY_TIMEOUT + 5)
    assert received.startswith(b"HTTP/1.1 408"), received
    assert BODY_TIMEOUT * 0.8 <= waited < BODY_TIMEOUT + 2


def test_a_slow_but_steady_body_is_taken(server: ServerProcess) -> None:
    body = b'{"number": "+14155550100", "content": "' + b"x" * 20 + b'"}'
    with connect(server) as sock:
        sock.sendall(b"POST /api/send-message HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"sb-api-key-id: " + KEY_ID.encode() + b"\r\nsb-api-secret-key: "
                     + SECRET.encode() + b"\r\ncontent-type: application/json\r\n"
                     b"content-length: " + str(len(body)).encode() + b"\r\n\r\n")
        for start in range(0, len(body), 16):  # a pause shorter than the timeout, every time
            time.sleep(BODY_TIMEOUT / 3)
            sock.sendall(body[start:start + 16])
        sock.settimeout(10)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 ") and not answer.startswith(b"HTTP/1.1 408"), answer


def test_an_oversize_head_is_refused_431(server: ServerProcess) -> None:
    with connect(server) as sock:  # one header that never ends
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
                     + b"a" * (MAX_HEADER_BYTES + 1024))
        received, _ = read_until_closed(sock, 5)
    assert received.startswith(b"HTTP/1.1 431"), received
    assert b"larger than 16384 bytes" in received
    with connect(server) as sock:  # a whole head, too large
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
                     + b"a" * (MAX_HEADER_BYTES + 1024) + b"\r\n\r\n")
        received, _ = read_until_closed(sock, 5)
    assert received.startswith(b"HTTP/1.1 431"), received
    with connect(server) as sock:  # just within the limit: served
        head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
        sock.sendall(head + b"a" * (MAX_HEADER_BYTES - len(head) - 4) + b"\r\n\r\n")
        assert ask(sock).startswith(b"HTTP/1.1 200")


def test_too_many_header_fields_are_refused_431(server: ServerProcess) -> None:
    fields = b"".join(b"X-F%d: v\r\n" % n for n in range(MAX_HEADERS + 1))
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + b"\r\n")
        received, _ = read_until_closed(sock, 5)
    assert received.startswith(b"HTTP/1.1 431"), received
    assert b"more than 100 header fields" in received
    fields = b"".join(b"X-F%d: v\r\n" % n for n in range(MAX_HEADERS - 1))  # with Host: 100
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + b"\r\n")
        received, _ = read_until_closed(sock, 5)
    assert received.startswith(b"HTTP/1.1 200"), received


def test_connections_past_the_cap_are_refused_while_the_server_answers(
    server: ServerProcess,
) -> None:
    time.sleep(0.2)  # the other tests' connections are gone
    opened = [connect(server) for _ in range(MAX_CONNECTIONS + 5)]
    try:
        time.sleep(0.2)
        refused = [sock for sock in opened if select.select([sock], [], [], 0)[0]]
        held = [sock for sock in opened if sock not in refused]
        assert len(refused) == 5 and len(held) == MAX_CONNECTIONS
        for sock in refused:
            received, _ = read_until_closed(sock, 5)
            assert received.startswith(b"HTTP/1.1 503"), received
        assert ask(held[0]).startswith(b"HTTP/1.1 200")  # those held are served
        for sock in held:
            sock.close()
        time.sleep(0.2)
        assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
    finally:
        for sock in opened:
            sock.close()


def multipart(parts: list[tuple[str, str | None, bytes]],
              boundary: str = "bOuNdArY") -> tuple[bytes, dict[str, str]]:
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
        f'{f"; filename={chr(34)}{filename}{chr(34)}" if filename else ""}\r\n\r\n'.encode()
        + data + b"\r\n"
        for name, filename, data in parts) + f"--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


def test_an_upload_with_too_many_parts_is_a_400_that_says_so(server: ServerProcess) -> None:
    many = [(f"field{n}", None, b"x") for n in range(MAX_PARTS)]
    body, headers = multipart([*many, ("file", "a.png", b"picture")])
    with server.client() as api:
        answer = api.post("/api/upload-file", content=body, headers=headers)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error_code"] == 4000
        assert f"more than {MAX_PARTS} parts" in answer.json()["message"]
        assert "`file`" in answer.json()["message"]
        # The audit's 80,000 parts: refused at once.
        body, headers = multipart([(f"f{n}", None, b"") for n in range(80_000)])
        started = time.monotonic()
        answer = api.post("/api/upload-file", content=body, headers=headers)
        assert answer.status_code == 400 and time.monotonic() - started < 2
        # Within the limit: taken.
        body, headers = multipart([*many[:MAX_PARTS - 1], ("file", "a.png", b"picture")])
        answer = api.post("/api/upload-file", content=body, headers=headers)
        assert answer.status_code == 200, answer.text


def test_parts_nested_deep_are_only_bytes(server: ServerProcess) -> None:
    nested = b"payload"
    for depth in range(3000):
        nested = (f"--n{depth}\r\nContent-Type: multipart/mixed; boundary=n{depth + 1}\r\n\r\n"
                  .encode() + nested + f"\r\n--n{depth}--".encode())
    body, headers = multipart([("file", "deep.txt", nested)])
    with server.client() as api:
        answer = api.post("/api/upload-file", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert httpx.get(answer.json()["media_url"]).content == nested


def test_healthz_answers_fast_while_the_largest_upload_is_parsed(server: ServerProcess) -> None:
    # The worst the limits allow: the most parts, each naming the field, and a file as large
    # as allowed that is full of near-boundaries (a one-character boundary).
    others = [("file-not", None, b"x") for _ in range(MAX_PARTS - 1)]
    room = UPLOAD_LIMIT - 16
    body, headers = multipart([*others, ("file", "worst.png", (b"\r\n--x" * room)[:room])],
                              boundary="-")
    timings: list[tuple[float, float]] = []  # (start, duration) of each /healthz
    upload: dict[str, float | int] = {}
    stop = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            client.get("/healthz")
            while not stop.is_set():
                started = time.perf_counter()
                assert client.get("/healthz").status_code == 200
                timings.append((started, time.perf_counter() - started))
                time.sleep(0.002)

    def send() -> None:
        with connect(server) as sock:
            head = (f"POST /api/upload-file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"sb-api-key-id: {KEY_ID}\r\nsb-api-secret-key: {SECRET}\r\n"
                    f"content-type: {headers['content-type']}\r\n"
                    f"content-length: {len(body)}\r\n\r\n").encode()
            sock.sendall(head + body)
            upload["sent"] = time.perf_counter()
            sock.settimeout(30)
            answer = sock.recv(65536)
            upload["answered"] = time.perf_counter()
            upload["status"] = int(answer.split(b" ", 2)[1])

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        time.sleep(0.2)
        sender = threading.Thread(target=send)
        sender.start()
        sender.join(60)
        time.sleep(0.1)
    finally:
        stop.set()
        poller.join(30)
    assert upload["status"] == 200
    during = [duration for started, duration in timings
              if upload["sent"] <= started <= upload["answered"]]
    assert len(during) >= 3, (upload, len(timings))
    assert max(during) < 0.050, sorted(during)[-5:]


def test_a_console_form_of_too_many_fields_is_refused(server: ServerProcess) -> None:
    with ConsoleClient(server.url) as console:
        page = console.get("/console/login")
        found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
        assert found, page.text
        token = found.group(1)
        fields = {f"f{n}": "x" for n in range(MAX_FORM_FIELDS + 1)}
        answer = console.post("/console/login", {"csrf_token": token, **fields})
        assert answer.status_code == 400, answer.text
        answer = console.post("/console/login", fields, headers={"x-csrf-token": token})
        assert answer.status_code == 400, answer.text
        assert console.sign_in().status_code == 303
