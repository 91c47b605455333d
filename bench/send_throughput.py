"""POST /api/send-message: accepted messages a second on one core, next to a bare echo baseline.

    python3 bench/send_throughput.py [--duration 10] [--connections 64] [--stores sqlite,pg1,pg2]
                                     [--profile]

Starts `bluewire serve` as a real process pinned to one CPU and loads it with wrk pinned to
another; measures, in the same run and the same way, a bare ASGI + msgspec echo app on the same
uvicorn stack (bench/echo_app.py), just before each store. Stores: sqlite, pg1 (one process on
PostgreSQL), pg2 (`serve --workers 2` on PostgreSQL; the database, when it is ours, pinned to
the server's CPU too: see bench/postgres.py). Prints req/s and p50/p99 latency of each, its
ratio to the echo measured before it, and the project's targets next to them. Then checks
durability: every 200 answered must be a row in the store (the server is killed with SIGKILL
under load, so nothing flushes on exit).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from harness import (
    API_HEADERS,
    KEY_ID,
    LINE,
    SECRET,
    CpuMeter,
    CpuShare,
    ServerProcess,
    Wrk,
    WrkResult,
    add_server_env_argument,
    check_cpus,
    free_port,
    http_request,
    parse_wrk,
    pin_self,
    process_tree,
    python_env,
    require_wrk,
    scratch_dir,
    wait_serving,
    write_wrk_script,
)
from postgres import (
    Postgres,
    Store,
    Stores,
    add_stores_argument,
    database_pid,
    open_stores,
    query,
    store_database,
)
from profile_summary import load, report

BENCH = Path(__file__).resolve().parent

RECIPIENT = "+14155550100"  # a sandbox phone on iMessage: delivered, then read


def send_body(recipient: str) -> bytes:
    return json.dumps({"number": recipient, "from_number": LINE,
                       "content": "Hello from the bluewire benchmark"}).encode()

PATH = "/api/send-message"

TARGET_RATE = 12_000.0  # the target: accepted and committed a second, one process, one core
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
    """One store measured once, next to the echo baseline measured just before it."""

    store: Store
    number: int
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
                        help="measure echo then bluewire (each store) this many times; the "
                             "median ratio is reported (default 1)")
    add_stores_argument(parser)
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the servers run on")
    parser.add_argument("--load-cpu", type=int, default=1, help="CPU wrk (and this script) run on")
    parser.add_argument("--stop", choices=("kill", "term"), default="kill",
                        help="how bluewire is stopped before the durability count: SIGKILL "
                             "while still under load (default), or SIGTERM after the run")
    parser.add_argument("--recipient", default=RECIPIENT,
                        help="the sandbox phone to send to (its number sets how much work each "
                             "message causes after its answer; see the README's magic numbers)")
    add_server_env_argument(parser, "BLUEWIRE_WRITER_BATCH=256")
    parser.add_argument("--profile", action="store_true",
                        help="record the bluewire server of the first store (pg2: one of its "
                             "workers) with py-spy during the measured run and print where its "
                             "time goes (throughput is lower meanwhile)")
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
    return args


# -- the targets -------------------------------------------------------------------------------


def measure(name: str, server: ServerProcess, wrk: Wrk, args: argparse.Namespace,
            profiler: list[str] | None = None, database_pid: int | None = None,
            ) -> tuple[Measurement, int]:
    """Warm up, then measure; (the measurement, the 2xx answers of the warm-up)."""
    url = f"http://127.0.0.1:{server.port}{PATH}"
    warm_ok = wrk.run(url, args.warmup).ok if args.warmup else 0
    meter = CpuMeter(server.pid, args.server_cpu, args.load_cpu, database_pid)
    spy = None
    if profiler is not None:
        target = process_tree(server.pid)[-1]  # the server, or the last of its workers
        spy = subprocess.Popen([*profiler, "--pid", str(target)], stdout=subprocess.PIPE,
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
        server.wait_ready(lambda: http_request(port, "POST", PATH, body, API_HEADERS)[0] == 200)
        measurement, _ = measure("echo (bare ASGI + msgspec)", server, wrk, args)
        return measurement
    finally:
        server.stop()


def run_bluewire(workdir: Path, wrk: Wrk, args: argparse.Namespace, store: Store,
                 postgres: Postgres | None,
                 profiler: list[str] | None) -> tuple[Measurement, Durability]:
    workdir.mkdir()
    with store_database(store, postgres, workdir) as database:
        server = bluewire_server(workdir, database, store, args)
        try:
            return _load_and_count(server, database, store, wrk, args, profiler,
                                   database_pid(store, postgres))
        except BaseException:
            print(f"--- bluewire log ---\n{server.log()}", file=sys.stderr)
            raise
        finally:
            server.kill()


def bluewire_server(workdir: Path, database: str, store: Store,
                    args: argparse.Namespace) -> ServerProcess:
    port = free_port()
    env = python_env(
        BLUEWIRE_DATABASE_URL=database,
        BLUEWIRE_API_KEY_ID=KEY_ID,
        BLUEWIRE_API_SECRET_KEY=SECRET,
        BLUEWIRE_LOG_LEVEL="warning",
    )
    env.update(args.server_env)
    command = [sys.executable, "-m", "bluewire", "serve", "--port", str(port)]
    if store.workers > 1:
        command += ["--workers", str(store.workers)]
    return ServerProcess("bluewire", command, cpu=args.server_cpu, cwd=workdir, env=env,
                         port=port).start()


def _load_and_count(server: ServerProcess, database: str, store: Store, wrk: Wrk,
                    args: argparse.Namespace, profiler: list[str] | None,
                    database_pid: int | None) -> tuple[Measurement, Durability]:
    wait_serving(server, "/openapi.json", store.workers)
    status, answer = http_request(server.port, "POST", PATH, send_body(args.recipient), API_HEADERS)
    if status != 200:
        raise RuntimeError(f"send-message answered {status}: {answer.decode(errors='replace')}"
                           f"\n{server.log()}")
    answered = 1
    measurement, warm_ok = measure(f"bluewire {store.name}", server, wrk, args, profiler,
                                   database_pid)
    answered += warm_ok + measurement.wrk.ok
    if args.stop == "kill":
        answered += _kill_under_load(server, wrk)
    else:
        server.stop()
    committed, events = _count(database)
    return measurement, Durability(answered, committed, events, args.stop)


def _kill_under_load(server: ServerProcess, wrk: Wrk) -> int:
    """Load the server for 3 s and SIGKILL it after 1.5 s; the 2xx answers wrk counted."""
    process = wrk.start(f"http://127.0.0.1:{server.port}{PATH}", 3)
    time.sleep(1.5)
    server.kill()
    output, _ = process.communicate()
    return parse_wrk(output).ok


def _count(database: str) -> tuple[int, int]:
    rows = query(database, "SELECT count(*) AS n FROM messages WHERE is_outbound")
    events = query(database, "SELECT count(*) AS n FROM events WHERE type = 'message.created'")
    return int(rows[0]["n"]), int(events[0]["n"])


# -- the report --------------------------------------------------------------------------------


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _row(m: Measurement, ratio: float | None = None) -> str:
    w, c = m.wrk, m.cpu
    per_core = w.ok_rate / c.server_side if c.server_side > 0.05 else float("nan")
    switches = c.context_switches / max(w.requests, 1)
    shown_ratio = "" if ratio is None else f"{ratio:>7.2f}"
    return (f"{m.target:<27}{w.ok_rate:>9,.0f}{w.p50_ms:>8.2f}{w.p99_ms:>8.2f}{w.p999_ms:>8.2f}"
            f"{w.non_2xx:>8,}{w.socket_errors:>6,}{c.server_side:>6.0%} ={c.main_thread:>4.0%}"
            f" +{c.other_threads:>4.0%} +{_percent(c.database):>4}{c.others_on_cpu:>7.0%}"
            f"{per_core:>9,.0f}{switches:>7.2f}{w.wrk_cpu:>6.0%}{shown_ratio}")


def _verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def _print_setup(setup: Stores, args: argparse.Namespace) -> None:
    print(f"\nPOST {PATH}: {args.connections} connections, {args.duration} s per target after "
          f"{args.warmup} s warm-up; servers on CPU {args.server_cpu}, wrk on CPU "
          f"{args.load_cpu}{'; PROFILED (py-spy attached)' if args.profile else ''}")
    for line in setup.describe(args.server_cpu):
        print(f"  {line}")
    print()


def _print_table(rounds: list[Round]) -> None:
    print(f"{'target':<27}{'2xx/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'p99.9':>8}{'non-2xx':>8}"
          f"{'sock':>6}{'server CPU = main + other + db':>33}{'noise':>7}{'/core-s':>9}"
          f"{'cs/req':>7}{'wrk':>6}{'ratio':>7}")
    several = len({r.number for r in rounds}) > 1
    previous = 0
    for one in rounds:
        if several and one.number != previous:
            print(f"round {one.number}")
        previous = one.number
        print(_row(one.echo))
        print(_row(one.bluewire, one.ratio))


def _print_summary(rounds: list[Round], stores: list[Store]) -> None:
    if len({r.number for r in rounds}) > 1:
        print("\nmedians over the rounds:")
    print(f"\n{'store':<8}{'bluewire accepted/s':>20}   target >= {TARGET_RATE:,.0f}/s"
          f"{'ratio bluewire/echo':>23}   target >= 1/3 ({TARGET_RATIO:.2f})")
    for store in stores:
        mine = [r for r in rounds if r.store == store]
        rate = statistics.median(r.bluewire.wrk.ok_rate for r in mine)
        ratio = statistics.median(r.ratio for r in mine)
        print(f"{store.name:<8}{rate:>20,.0f}   {_verdict(rate >= TARGET_RATE):<20}"
              f"{ratio:>23.2f}   {_verdict(ratio >= TARGET_RATIO)}")


def _print_warnings(rounds: list[Round], args: argparse.Namespace) -> None:
    others = max(max(r.echo.cpu.others_on_cpu, r.bluewire.cpu.others_on_cpu) for r in rounds)
    if others > 0.05:
        print(f"noise: other processes took up to {others:.0%} of CPU {args.server_cpu} during a "
              "measurement; compare the ratio and the /core-s column, not the absolute rates")
    if any(r.echo.wrk.wrk_cpu > 0.9 or r.bluewire.wrk.wrk_cpu > 0.9 for r in rounds):
        print("warning: wrk used > 90% of its core: the load generator may be the limit")


def _print_durability(rounds: list[Round]) -> None:
    several = len({r.number for r in rounds}) > 1
    for one in rounds:
        d = one.durability
        how = ("SIGKILL under load" if d.stop == "kill" else "SIGTERM after the run")
        label = f"durability, {one.store.name}" + (f" (round {one.number})" if several else "")
        print(f"\n{label}, server stopped by {how}:\n"
              f"  2xx answered {d.answered:,}; rows committed {d.committed:,} "
              f"({d.committed - d.answered:+,} committed but not counted as answered: in flight "
              f"when a wrk run ended or the server died); message.created events "
              f"{d.created_events:,}\n"
              f"  {'OK: every 200 is in the store' if d.ok else 'FAILED'}")


def print_report(rounds: list[Round], setup: Stores, args: argparse.Namespace) -> None:
    _print_setup(setup, args)
    _print_table(rounds)
    _print_summary(rounds, setup.stores)
    _print_warnings(rounds, args)
    print("\ncolumns: 2xx/s = accepted a second. server CPU = the server side's share of its "
          "core: the\n  bluewire processes' main threads (event loops) + their other threads "
          "(the writers) + the\n  database's processes (PostgreSQL when pinned there; - when "
          "not counted: SQLite runs inside\n  bluewire, an external PostgreSQL is not "
          "measured). noise = other processes on that core.\n  /core-s = 2xx per CPU-second "
          "the server side used. cs/req = the bluewire threads' context\n  switches per "
          "request. wrk = CPU wrk used on its own core. ratio = 2xx/s over the echo\n  "
          "measured just before. Latency is wrk's: closed loop, from send to answer.")
    _print_durability(rounds)


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
    with ExitStack() as stack:
        setup = open_stores(args.stores, args.server_cpu, stack)
        stores = setup.stores
        workdir = Path(stack.enter_context(scratch_dir("bluewire-bench-")))
        script = write_wrk_script(workdir, send_body(args.recipient), API_HEADERS)
        wrk = Wrk(wrk_path, script, cpu=args.load_cpu, connections=args.connections)
        for number in range(1, args.rounds + 1):
            for store in stores:
                rounds.append(run_round(number, store, setup.postgres, workdir, wrk, args,
                                        profiler if not rounds else None))
    print_report(rounds, setup, args)
    if profiler is not None and args.profile_out.exists():
        print(f"\nprofile of the bluewire server ({stores[0].name}) during the measured run "
              f"(raw py-spy stacks: {args.profile_out}):")
        with args.profile_out.open() as lines:
            measured = rounds[0].bluewire
            per_request = measured.cpu.process / max(measured.wrk.rate, 1e-9) * 1e6
            print(report(load(lines), cpu_us_per_request=per_request))
    failed = [r for r in rounds if not r.durability.ok or r.bluewire.wrk.non_2xx
              or r.echo.wrk.non_2xx]
    return 1 if failed else 0


def run_round(number: int, store: Store, postgres: Postgres | None, workdir: Path, wrk: Wrk,
              args: argparse.Namespace, profiler: list[str] | None) -> Round:
    print(f"round {number}/{args.rounds}, {store.name}: echo baseline...", flush=True)
    echo = run_echo(workdir, wrk, args)
    print(f"round {number}/{args.rounds}, {store.name}: bluewire...", flush=True)
    blue, durability = run_bluewire(workdir / f"bluewire-{store.name}-{number}", wrk, args,
                                    store, postgres, profiler)
    return Round(store, number, echo, blue, durability)


if __name__ == "__main__":
    sys.exit(main())
