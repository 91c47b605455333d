"""Shared pieces of the benchmarks: pinned server processes, CPU accounting, and wrk.

The benchmarks run what they measure as real processes talking real HTTP on loopback. On a
two-core machine the server gets one core and the load generator the other, so each figure is
"what one core of this server does"; the CPU meters say how much of its core the server
actually had, since these machines are shared.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

REPO = Path(__file__).resolve().parent.parent
# The key pair every benchmarked server bootstraps with, and the sandbox line it makes.
KEY_ID = "bench-key-id"
SECRET = "bench-secret-key"
LINE = "+14155550199"
API_HEADERS = {"Content-Type": "application/json", "sb-api-key-id": KEY_ID,
               "sb-api-secret-key": SECRET}
_TICK = os.sysconf("SC_CLK_TCK")
INSERT_BATCH = 10_000  # rows an executemany writes at a time


# -- processes ---------------------------------------------------------------------------------


def check_cpus(*cpus: int) -> None:
    """Exit with a clear message unless every CPU in `cpus` is one this process may use."""
    available = os.sched_getaffinity(0)
    missing = sorted(set(cpus) - available)
    if missing:
        sys.exit(f"CPU(s) {missing} are not available (this process may use {sorted(available)});"
                 " pick others with --server-cpu / --load-cpu")


def pin_self(cpu: int) -> None:
    os.sched_setaffinity(0, {cpu})


def _pinned(cpu: int) -> Callable[[], None]:
    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    return pin


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """A server command run in its own process, pinned to one CPU, logging to a file."""

    def __init__(self, name: str, command: Sequence[str], *, cpu: int, cwd: Path,
                 env: Mapping[str, str], port: int) -> None:
        self.name = name
        self.command = list(command)
        self.cpu = cpu
        self.cwd = cwd
        self.env = dict(env)
        self.port = port
        self.log_path = cwd / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> ServerProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=self.cwd, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, preexec_fn=_pinned(self.cpu),
            )
        return self

    def wait_ready(self, probe: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll `probe` until it answers True; RuntimeError with the log if the server dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if probe():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start within {timeout}s:\n{self.log()}")

    def log(self, tail: int = 4000) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-tail:]

    def kill(self) -> None:
        """SIGKILL it and every process it started (`serve --workers N`'s workers): no graceful
        shutdown, nothing flushed that was not committed already."""
        if self.process is not None and self.process.poll() is None:
            for pid in process_tree(self.process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(10)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM and wait; SIGKILL if it does not exit within `timeout`."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def wait_serving(server: ServerProcess, path: str, processes: int = 1,
                 timeout: float = 60.0) -> None:
    """Until GET `path` answers 200; with several processes on the port, until fresh
    connections (spread across them by the kernel) have all answered enough times in a row
    that each process has most likely served one."""
    def probe() -> bool:
        return http_request(server.port, "GET", path)[0] == 200

    server.wait_ready(probe, timeout)
    if processes > 1:
        server.wait_ready(lambda: all(probe() for _ in range(8 * processes)), timeout)


def http_request(port: int, method: str, path: str, body: bytes | None = None,
                 headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def add_server_env_argument(parser: argparse.ArgumentParser, example: str) -> None:
    """`--server-env NAME=VALUE`, repeatable: bluewire's extra environment, as `args.server_env`
    (a list of (name, value) pairs; dict() it)."""
    parser.add_argument("--server-env", action="append", default=[], type=_name_and_value,
                        metavar="NAME=VALUE",
                        help=f"extra environment for bluewire (repeatable), e.g. {example}")


def _name_and_value(item: str) -> tuple[str, str]:
    name, equals, value = item.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"wants NAME=VALUE, not {item!r}")
    return name, value


def python_env(**extra: str) -> dict[str, str]:
    """The environment for a Python child: this checkout's `src` first on the path."""
    env = dict(os.environ)
    paths = [str(REPO / "src"), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(extra)
    return env


# -- CPU accounting ----------------------------------------------------------------------------


def _cpu_busy_ticks(cpu: int) -> int:
    """Ticks CPU `cpu` spent on anything but idle and iowait, since boot."""
    with open("/proc/stat") as stat:
        for line in stat:
            if line.startswith(f"cpu{cpu} "):
                user, nice, system, _idle, _iowait, irq, softirq, steal = (
                    int(v) for v in line.split()[1:9])
                return user + nice + system + irq + softirq + steal
    raise RuntimeError(f"cpu{cpu} not found in /proc/stat")


def _stat_fields(path: str) -> list[str]:
    """The fields of a /proc stat file after the command name, from `state` (field 3) on."""
    with open(path) as stat:
        return stat.read().rsplit(")", 1)[1].split()


def _task_ticks(path: str) -> int:
    fields = _stat_fields(path)
    return int(fields[11]) + int(fields[12])


def process_tree(root: int) -> list[int]:
    """`root` and every live process descended from it, parents before children."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parent = int(_stat_fields(f"/proc/{entry}/stat")[1])
                children.setdefault(parent, []).append(int(entry))
    tree = [root]
    for pid in tree:
        tree.extend(children.get(pid, []))
    return tree


def _tree_ticks(root: int) -> int:
    """User + system ticks of `root` and its descendants, all threads, since each started;
    processes that exited and were reaped count through their parent's children's times."""
    total = 0
    for pid in process_tree(root):
        with contextlib.suppress(OSError):
            fields = _stat_fields(f"/proc/{pid}/stat")
            total += sum(int(value) for value in fields[11:15])
    return total


def _tree_threads(root: int) -> dict[int, tuple[int, int]]:
    """Per thread of `root` and its descendants: (CPU ticks, context switches)."""
    found: dict[int, tuple[int, int]] = {}
    for pid in process_tree(root):
        with contextlib.suppress(OSError):
            found.update(_threads(pid))
    return found


def _threads(pid: int) -> dict[int, tuple[int, int]]:
    """Per thread of `pid`: (CPU ticks, context switches), since each started."""
    found: dict[int, tuple[int, int]] = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            ticks = _task_ticks(f"/proc/{pid}/task/{task}/stat")
            switches = 0
            with open(f"/proc/{pid}/task/{task}/status") as status:
                for line in status:
                    if "ctxt_switches:" in line:
                        switches += int(line.split()[1])
            found[int(task)] = (ticks, switches)
    return found


@dataclass(frozen=True, slots=True)
class CpuShare:
    """Over one measured window: shares of one core, and the server's context switches."""

    process: float  # the measured server: its processes (`--workers`: all), all threads
    main_thread: float  # their main threads (the event loops)
    other_threads: float  # their other threads (bluewire: the writer)
    others_on_cpu: float  # everything else that ran on the server's CPU: noise
    load_cpu_busy: float  # the load generator's CPU, everything on it
    context_switches: int  # voluntary + involuntary, all the server's threads
    database: float | None = None  # the database's processes, when they are ours to count

    @property
    def server_side(self) -> float:
        """The server and its database: what the server's core was used for."""
        return self.process + (self.database or 0.0)

    def described(self) -> str:
        """What the two cores did while measuring, for a report's last lines."""
        return (f"while measuring: bluewire used {self.process:.0%} of its core, other "
                f"processes {self.others_on_cpu:.0%} of it (noise);\n  this client's core was "
                f"{self.load_cpu_busy:.0%} busy")


class CpuMeter:
    """How much of the server's core the server had during a window, and who else ran there.

    The server is the process `pid` and its descendants (`serve --workers N` and its workers);
    `database_pid`, when given, is a database server pinned to the same core (a PostgreSQL
    postmaster and its descendants), counted apart and not as noise."""

    def __init__(self, pid: int, server_cpu: int, load_cpu: int,
                 database_pid: int | None = None) -> None:
        self._pid, self._server_cpu, self._load_cpu = pid, server_cpu, load_cpu
        self._database_pid = database_pid
        self._threads = _tree_threads(pid)
        self._start = (time.monotonic(), _tree_ticks(pid), _cpu_busy_ticks(server_cpu),
                       _cpu_busy_ticks(load_cpu), self._database_ticks())

    def _database_ticks(self) -> int:
        return _tree_ticks(self._database_pid) if self._database_pid is not None else 0

    def read(self) -> CpuShare:
        t0, process0, server0, load0, database0 = self._start
        threads = _tree_threads(self._pid)
        seconds = max(time.monotonic() - t0, 1e-9)

        def share(ticks: int) -> float:
            return ticks / _TICK / seconds

        process = share(_tree_ticks(self._pid) - process0)
        database = (share(self._database_ticks() - database0)
                    if self._database_pid is not None else None)
        server_busy = share(_cpu_busy_ticks(self._server_cpu) - server0)
        ticks = {tid: now[0] - self._threads.get(tid, (0, 0))[0] for tid, now in threads.items()}
        switches = sum(now[1] - self._threads.get(tid, (0, 0))[1]
                       for tid, now in threads.items())
        main_tids = set(process_tree(self._pid)) & ticks.keys()
        main = share(sum(ticks.pop(tid) for tid in main_tids))
        return CpuShare(
            process=process, main_thread=main, other_threads=share(sum(ticks.values())),
            others_on_cpu=max(0.0, server_busy - process - (database or 0.0)),
            load_cpu_busy=share(_cpu_busy_ticks(self._load_cpu) - load0),
            context_switches=switches, database=database,
        )


# -- wrk ---------------------------------------------------------------------------------------

WRK_INSTALL = """wrk, the HTTP load generator, is not installed. Install it with:

    apt-get update && apt-get install -y wrk      (Debian/Ubuntu)
    brew install wrk                               (macOS)

Python cannot load a server at 30k+ requests a second from one core, so the benchmark needs it.
"""

_LUA = """\
wrk.method = "POST"
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d bytes=%d status_errors=%d connect=%d read=%d "
    .. "write=%d timeout=%d p50=%.1f p90=%.1f p99=%.1f p999=%.1f max=%.1f mean=%.1f\\n",
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
"""


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        print(WRK_INSTALL, file=sys.stderr)
        sys.exit(2)
    return path


def _lua_string(text: str) -> str:
    """A Lua long-bracket string literal of `text`."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def write_wrk_script(directory: Path, body: bytes, headers: Mapping[str, str]) -> Path:
    """A wrk Lua script that POSTs `body` with `headers` and prints a machine-readable summary."""
    lines = "\n".join(f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}"
                      for k, v in headers.items())
    path = directory / "post.lua"
    path.write_text(_LUA.format(body=_lua_string(body.decode()), headers=lines))
    return path


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int  # completed responses, any status
    seconds: float
    non_2xx: int  # wrk's "Non-2xx or 3xx responses" (status >= 400 here)
    socket_errors: int  # connect + read + write + timeout
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    wrk_cpu: float  # CPU seconds wrk itself used, per second of run: 1.0 = saturated

    @property
    def ok(self) -> int:
        """Responses with a 2xx (or 3xx) status."""
        return self.requests - self.non_2xx

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def ok_rate(self) -> float:
        return self.ok / self.seconds


_RESULT = re.compile(r"^WRK_RESULT (.*)$", re.MULTILINE)


def parse_wrk(output: str, wrk_cpu: float = 0.0) -> WrkResult:
    found = _RESULT.search(output)
    if found is None:
        raise RuntimeError(f"no summary in wrk's output:\n{output}")
    v = {key: float(value) for key, value in (item.split("=") for item in found[1].split())}
    return WrkResult(
        requests=int(v["requests"]), seconds=v["duration_us"] / 1e6,
        non_2xx=int(v["status_errors"]),
        socket_errors=int(v["connect"] + v["read"] + v["write"] + v["timeout"]),
        p50_ms=v["p50"] / 1000, p90_ms=v["p90"] / 1000, p99_ms=v["p99"] / 1000,
        p999_ms=v["p999"] / 1000, max_ms=v["max"] / 1000, wrk_cpu=wrk_cpu,
    )


class Wrk:
    """wrk with one thread, pinned to the load generator's CPU."""

    def __init__(self, wrk: str, script: Path, *, cpu: int, connections: int,
                 timeout_s: float = 10.0) -> None:
        self._wrk, self._script, self._cpu = wrk, script, cpu
        self._connections, self._timeout = connections, timeout_s

    def start(self, url: str, seconds: float) -> subprocess.Popen[str]:
        command = [self._wrk, "-t1", f"-c{self._connections}", f"-d{max(1, round(seconds))}s",
                   f"--timeout={self._timeout:g}s", "--latency", "-s", str(self._script), url]
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, preexec_fn=_pinned(self._cpu))

    def run(self, url: str, seconds: float) -> WrkResult:
        before = _children_cpu()
        process = self.start(url, seconds)
        output, _ = process.communicate()
        cpu = (_children_cpu() - before) / max(seconds, 1e-9)
        if process.returncode != 0:
            raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}")
        return parse_wrk(output, cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def scratch_dir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=prefix)


