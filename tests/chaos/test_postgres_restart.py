"""PostgreSQL stopped and started again under a running server, in the middle of a burst.

The server runs on a private cluster of its own (restarting it must not disturb the session's
shared one). Client threads keep sending through the gap: every answer in it must be a 503 with
an `error_code` and `Retry-After`, never a 500 or a hang; every send answered 200, before,
during or after, must end READ, as one message that the sandbox phone received once; the server
must be ready again without being restarted. A client that retries its 503s with the same
`Idempotency-Key` must get each of its messages exactly once.
"""

from __future__ import annotations

import itertools
import os
import shlex
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ..databases import (
    POSTGRES_NOT_FOUND,
    REQUIRE_POSTGRES_ENV,
    Cluster,
    Postgres,
    postgres_bindir,
    private_cluster,
    query,
)
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for
from .conftest import ChaosReport

pytestmark = pytest.mark.slow

SENDERS = 4
PACE_S = 0.01  # between one sender's sends: a burst of a few hundred, not a flood
BEFORE_S = 1.5  # sending before the database stops
DOWN_S = 3.0  # the database stopped
AFTER_S = 3.0  # sending after it is back
CLIENT_TIMEOUT_S = 10.0  # an answer slower than this is a hang
ANSWER_WITHIN_S = 5.0  # the server's connect and pool timeouts (2 s each) and some room
RETRY_FOR_S = 30.0  # how long the retrying client keeps at one message
SERVER_ENV = {"BLUEWIRE_DB_CONNECT_TIMEOUT_MS": "2000", "BLUEWIRE_DB_POOL_TIMEOUT_MS": "2000",
              "BLUEWIRE_DISPATCH_LEASE_MS": "2000", "BLUEWIRE_DELIVERY_LEASE_MS": "2000"}


