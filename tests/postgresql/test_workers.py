"""`bluewire serve --workers N`: N processes on one port, restarted when they die."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bluewire.observability.shared import PUBLISH_EVERY_S

from ..databases import Postgres
from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, free_port, wait_for


class Workers(ServerProcess):
    def start(self, timeout: float = 30.0) -> Workers:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bluewire", "serve", "--port", str(self.port),
             "--workers", "2"],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.ready, timeout=timeout, interval=0.1)
        return self

    def workers(self) -> list[psutil.Process]:
        assert self.process is not None
        return psutil.Process(self.process.pid).children()

    def ready(self) -> bool:
        """Both workers started, and the port answers."""
        try:
            answer = httpx.get(self.url + "/readyz", timeout=2)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200 and len(self.workers()) == 2


@pytest.fixture
def workers(tmp_path: Path, postgres: Postgres) -> Iterator[Workers]:
    process = Workers(tmp_path, {"BLUEWIRE_DATABASE_URL": postgres.create(tmp_path)})
    process.start()
    yield process
    process.stop()


def test_two_workers_serve_one_port_and_a_dead_one_is_replaced(workers: Workers) -> None:
    first = {w.pid for w in workers.workers()}
    assert len(first) == 2
    headers = {"sb-api-key-id": KEY_ID, "sb-api-secret-key": SECRET}
    with httpx.Client(headers=headers, timeout=10) as api:
        handles = [api.post(workers.url + "/api/send-message", headers={"connection": "close"},
                            json={"number": "+14155550100", "from_number": SANDBOX_LINE,
                                  "content": f"n{n}"}).json()["message_handle"]
                   for n in range(20)]

        def all_read() -> bool:
            return all(api.get(workers.url + "/api/status", params={"handle": h}).json()
                       ["status"] == "READ" for h in handles)

        wait_for(all_read, timeout=20, interval=0.2)

    # Whichever worker answers a scrape counts the sends of both, once both have published.
    metrics_dir = Path(workers.workers()[0].environ()["BLUEWIRE_METRICS_DIR"])
    wait_for(lambda: len(list(metrics_dir.glob("*.json"))) == 2, timeout=10, interval=0.2)
    wait_for(lambda: all(sends_counted(workers) == 20 for _ in range(6)), timeout=10,
             interval=0.2)
    time.sleep(PUBLISH_EVERY_S + 0.5)  # the victim's file now holds all its sends

    victim = workers.workers()[0]
    victim.kill()
    victim.wait(10)
    replaced = wait_for(lambda: (pids := {w.pid for w in workers.workers()}) != first
                        and len(pids) == 2 and pids, timeout=20, interval=0.1)
    assert victim.pid not in replaced
    wait_for(workers.ready, timeout=20, interval=0.1)
    # The dead worker's counts still count: a counter never goes down.
    wait_for(lambda: all(sends_counted(workers) == 20 for _ in range(6)), timeout=10,
             interval=0.2)

    children = workers.workers()
    assert workers.terminate() == 0  # SIGTERM reaches every worker, and all stop
    assert not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE
                   for child in children)
    assert not metrics_dir.exists()


def sends_counted(workers: Workers) -> float:
    """send-message requests answered 200, as one scrape on a new connection says."""
    text = httpx.get(workers.url + "/metrics", headers={"connection": "close"}, timeout=10).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "bluewire_http_requests_total"
               and sample.labels == {"method": "POST", "route": "/api/send-message",
                                     "status": "200"})


def test_workers_need_postgresql(tmp_path: Path) -> None:
    env = {"BLUEWIRE_DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}"}
    server = ServerProcess(tmp_path, env)
    done = subprocess.run([sys.executable, "-m", "bluewire", "serve", "--port",
                           str(free_port()), "--workers", "2"], env=server.env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--workers needs PostgreSQL" in done.stderr
