"""POST /api/send-message: accepted messages a second on one core, next to a bare echo baseline.

    python3 bench/send_throughput.py [--duration 10] [--connections 64] [--profile]

Starts `bluewire serve` as a real process pinned to one CPU and loads it with wrk pinned to
another; measures, in the same run and the same way, a bare ASGI + msgspec echo app on the same
uvicorn stack (bench/echo_app.py). Prints req/s and p50/p99 latency of both, their ratio, and
the targets of DESIGN §10 next to them. Then checks durability: every 200 answered must be a
row in the store (the server is killed with SIGKILL under load, so nothing flushes on exit).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import (
    CpuMeter,
    CpuShare,
    ServerProcess,
    Wrk,
    WrkResult,
    check_cpus,
    free_port,
    http_request,
    parse_wrk,
    pin_self,
    python_env,
    require_wrk,
    scratch_dir,
    write_wrk_script,
)
from profile_summary import load, report

BENCH = Path(__file__).resolve().parent

KEY_ID = "bench-key-id"
SECRET = "bench-secret-key"
LINE = "+14155550199"  # the sandbox line `serve` bootstraps on first start
RECIPIENT = "+14155550100"  # a sandbox phone on iMessage: delivered, then read


def send_body(recipient: str) -> bytes:
    return json.dumps({"number": recipient, "from_number": LINE,
                       "content": "Hello from the bluewire benchmark"}).encode()

HEADERS = {"Content-Type": "application/json", "sb-api-key-id": KEY_ID,
           "sb-api-secret-key": SECRET}
PATH = "/api/send-message"

TARGET_RATE = 12_000.0  # DESIGN §10: accepted and committed a second, one process, one core
TARGET_RATIO = 1 / 3  # ...and at least this share of the bare echo baseline


@dataclass(frozen=True, slots=True)
class Measurement:
    target: str
    wrk: WrkResult
    cpu: CpuShare


@dataclass(frozen=True, slots=True)
class Durability:
    answered: int  # 2xx answers to send-message seen by wrk and the readiness probe
    committed: int  # outbound message rows in the store afterwards
    created_events: int  # message.created events, written in the same transaction
    stop: str

    @property
    def ok(self) -> bool:
        return self.committed >= self.answered and self.created_events == self.committed


@dataclass(frozen=True, slots=True)
class Round:
    echo: Measurement
    bluewire: Measurement
    durability: Durability

    @property
    def ratio(self) -> float:
        return self.bluewire.wrk.ok_rate / max(self.echo.wrk.ok_rate, 1e-9)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10,
                        help="seconds each target is measured (default 10)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of load before each measurement (default 2)")
    parser.add_argument("--connections", type=int, default=64,
                        help="concurrent keep-alive connections (default 64)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure echo then bluewire this many times; the median ratio is "
                             "reported (default 1)")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the servers run on")
    parser.add_argument("--load-cpu", type=int, default=1, help="CPU wrk (and this script) run on")
    parser.add_argument("--stop", choices=("kill", "term"), default="kill",
                        help="how bluewire is stopped before the durability count: SIGKILL "
                             "while still under load (default), or SIGTERM after the run")
    parser.add_argument("--recipient", default=RECIPIENT,
                        help="the sandbox phone to send to (its number sets how much work each "
                             "message causes after its answer; see the README's magic numbers)")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for bluewire, e.g. BLUEWIRE_WRITER_BATCH=256")
    parser.add_argument("--profile", action="store_true",
                        help="record the bluewire server with py-spy during the measured run "
                             "and print where its time goes (throughput is lower meanwhile)")
    parser.add_argument("--profile-rate", type=int, default=50,
                        help="py-spy samples a second (default 50: native sampling stops the "
                             "server for each sample)")
    parser.add_argument("--native", action=argparse.BooleanOptionalAction, default=True,
                        help="with --profile: also sample C frames, so SQLite, libuv and the "
                             "waits show as themselves (default: on)")
    parser.add_argument("--profile-out", type=Path,
                        default=Path(tempfile.gettempdir()) / "bluewire-send.pyspy.txt",
                        help="where the raw py-spy profile is saved (flamegraph.pl format)")
    args = parser.parse_args()
    if args.duration < 1 or args.warmup < 0 or args.connections < 1 or args.rounds < 1:
        parser.error("--duration, --connections and --rounds must be positive")
    for item in args.server_env:
        if "=" not in item:
            parser.error(f"--server-env wants NAME=VALUE, not {item!r}")
    return args


# -- the targets -------------------------------------------------------------------------------


def measure(name: str, server: ServerProcess, wrk: Wrk, args: argparse.Namespace,
            profiler: list[str] | None = None) -> tuple[Measurement, int]:
    """Warm up, then measure; (the measurement, the 2xx answers of the warm-up)."""
    url = f"http://127.0.0.1:{server.port}{PATH}"
    warm_ok = wrk.run(url, args.warmup).ok if args.warmup else 0
    meter = CpuMeter(server.pid, args.server_cpu, args.load_cpu)
    spy = None
    if profiler is not None:
        spy = subprocess.Popen([*profiler, "--pid", str(server.pid)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    result = wrk.run(url, args.duration)
    cpu = meter.read()
    if spy is not None:
        output, _ = spy.communicate()
        if spy.returncode != 0:
            print(f"py-spy failed ({spy.returncode}):\n{output}", file=sys.stderr)
    return Measurement(name, result, cpu), warm_ok


def run_echo(workdir: Path, wrk: Wrk, args: argparse.Namespace) -> Measurement:
    port = free_port()
    server = ServerProcess(
        "echo", [sys.executable, str(BENCH / "echo_app.py"), "--port", str(port)],
        cpu=args.server_cpu, cwd=workdir, env=python_env(), port=port,
    ).start()
    try:
        body = send_body(args.recipient)
        server.wait_ready(lambda: http_request(port, "POST", PATH, body, HEADERS)[0] == 200)
        measurement, _ = measure("echo (bare ASGI + msgspec)", server, wrk, args)
        return measurement
    finally:
        server.stop()


def run_bluewire(workdir: Path, wrk: Wrk, args: argparse.Namespace,
                 profiler: list[str] | None) -> tuple[Measurement, Durability]:
    workdir.mkdir()
    database = workdir / "bench.db"
    port = free_port()
    env = python_env(
        BLUEWIRE_DATABASE_URL=f"sqlite:///{database}",
        BLUEWIRE_API_KEY_ID=KEY_ID,
        BLUEWIRE_API_SECRET_KEY=SECRET,
        BLUEWIRE_LOG_LEVEL="warning",
    )
    env.update(item.split("=", 1) for item in args.server_env)
    server = ServerProcess(
        "bluewire", [sys.executable, "-m", "bluewire", "serve", "--port", str(port)],
        cpu=args.server_cpu, cwd=workdir, env=env, port=port,
    ).start()
    try:
        server.wait_ready(lambda: http_request(port, "GET", "/openapi.json")[0] == 200)
        status, answer = http_request(port, "POST", PATH, send_body(args.recipient), HEADERS)
        if status != 200:
            raise RuntimeError(f"send-message answered {status}: {answer.decode(errors='replace')}"
                               f"\n{server.log()}")
        answered = 1
        measurement, warm_ok = measure("bluewire send-message", server, wrk, args, profiler)
        answered += warm_ok + measurement.wrk.ok
        if args.stop == "kill":
            answered += _kill_under_load(server, wrk)
        else:
            server.stop()
        committed, events = _count(database)
        return measurement, Durability(answered, committed, events, args.stop)
    except BaseException:
        print(f"--- bluewire log ---\n{server.log()}", file=sys.stderr)
        raise
    finally:
        server.kill()


def _kill_under_load(server: ServerProcess, wrk: Wrk) -> int:
    """Load the server for 3 s and SIGKILL it after 1.5 s; the 2xx answers wrk counted."""
    process = wrk.start(f"http://127.0.0.1:{server.port}{PATH}", 3)
    time.sleep(1.5)
    server.kill()
    output, _ = process.communicate()
    return parse_wrk(output).ok


def _count(database: Path) -> tuple[int, int]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT count(*) FROM messages WHERE is_outbound").fetchone()
        events = connection.execute(
            "SELECT count(*) FROM events WHERE type = 'message.created'").fetchone()
    return int(rows[0]), int(events[0])


# -- the report --------------------------------------------------------------------------------


def _row(m: Measurement) -> str:
    w, c = m.wrk, m.cpu
    per_core = w.ok_rate / c.process if c.process > 0.05 else float("nan")
    switches = c.context_switches / max(w.requests, 1)
    return (f"{m.target:<27}{w.ok_rate:>9,.0f}{w.p50_ms:>8.2f}{w.p99_ms:>8.2f}{w.p999_ms:>8.2f}"
            f"{w.non_2xx:>8,}{w.socket_errors:>6,}{c.process:>6.0%} ={c.main_thread:>4.0%}"
            f" +{c.other_threads:>4.0%}{c.others_on_cpu:>7.0%}{per_core:>9,.0f}{switches:>7.2f}"
            f"{w.wrk_cpu:>6.0%}")


def _verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def print_report(rounds: list[Round], args: argparse.Namespace) -> None:
    print(f"\nPOST {PATH}: {args.connections} connections, {args.duration} s per target after "
          f"{args.warmup} s warm-up; servers on CPU {args.server_cpu}, wrk on CPU "
          f"{args.load_cpu}{'; PROFILED (py-spy attached)' if args.profile else ''}\n")
    print(f"{'target':<27}{'2xx/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'p99.9':>8}{'non-2xx':>8}"
          f"{'sock':>6}{'server CPU = main + other':>27}{'noise':>7}{'/core-s':>9}{'cs/req':>7}"
          f"{'wrk':>6}")
    for number, one in enumerate(rounds, 1):
        if len(rounds) > 1:
            print(f"round {number}")
        print(_row(one.echo))
        print(_row(one.bluewire))
    rate = statistics.median(r.bluewire.wrk.ok_rate for r in rounds)
    ratio = statistics.median(r.ratio for r in rounds)
    which = "median " if len(rounds) > 1 else ""
    print(f"\n{which}bluewire accepted/s   {rate:>9,.0f}    target >= {TARGET_RATE:,.0f}/s"
          f"      {_verdict(rate >= TARGET_RATE)}")
    print(f"{which}ratio bluewire/echo   {ratio:>9.2f}    target >= 1/3 ({TARGET_RATIO:.2f})"
          f"    {_verdict(ratio >= TARGET_RATIO)}")
    others = max(max(r.echo.cpu.others_on_cpu, r.bluewire.cpu.others_on_cpu) for r in rounds)
    if others > 0.05:
        print(f"noise: other processes took up to {others:.0%} of CPU {args.server_cpu} during a "
              "measurement; compare the ratio and the /core-s column, not the absolute rates")
    if any(r.echo.wrk.wrk_cpu > 0.9 or r.bluewire.wrk.wrk_cpu > 0.9 for r in rounds):
        print("warning: wrk used > 90% of its core: the load generator may be the limit")
    print("\ncolumns: 2xx/s = accepted a second. server CPU = the server process's share of its "
          "core:\n  its main thread (event loop) + its other threads (bluewire: the writer). "
          "noise = other\n  processes on that core. /core-s = 2xx per CPU-second the server "
          "used. cs/req = the server's\n  context switches per request (thread hand-offs). "
          "wrk = CPU wrk used on its own core.\n  Latency is wrk's: closed loop, from send to "
          "answer.")
    for number, one in enumerate(rounds, 1):
        d = one.durability
        how = ("SIGKILL under load" if d.stop == "kill" else "SIGTERM after the run")
        label = f"durability (round {number})" if len(rounds) > 1 else "durability"
        print(f"\n{label}, server stopped by {how}:\n"
              f"  2xx answered {d.answered:,}; rows committed {d.committed:,} "
              f"({d.committed - d.answered:+,} committed but not counted as answered: in flight "
              f"when a wrk run ended or the server died); message.created events "
              f"{d.created_events:,}\n"
              f"  {'OK: every 200 is in the store' if d.ok else 'FAILED'}")


# -- main --------------------------------------------------------------------------------------


def _profiler(args: argparse.Namespace) -> list[str] | None:
    if not args.profile:
        return None
    spy = shutil.which("py-spy")
    if spy is None:
        sys.exit("--profile needs py-spy: pip install py-spy")
    command = ["taskset", "-c", str(args.load_cpu)] if shutil.which("taskset") else []
    command += [spy, "record", "--duration", str(args.duration), "--rate",
                str(args.profile_rate), "--format", "raw", "--threads",
                "--output", str(args.profile_out.resolve())]
    if args.native:
        command.append("--native")
    return command


def main() -> int:
    args = parse_args()
    wrk_path = require_wrk()
    profiler = _profiler(args)
    check_cpus(args.server_cpu, args.load_cpu)
    pin_self(args.load_cpu)
    rounds: list[Round] = []
    with scratch_dir("bluewire-bench-") as scratch:
        workdir = Path(scratch)
        script = write_wrk_script(workdir, send_body(args.recipient), HEADERS)
        wrk = Wrk(wrk_path, script, cpu=args.load_cpu, connections=args.connections)
        for number in range(args.rounds):
            print(f"round {number + 1}/{args.rounds}: echo baseline...", flush=True)
            echo = run_echo(workdir, wrk, args)
            print(f"round {number + 1}/{args.rounds}: bluewire...", flush=True)
            blue, durability = run_bluewire(workdir / f"bluewire-{number}", wrk, args,
                                            profiler if number == 0 else None)
            rounds.append(Round(echo, blue, durability))
    print_report(rounds, args)
    if profiler is not None and args.profile_out.exists():
        print(f"\nprofile of the bluewire server during the measured run "
              f"(raw py-spy stacks: {args.profile_out}):")
        with args.profile_out.open() as lines:
            measured = rounds[0].bluewire
            per_request = measured.cpu.process / max(measured.wrk.rate, 1e-9) * 1e6
            print(report(load(lines), cpu_us_per_request=per_request))
    failed = [r for r in rounds if not r.durability.ok or r.bluewire.wrk.non_2xx
              or r.echo.wrk.non_2xx]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