class RestartableCluster:
    """A private cluster that can be stopped and started again on the same port and data."""

    def __init__(self, cluster: Cluster, bindir: Path) -> None:
        self.cluster = cluster
        self.bindir = bindir
        self.log = cluster.data.parent / "postgres.log"
        self._run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return self.cluster.url

    def stop(self) -> None:
        self._pg_ctl("stop", "-w", "-m", "fast")

    def start(self) -> None:
        # The options it was started with (port, socket directory, settings), as the server
        # recorded them; the first word is the server program, then its data directory.
        words = shlex.split((self.cluster.data / "postmaster.opts").read_text())
        options = [word for previous, word in itertools.pairwise(words)
                   if "-D" not in (previous, word)]
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log),
                     "-o", shlex.join(options))

    def _pg_ctl(self, *args: str) -> None:
        done = subprocess.run([*self._run_as, str(self.bindir / "pg_ctl"), *args,
                               "-D", str(self.cluster.data)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"pg_ctl {args[0]} failed: {done.stdout}{done.stderr}"


@pytest.fixture
def cluster(postgres: Postgres) -> Iterator[RestartableCluster]:
    """A cluster of the test's own; asking for `postgres` puts the test with the PostgreSQL
    ones and skips it (or fails it) as they are when PostgreSQL is missing."""
    bindir = postgres_bindir()
    if bindir is None:  # the session's server is elsewhere, and none can be started here
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(POSTGRES_NOT_FOUND, pytrace=False)
        pytest.skip(POSTGRES_NOT_FOUND)
    with private_cluster(bindir) as own:
        yield RestartableCluster(own, bindir)


@pytest.fixture
def server(tmp_path: Path, cluster: RestartableCluster) -> Iterator[ServerProcess]:
    with Postgres(cluster.url) as databases:
        process = ServerProcess(tmp_path, {
            "BLUEWIRE_DATABASE_URL": databases.create(tmp_path), **SERVER_ENV})
        process.start()
        try:
            yield process
        finally:
            process.stop()


@dataclass(frozen=True, slots=True)
class Answer:
    content: str
    started: float  # time.monotonic() when sent
    took: float
    status: int | None  # None: no HTTP answer at all
    failure: str | None  # the connection-level failure, when there was no answer
    handle: str | None
    error_code: int | None
    retry_after: str | None


def client_of(server: ServerProcess) -> httpx.Client:
    client = server.client()
    client.timeout = httpx.Timeout(CLIENT_TIMEOUT_S)
    return client


def send(client: httpx.Client, content: str, to: str,
         headers: dict[str, str] | None = None) -> Answer:
    started = time.monotonic()
    try:
        response = client.post("/api/send-message", headers=headers,
                               json={"number": to, "from_number": SANDBOX_LINE,
                                     "content": content})
    except httpx.HTTPError as exc:
        return Answer(content, started, time.monotonic() - started, None, repr(exc), None,
                      None, None)
    took = time.monotonic() - started
    try:
        body = response.json()
    except ValueError:
        body = {}
    return Answer(content, started, took, response.status_code, None,
                  body.get("message_handle") if response.status_code == 200 else None,
                  body.get("error_code"), response.headers.get("retry-after"))


def plain_sender(server: ServerProcess, number: int, stop: threading.Event,
                 answers: list[Answer]) -> None:
    """Sends one message after another until stopped, never retrying."""
    to = phone(200 + number)
    with client_of(server) as client:
        count = 0
        while not stop.is_set():
            answers.append(send(client, f"plain {number}-{count}", to))
            count += 1
            time.sleep(PACE_S)


def reader(server: ServerProcess, stop: threading.Event, answers: list[Answer]) -> None:
    """Lists the latest messages until stopped (a read, through the connection pool)."""
    with client_of(server) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = client.get("/api/v2/messages", params={"limit": 5})
            except httpx.HTTPError as exc:
                answers.append(Answer("", started, time.monotonic() - started, None, repr(exc),
                                      None, None, None))
                continue
            error_code = response.json().get("error_code") if response.status_code != 200 \
                else None
            answers.append(Answer("", started, time.monotonic() - started,
                                  response.status_code, None, None, error_code,
                                  response.headers.get("retry-after")))
            time.sleep(PACE_S)


def retrying_sender(server: ServerProcess, stop: threading.Event,
                    finals: list[Answer], retries: list[Answer]) -> None:
    """Sends one message after another until stopped, each with its own Idempotency-Key,
    retrying a message (same key, same body) until it is answered 200."""
    to = phone(299)
    with client_of(server) as client:
        count = 0
        while not stop.is_set():
            content, key = f"keyed {count}", str(uuid.uuid4())
            deadline = time.monotonic() + RETRY_FOR_S
            while True:
                answer = send(client, content, to, {"Idempotency-Key": key})
                if answer.status == 200 or time.monotonic() > deadline:
                    finals.append(answer)
                    break
                retries.append(answer)
                time.sleep(float(answer.retry_after or 1) if answer.status == 503 else 0.2)
            count += 1
            time.sleep(PACE_S)


def is_clear_refusal(answer: Answer) -> bool:
    return (answer.status == 503 and answer.error_code == 5000
            and answer.retry_after is not None and int(answer.retry_after) >= 1)


def test_postgres_restarted_mid_burst(server: ServerProcess, cluster: RestartableCluster,
                                      chaos: ChaosReport) -> None:
    """PostgreSQL restarted mid-burst."""
    stop = threading.Event()
    plain: list[list[Answer]] = [[] for _ in range(SENDERS)]
    keyed: list[Answer] = []
    retried: list[Answer] = []
    reads: list[Answer] = []
    crashed: list[BaseException] = []

    def thread(target: Callable[..., None], *args: object) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:
                crashed.append(exc)
                raise
        return threading.Thread(target=run)

    threads = [thread(plain_sender, server, n, stop, plain[n]) for n in range(SENDERS)]
    threads.append(thread(retrying_sender, server, stop, keyed, retried))
    threads.append(thread(reader, server, stop, reads))
    for one in threads:
        one.start()
    try:
        time.sleep(BEFORE_S)
        went_down = time.monotonic()
        cluster.stop()
        time.sleep(DOWN_S)
        cluster.start()
        came_back = time.monotonic()
        time.sleep(AFTER_S)
    finally:
        stop.set()
        for one in threads:
            one.join(CLIENT_TIMEOUT_S + RETRY_FOR_S + 5)
    assert not crashed, f"a client failed: {crashed[0]!r}"
    assert not any(one.is_alive() for one in threads), "a client hung"

    answers = [answer for one in plain for answer in one]
    accepted = [answer for answer in answers if answer.status == 200]
    refused = [answer for answer in answers if answer.status != 200]
    reads_refused = [answer for answer in reads if answer.status != 200]
    wrong = [answer for answer in [*refused, *retried, *reads_refused]
             if not is_clear_refusal(answer)]
    assert not wrong, f"answers that are not a clear 503: {wrong[:5]}"
    # Every refusal was asked while the database was away, or just after (the first requests
    # after the restart find the pool's connections dead).
    late = [a for a in [*refused, *reads_refused]
            if not went_down - 0.5 <= a.started <= came_back + 2.0]
    assert not late, f"refused outside the gap: {late[:5]}"
    assert refused and reads_refused, "no request fell in the gap: the fault was not injected"
    assert any(a.started < went_down for a in accepted), "nothing was accepted before"
    assert any(a.started > came_back for a in accepted), "nothing was accepted after"
    assert all(a.status == 200 for a in keyed), \
        f"the retrying client gave up: {[a for a in keyed if a.status != 200][:5]}"
    slowest = max(answer.took for answer in [*answers, *keyed, *retried, *reads])
    assert slowest < ANSWER_WITHIN_S, f"an answer took {slowest:.1f} s"

    ready = wait_for(lambda: httpx.get(server.url + "/readyz", timeout=5).status_code == 200,
                     timeout=20, interval=0.2)
    assert ready and server.process is not None and server.process.poll() is None
    # The LISTEN connection (wake-ups from other processes) is back too: /readyz does not
    # check it, and with one process nothing else would show it missing.
    wait_for(lambda: query(cluster.url, "SELECT pid FROM pg_stat_activity"
                                        " WHERE application_name = 'bluewire-listener'"),
             timeout=10, interval=0.2)

    everything_accepted = [*accepted, *keyed]
    handles = [answer.handle for answer in everything_accepted]
    assert len(set(handles)) == len(handles), "one handle answered twice"

    def statuses() -> dict[str, str]:
        rows = server.sql("SELECT handle, status FROM messages WHERE is_outbound")
        return {row["handle"]: row["status"] for row in rows}

    def all_read() -> dict[str, str] | None:
        found = statuses()
        return found if all(found.get(h) == "READ" for h in handles) else None

    try:
        final = wait_for(all_read, timeout=30, interval=0.25)
    except AssertionError:
        found = statuses()
        stuck = Counter(found.get(h, "missing") for h in handles if found.get(h) != "READ")
        raise AssertionError(f"accepted messages not READ: {dict(stuck)}") from None

    rows = server.sql("SELECT handle, content FROM messages WHERE is_outbound")
    per_content = Counter(row["content"] for row in rows)
    twice = [content for content, count in per_content.items() if count > 1]
    assert not twice, f"messages stored twice: {twice[:5]}"
    handle_of = {row["content"]: row["handle"] for row in rows}
    assert all(handle_of.get(a.content) == a.handle for a in everything_accepted)
    # A plain refusal kept nothing (the README's promise for a 503).
    kept_anyway = [a.content for a in refused if a.content in handle_of]
    assert not kept_anyway, f"refused sends stored anyway: {kept_anyway[:5]}"
    assert len(rows) == len(everything_accepted)

    # The sandbox network counts each time it was handed a message: once each, no more.
    received = {row["handle"]: row["copies"]
                for row in server.sql("SELECT handle, copies FROM sandbox_received")}
    assert all(received.get(h) == 1 for h in handles), \
        f"phones received: {Counter(received.get(h) for h in handles)} (times: messages)"
    assert len(received) == len(handles)

    chaos.count("accepted", len(everything_accepted))
    chaos.count("terminal", sum(final[h] == "READ" for h in handles))
    chaos.count("refused_503", len(refused) + len(retried) + len(reads_refused))
    chaos.count("retried", len(retried))
    chaos.count("seconds down", round(came_back - went_down))
