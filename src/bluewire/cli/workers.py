"""`bluewire serve --workers N`: N server processes sharing one port.

Each worker is a whole bluewire process (`bluewire serve --worker`) with its own event loop,
connection pool, writer and workers; they share the work through the database (leases,
SKIP LOCKED, LISTEN/NOTIFY), so any of them may answer any request. Each binds the port with
SO_REUSEPORT and the kernel spreads new connections across them.

The supervisor only starts the workers, restarts one that dies (after a pause that grows while
they keep dying), and on SIGTERM or SIGINT passes the signal on and waits for all of them. It
also gives them a directory to share their metrics' counts in (observability/shared.py), and
removes it when they have stopped.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from ..observability.shared import DIR_ENV as METRICS_DIR_ENV

log = logging.getLogger(__name__)

RESTART_PAUSE_S = (0.5, 1.0, 2.0, 5.0, 10.0)
STOP_TIMEOUT_S = 30.0
STEADY_S = 30.0  # a worker that ran this long before dying is restarted without delay


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port) that other processes may bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _Worker:
    def __init__(self, index: int, command: list[str]) -> None:
        self.index = index
        self._command = command
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.failures = 0

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(self._command, env=env)
        self.started_at = time.monotonic()
        log.info("worker %d started (pid %d)", self.index, self.process.pid)


class Supervisor:
    def __init__(self, workers: int, command: list[str]) -> None:
        self._workers = [_Worker(index, command) for index in range(workers)]
        self._stopping: int | None = None  # the signal to pass on
        self._env: dict[str, str] = {}  # the workers' environment

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        metrics_dir = Path(tempfile.mkdtemp(prefix="bluewire-metrics-"))
        self._env = {**os.environ, METRICS_DIR_ENV: str(metrics_dir)}
        try:
            for worker in self._workers:
                worker.start(self._env)
            while self._stopping is None:
                self._restart_the_dead()
                time.sleep(0.2)
            return self._stop_all(self._stopping)
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stopping = signum

    def _restart_the_dead(self) -> None:
        now = time.monotonic()
        for worker in self._workers:
            assert worker.process is not None
            code = worker.process.poll()
            if code is None:
                continue
            ran = now - worker.started_at
            worker.failures = 0 if ran > STEADY_S else worker.failures + 1
            pause = RESTART_PAUSE_S[min(worker.failures, len(RESTART_PAUSE_S)) - 1] \
                if worker.failures else 0.0
            log.warning("worker %d (pid %d) exited with %s after %.0f s; restarting in %.1f s",
                        worker.index, worker.process.pid, code, ran, pause)
            if pause:
                time.sleep(pause)
            if self._stopping is None:
                worker.start(self._env)

    def _stop_all(self, signum: int) -> int:
        running = [w.process for w in self._workers if w.process and w.process.poll() is None]
        for process in running:
            process.send_signal(signum)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker pid %d did not stop in %.0f s; killing it",
                          process.pid, STOP_TIMEOUT_S)
                process.kill()
                process.wait()
        return 0


def worker_command(host: str, port: int, dev: bool) -> list[str]:
    command = [sys.executable, "-m", "bluewire", "serve", "--host", host, "--port", str(port),
               "--worker"]
    return command + (["--dev"] if dev else [])
