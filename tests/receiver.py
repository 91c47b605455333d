"""A real webhook receiver process for tests: logs every request, answers as it is told.

Run it as

    python -m tests.receiver --port 8123 --log /tmp/received.jsonl

It listens on 127.0.0.1 and appends one JSON line per request to the log: `t` (arrival time,
seconds since the epoch, the same clock bluewire stamps its attempts with), `method`, `path`,
`headers` (lower-cased names), `body` (the text received) and `answer` (the mode it answered in).

How it answers is its *mode*, which a test changes at run time with `POST /_mode` (not logged):

    {"mode": "ok"}                           200
    {"mode": "500"}                          500
    {"mode": "timeout", "sleep": 3}          sleeps `sleep` seconds, then 200 (set it longer than
                                             the server's webhook timeout)
    {"mode": "429", "retry_after": 2}        429 with `Retry-After: 2`
    {"mode": "410"}                          410 Gone
    {"mode": "redirect"}                     302 to /redirect-target (which would answer 200)
    {"mode": "slow", "sleep": 4.5}           sleeps `sleep` seconds, then 200 (set it shorter than
                                             the server's webhook timeout: a slow success)
    {"mode": "hang"}                         never answers (the request stays open until the
                                             sender gives up on it)
    {"mode": "reset"}                        resets the connection (RST, SO_LINGER 0) once the
                                             request is read, answering nothing
    {"mode": "cookie"}                       200 with a `Set-Cookie` (a session cookie for the
                                             whole host), as load balancers and frameworks do

With `"path": "/prefix"` the mode applies only to requests whose path starts with the prefix
(the longest matching prefix wins; the rest use the default mode), so tests sharing a receiver
do not disturb each other. `{"mode": null, "path": "/prefix"}` removes a prefix's mode.
Connection refused is simulated by stopping the process and starting it again on the same port
(`ReceiverProcess.stop()` / `.start()`): the log is appended to, never truncated.

`ReceiverProcess` starts and stops it; `Received` is one logged request, with helpers to count
requests by `webhook-id` and to verify Standard Webhooks signatures with the `standardwebhooks`
package.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TextIO

import httpx
from aiohttp import web

MODES = ("ok", "500", "timeout", "429", "410", "redirect", "slow", "hang", "reset", "cookie")
COOKIE = "receiver-session=s3cr3t"
REDIRECT_TARGET = "/redirect-target"
REPO = Path(__file__).resolve().parent.parent


# -- the server (runs in its own process) -------------------------------------------------------


@dataclass
class Mode:
    mode: str = "ok"
    retry_after: float | None = None
    sleep: float = 5.0


def _check_mode(body: dict[str, Any]) -> Mode:
    mode = body.get("mode")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    retry_after = body.get("retry_after")
    sleep = body.get("sleep", 5.0)
    if retry_after is not None and not isinstance(retry_after, int | float):
        raise ValueError("retry_after must be a number of seconds")
    if not isinstance(sleep, int | float) or sleep < 0:
        raise ValueError("sleep must be a number of seconds")
    return Mode(mode, retry_after, float(sleep))


def build_app(log: TextIO, initial: Mode | None = None) -> Any:
    from aiohttp import web

    modes: dict[str, Mode] = {"": initial or Mode()}

    def mode_for(path: str) -> Mode:
        best = max((prefix for prefix in modes if path.startswith(prefix)), key=len)
        return modes[best]

    async def control(request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.json_response({prefix or "*": vars(mode) for prefix, mode in modes.items()})
        try:
            body = await request.json()
            path = body.get("path") or ""
            if not isinstance(path, str):
                raise ValueError("path must be a string")
            if body.get("mode") is None and path:
                modes.pop(path, None)
            else:
                modes[path] = _check_mode(body)
        except (ValueError, AttributeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "pid": os.getpid()})

    async def receive(request: web.Request) -> web.StreamResponse:
        arrived = time.time()
        body = await request.read()
        mode = mode_for(request.path)
        log.write(json.dumps({
            "t": arrived, "method": request.method, "path": request.path_qs,
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "body": body.decode("utf-8", errors="replace"), "answer": mode.mode,
        }) + "\n")
        log.flush()
        if mode.mode == "ok":
            return web.json_response({"ok": True})
        if mode.mode == "cookie":
            return web.json_response({"ok": True},
                                     headers={"Set-Cookie": f"{COOKIE}; Path=/; Max-Age=3600"})
        if mode.mode == "500":
            return web.json_response({"error": "receiver is failing"}, status=500)
        if mode.mode in ("timeout", "slow"):
            await asyncio.sleep(mode.sleep)
            return web.json_response({"ok": True, "late": True})
        if mode.mode == "hang":
            await asyncio.Event().wait()
        if mode.mode == "reset":
            return _reset(request)
        if mode.mode == "429":
            headers = {}
            if mode.retry_after is not None:
                headers["Retry-After"] = f"{mode.retry_after:g}"
            return web.json_response({"error": "slow down"}, status=429, headers=headers)
        if mode.mode == "410":
            return web.json_response({"error": "gone"}, status=410)
        raise web.HTTPFound(REDIRECT_TARGET)

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_route("*", "/_mode", control)
    app.router.add_get("/_ready", ready)
    app.router.add_route("*", "/{tail:.*}", receive)
    return app


def _reset(request: web.Request) -> web.Response:
    """Abort the connection with a TCP reset: SO_LINGER 0 makes the close send RST."""
    transport = request.transport
    assert transport is not None
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    raise web.HTTPInternalServerError  # never sent: the connection is gone


def main(argv: list[str] | None = None) -> None:
    from aiohttp import web

    parser = argparse.ArgumentParser(description="A webhook receiver that logs and obeys.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--mode", default="ok", choices=MODES, help="the default mode at start")
    parser.add_argument("--retry-after", type=float, default=None)
    parser.add_argument("--sleep", type=float, default=5.0)
    args = parser.parse_args(argv)
    initial = Mode(args.mode, args.retry_after, args.sleep)
    with args.log.open("a", encoding="utf-8") as log:
        web.run_app(build_app(log, initial), host="127.0.0.1", port=args.port,
                    access_log=None, print=None, handle_signals=True, shutdown_timeout=0.5)


# -- what was received ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Received:
    """One request the receiver logged."""

    t: float
    method: str
    path: str
    headers: dict[str, str]
    body: str
    answer: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")

    def verify(self, secret: str) -> Any:
        """The body, if the Standard Webhooks signature verifies with `secret`; raises
        `standardwebhooks.webhooks.WebhookVerificationError` otherwise.

        bluewire signs with the decoded base64 of a `whsec_<base64>` secret and with the UTF-8
        bytes of any other secret, so a plain secret is handed to the library base64-encoded.
        """
        from standardwebhooks.webhooks import Webhook

        key = secret if secret.startswith("whsec_") else base64.b64encode(secret.encode()).decode()
        return Webhook(key).verify(self.body, self.headers)


def by_webhook_id(received: Iterable[Received]) -> dict[str, list[Received]]:
    """Requests grouped by their `webhook-id` header (requests without one are left out)."""
    groups: dict[str, list[Received]] = defaultdict(list)
    for request in received:
        if request.webhook_id is not None:
            groups[request.webhook_id].append(request)
    return dict(groups)


def count_by_webhook_id(received: Iterable[Received]) -> dict[str, int]:
    return {key: len(value) for key, value in by_webhook_id(received).items()}


# -- the process, from the test's side ---------------------------------------------------------


class ReceiverProcess:
    """`python -m tests.receiver` in a child process on a fixed port, logging to `log_path`."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        from .server import free_port

        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"received-{self.port}.jsonl"
        self.output_path = workdir / f"receiver-{self.port}.out"
        self.process: subprocess.Popen[bytes] | None = None
        self._offset = 0
        self._seen: list[Received] = []

    def start(self, mode: str = "ok", *, retry_after: float | None = None,
              sleep: float | None = None, timeout: float = 20.0) -> ReceiverProcess:
        """Start (or start again, on the same port and log) answering in `mode` from the first
        request on."""
        command = [sys.executable, "-m", "tests.receiver", "--port", str(self.port),
                   "--log", str(self.log_path), "--mode", mode]
        if retry_after is not None:
            command += ["--retry-after", str(retry_after)]
        if sleep is not None:
            command += ["--sleep", str(sleep)]
        env = {**os.environ,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                            os.environ.get("PYTHONPATH")]))}
        with self.output_path.open("ab") as output:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"receiver exited early:\n{self.output()}")
            try:
                if httpx.get(self.url + "/_ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"receiver did not start in {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return (self.output_path.read_text(errors="replace")
                if self.output_path.exists() else "")

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL): its port refuses connections until
        `start()` is called again. Modes set at run time are forgotten."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def url_for(self, path: str) -> str:
        return self.url + path

    def hear(self, api: httpx.Client, **paths: str) -> None:
        """Make this receiver the account's webhook of each type, at its path (e.g.
        `group="/group"`): the account's webhooks are replaced by these."""
        answer = api.put("/api/account/webhooks", json={"webhooks": {
            type_: [self.url_for(path)] for type_, path in paths.items()}})
        assert answer.status_code == 200, answer.text

    def set_mode(self, mode: str, *, path: str | None = None, retry_after: float | None = None,
                 sleep: float | None = None) -> None:
        body: dict[str, Any] = {"mode": mode}
        if path is not None:
            body["path"] = path
        if retry_after is not None:
            body["retry_after"] = retry_after
        if sleep is not None:
            body["sleep"] = sleep
        response = httpx.post(self.url + "/_mode", json=body, timeout=10)
        response.raise_for_status()

    def clear_mode(self, path: str) -> None:
        httpx.post(self.url + "/_mode", json={"mode": None, "path": path},
                   timeout=10).raise_for_status()

    def received(self, path_prefix: str = "") -> list[Received]:
        """Every request logged so far (whole lines only), oldest first, optionally only those
        whose path starts with `path_prefix`."""
        if self.log_path.exists():
            with self.log_path.open("rb") as log:
                log.seek(self._offset)
                chunk = log.read()
            end = chunk.rfind(b"\n") + 1
            for line in chunk[:end].splitlines():
                if line.strip():
                    self._seen.append(Received(**json.loads(line)))
            self._offset += end
        return [r for r in self._seen if r.path.startswith(path_prefix)]

    def by_webhook_id(self, path_prefix: str = "") -> dict[str, list[Received]]:
        return by_webhook_id(self.received(path_prefix))

    def count_by_webhook_id(self, path_prefix: str = "") -> dict[str, int]:
        return count_by_webhook_id(self.received(path_prefix))


if __name__ == "__main__":
    main()


class ThreadedReceiver:
    """An aiohttp server on loopback in a thread of its own, for tests that want to look at
    what arrived from the test's own thread. Subclasses answer in `handle`."""

    def __init__(self, name: str = "receiver") -> None:
        from .server import free_port

        self.port = free_port()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.Response:
        raise NotImplementedError

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def start(self) -> Self:
        self._thread.start()
        assert self._ready.wait(10), "the receiver did not start"
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
