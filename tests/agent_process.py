"""`bluewire agent` in a child process, for the tests that run one against a real server."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from bluewire.connectors.agent.frames import PATH as AGENT_PATH

from .receiver import REPO
from .server import ServerProcess


def create_token(server: ServerProcess, *lines: str) -> str:
    """A new agent token for `lines`, as `bluewire agents create` prints it."""
    out = server.cli("agents", "create", *[a for line in lines for a in ("--line", line)]).stdout
    return next(word for word in out.split() if word.startswith("agt_") and "." in word)


@contextlib.contextmanager
def bare_agent(server: ServerProcess, token: str, line: str,
               capabilities: dict[str, Any] | None = None) -> Iterator[ClientConnection]:
    """A connection speaking the agent protocol by hand, welcomed for `line`: for what a real
    agent would not do when asked (send an event again, drop and come back at will)."""
    url = server.url.replace("http://", "ws://") + AGENT_PATH
    with connect(url, open_timeout=10) as socket:
        socket.send(json.dumps({"type": "hello", "token": token, "lines": [
            {"number": line, "capabilities": capabilities or {}}]}))
        welcome = json.loads(socket.recv(10))
        assert welcome["type"] == "welcome", welcome
        yield socket


class AgentProcess:
    """The agent of `server` with `token`, its state and log in `workdir`; `args` choose and
    set up its engine."""

    def __init__(self, server: ServerProcess, workdir: Path, token: str,
                 args: Sequence[str] = (), env: dict[str, str] | None = None) -> None:
        self.server = server
        self.workdir = workdir
        self.token = token
        self.command = [sys.executable, "-m", "bluewire", "agent", "--gateway", server.url,
                        "--token", token, "--state-dir", str(workdir / "state"), *args]
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        self.env = {**os.environ, "PYTHONPATH": path, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "agent.log"

    def start(self) -> AgentProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command, cwd=REPO, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