# -- seeded SQLite stores and timed requests ---------------------------------------------------


def bluewire_on_sqlite(workdir: Path, database: Path, *, cpu: int,
                       **env: str) -> ServerProcess:
    """`bluewire serve` on the SQLite file `database`, pinned to `cpu`, with the bench key pair
    and `env` (BLUEWIRE_… settings) on top."""
    port = free_port()
    environment = python_env(
        BLUEWIRE_DATABASE_URL=f"sqlite:///{database}",
        BLUEWIRE_API_KEY_ID=KEY_ID,
        BLUEWIRE_API_SECRET_KEY=SECRET,
        BLUEWIRE_LOG_LEVEL="warning",
        **env,
    )
    command = [sys.executable, "-m", "bluewire", "serve", "--host", "127.0.0.1",
               "--port", str(port)]
    return ServerProcess("bluewire", command, cpu=cpu, cwd=workdir, env=environment,
                         port=port)


DAY_MS = 86_400_000


def contact_number(index: int) -> str:
    """A seeded history's contact numbers: +1 628 5xx xxxx (clear of the sandbox's magic
    555-01XX)."""
    return f"+16285{index:06d}"


def handle_at(ms: int, rng: random.Random) -> str:
    """A UUIDv7 handle made at `ms`, as domain/handles.py makes them."""
    value = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) \
        | rng.getrandbits(62)
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def insert_rows(connection: sqlite3.Connection, table: str, columns: Sequence[str],
                values: Sequence[tuple[Any, ...]]) -> None:
    """Rows written straight into a stopped server's store, in batches."""
    statement = (f"INSERT INTO {table} ({', '.join(columns)}) "
                 f"VALUES ({', '.join('?' for _ in columns)})")
    for start in range(0, len(values), INSERT_BATCH):
        connection.executemany(statement, values[start:start + INSERT_BATCH])


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


class Timed(Protocol):
    """Something measured again and again: a page, a query."""

    times_ms: list[float]


TimedT = TypeVar("TimedT", bound=Timed)


def timed_rounds(targets: Sequence[TimedT], timed: Callable[[TimedT], float], *, warmup: int,
                 requests: int, server_pid: int, server_cpu: int, load_cpu: int) -> CpuShare:
    """Each target in turn, round after round, so that whatever else the machine does falls
    on all of them alike; each time `timed` took is added to its target's `times_ms`. Returns
    what the server's core was used for meanwhile."""
    for _ in range(warmup):
        for target in targets:
            timed(target)
    meter = CpuMeter(server_pid, server_cpu, load_cpu)
    for _ in range(requests):
        for target in targets:
            target.times_ms.append(timed(target))
    return meter.read()
