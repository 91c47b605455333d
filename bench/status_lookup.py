"""GET /api/status at a fixed 1,000 requests a second on a store of 1,000,000 messages and on
one of 10,000: latency and the server's memory, next to the echo baseline at the same rate.

    python3 bench/status_lookup.py [--sizes 10000,1000000] [--rate 1000] [--duration 10]

SQLite only. For each size it starts `bluewire serve` on a fresh SQLite file in a temporary
directory, pinned to one CPU, so it migrates the store and makes the bootstrap account; stops it
and writes, straight into the store, that many messages of the bootstrap account on the sandbox
line (7 in 10 outbound), time-ordered with UUIDv7 handles over the last `--days` days, to and from
`--contacts` numbers (a few busy, most quiet; each with its contact row, 1% opted out), statuses
mixed (2% failed, SMS ends at SENT, a quarter of the rest DELIVERED and the others READ). It
starts the server again and, from the other CPU, an open-loop client (aiohttp on uvloop, in this
process) sends `GET /api/status?handle=<a random existing handle>` on a fixed schedule of
`--rate` a second for `--warmup` + `--duration` seconds, whatever the answers; each latency is
taken from the request's scheduled time to its answer read, so a stalled server counts for
every request that waited (no coordinated omission). Then it reads the server's memory (VmRSS
of its process tree, from /proc). The baseline, measured just after each bluewire run at the
same rate the same way, is bench/echo_app.py answering a POST of the same size as the status
answer: the floor of this client, loopback and server stack.

Targets (at 1,000,000 messages): p99 <= 5 ms at 1,000 requests a second, RSS <= 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import (
    API_HEADERS,
    DAY_MS,
    KEY_ID,
    LINE,
    CpuMeter,
    CpuShare,
    ServerProcess,
    add_server_env_argument,
    bluewire_on_sqlite,
    check_cpus,
    contact_number,
    free_port,
    handle_at,
    http_request,
    insert_rows,
    percentile,
    pin_self,
    process_tree,
    python_env,
    scratch_dir,
    wait_serving,
)
from profile_summary import load as load_profile
from profile_summary import report

BENCH = Path(__file__).resolve().parent
SEED_COMMIT = 100_000  # rows a seeding transaction writes
TARGET_ROWS = 1_000_000
TARGET_P99_MS = 5.0
TARGET_RSS_MB = 200.0
TEXTS = ("Your order has shipped", "See you at 3?", "Thanks!", "Reminder: your appointment is "
         "tomorrow at 10am", "ok", "Can you call me back when you get a chance?")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000",
                        help="messages in the store, one measurement each (default "
                             "10000,1000000)")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="requests a second, open loop (default 1000)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds measured (default 10)")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds at the same rate before the measured ones (default 3)")
    parser.add_argument("--connections", type=int, default=64,
                        help="the client's keep-alive connection limit (default 64)")
    parser.add_argument("--contacts", type=int, default=5000,
                        help="numbers the messages are to and from (default 5000)")
    parser.add_argument("--days", type=int, default=180,
                        help="the days the messages are spread over, up to now (default 180)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the seeded history")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the servers run on")
    parser.add_argument("--load-cpu", type=int, default=1, help="CPU this client runs on")
    add_server_env_argument(parser, "BLUEWIRE_SQLITE_MMAP_MIB=256")
    parser.add_argument("--profile", action="store_true",
                        help="record bluewire at the largest size with py-spy during the "
                             "measured run and print where its time goes (it is slower "
                             "meanwhile)")
    parser.add_argument("--profile-out", type=Path,
                        default=Path(tempfile.gettempdir()) / "bluewire-status.pyspy.txt",
                        help="where the raw py-spy profile is saved")
    args = parser.parse_args()
    try:
        args.sizes = sorted({int(size) for size in args.sizes.split(",")})
    except ValueError:
        parser.error("--sizes wants numbers separated by commas, e.g. 10000,1000000")
    if min(args.sizes) < 100 or args.rate <= 0 or args.duration <= 0 or args.contacts < 10:
        parser.error("--sizes >= 100, --contacts >= 10, --rate and --duration positive")
    return args


# -- the seeded store --------------------------------------------------------------------------


MESSAGE_COLUMNS = (
    "id", "handle", "account_id", "is_outbound", "line", "number", "content", "message_type",
    "status", "service", "was_downgraded", "error_code", "error_message", "created_at",
    "updated_at", "sent_at", "delivered_at", "read_at", "claimed_until", "dispatch_attempts",
    "campaign",
)
CONTACT_COLUMNS = ("contact_id", "account_id", "number", "opted_out", "verified", "created_at",
                   "updated_at")


@dataclass(slots=True)
class Seeded:
    messages: int
    seconds: float
    database_mb: float
    handles: list[str]  # a sample of the seeded handles, spread evenly over the store


@dataclass(frozen=True, slots=True)
class History:
    """Who the messages are with: each contact's number, service and weight."""

    account: int
    numbers: list[str]
    services: list[str]
    cumulative: list[float]  # cumulative weights: a few busy contacts, a long quiet tail


def history(account: int, args: argparse.Namespace, rng: random.Random) -> History:
    numbers = [contact_number(i) for i in range(args.contacts)]
    services = [rng.choices(("iMessage", "SMS", "RCS"), (80, 15, 5))[0] for _ in numbers]
    total, cumulative = 0.0, []
    for rank in range(args.contacts):
        total += 1 / (rank + 20)
        cumulative.append(total)
    return History(account, numbers, services, cumulative)


def message_row(message_id: int, created: int, contact: int, people: History,
                rng: random.Random) -> tuple[Any, ...]:
    """One message of the seeded history, as the server stores it (a terminal status, so
    nothing is due to the dispatcher)."""
    number, service = people.numbers[contact], people.services[contact]
    handle = handle_at(created, rng)
    text = rng.choice(TEXTS)
    if rng.random() < 0.3:  # inbound
        return (message_id, handle, people.account, False, LINE, number, text, "message",
                "RECEIVED", service, None, None, None, created, created, None, None, None, None,
                0, None)
    campaign = f"campaign-{rng.randrange(20):02d}" if rng.random() < 0.3 else None
    sent = delivered = read = error_code = error_message = None
    if rng.random() < 0.02:
        status, shown_service, updated = "ERROR", None, created + rng.randrange(200, 2_000)
        error_code, error_message = 10001, "The message could not be sent"
    else:
        shown_service = service
        sent = created + rng.randrange(150, 900)
        status, updated = "SENT", sent
        if service != "SMS":
            delivered = sent + rng.randrange(300, 5_000)
            status, updated = "DELIVERED", delivered
            if rng.random() < 0.75:
                read = delivered + rng.randrange(5_000, 3_600_000)
                status, updated = "READ", read
    return (message_id, handle, people.account, True, LINE, number, text, "message", status,
            shown_service, service == "SMS" or None, error_code, error_message, created,
            updated, sent, delivered, read, None, 1, campaign)


def message_batches(count: int, people: History, args: argparse.Namespace, rng: random.Random,
                    sample: list[str]) -> Iterator[list[tuple[Any, ...]]]:
    """The messages in time order, `SEED_COMMIT` at a time; every so many handles go into
    `sample`."""
    span = args.days * DAY_MS
    start = int(time.time() * 1000) - span
    stride = max(1, count // 20_000)
    batch: list[tuple[Any, ...]] = []
    contacts = rng.choices(range(args.contacts), cum_weights=people.cumulative, k=count)
    for position, contact in enumerate(contacts):
        created = start + position * span // count
        row = message_row(position + 1, created, contact, people, rng)
        batch.append(row)
        if position % stride == 0:
            sample.append(row[1])
        if len(batch) == SEED_COMMIT:
            yield batch
            batch = []
    if batch:
        yield batch


def contact_rows(people: History, args: argparse.Namespace,
                 rng: random.Random) -> list[tuple[Any, ...]]:
    first = int(time.time() * 1000) - args.days * DAY_MS
    return [("ct_" + handle_at(first, rng).replace("-", ""), people.account, number,
             rng.random() < 0.01, service != "SMS", first, first)
            for number, service in zip(people.numbers, people.services, strict=True)]


def seed(database: Path, count: int, args: argparse.Namespace) -> Seeded:
    """Write the history into the stopped server's store, in transactions of `SEED_COMMIT`
    rows."""
    started = time.monotonic()
    rng = random.Random(args.seed)
    with sqlite3.connect(database) as connection:
        account = connection.execute("SELECT account_id FROM api_keys WHERE key_id = ?",
                                     (KEY_ID,)).fetchone()[0]
    people = history(account, args, rng)
    sample: list[str] = []
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA cache_size=-1048576")  # the indexes stay in memory
        connection.execute("PRAGMA synchronous=OFF")  # a scratch store: a crash restarts it
        with connection:
            insert_rows(connection, "contacts", CONTACT_COLUMNS, contact_rows(people, args, rng))
        for batch in message_batches(count, people, args, rng, sample):
            with connection:
                insert_rows(connection, "messages", MESSAGE_COLUMNS, batch)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    rng.shuffle(sample)
    return Seeded(count, time.monotonic() - started, database.stat().st_size / 2**20, sample)


# -- the open-loop client ----------------------------------------------------------------------


@dataclass(slots=True)
class Load:
    """What the open-loop client saw of the measured requests."""

    latencies_ms: list[float] = field(default_factory=list)  # scheduled time -> answer read
    errors: int = 0  # answers other than 200, and failed requests
    lag_ms: float = 0.0  # how far behind its schedule the client itself fell, at worst

    def pct(self, q: float) -> float:
        return percentile(self.latencies_ms, q) if self.latencies_ms else float("nan")


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: Callable[[int], str]  # the i-th request's URL
    body: bytes | None
    headers: dict[str, str]


async def open_loop(request: Request, args: argparse.Namespace,
                    on_measuring: Callable[[], None]) -> Load:
    """Send `args.rate` requests a second for the warm-up and the measured seconds, each at its
    scheduled time whatever the answers; `on_measuring` is called when the measured ones
    begin."""
    import aiohttp

    loop = asyncio.get_running_loop()
    load = Load()
    total = round(args.rate * (args.warmup + args.duration))
    first_measured = round(args.rate * args.warmup)

    async def one(session: aiohttp.ClientSession, i: int, due: float) -> None:
        try:
            async with session.request(request.method, request.url(i), data=request.body,
                                       headers=request.headers) as answer:
                await answer.read()
                ok = answer.status == 200
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        if i >= first_measured:
            load.latencies_ms.append((time.perf_counter() - due) * 1000)
            load.errors += not ok

    connector = aiohttp.TCPConnector(limit=args.connections)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     skip_auto_headers=("accept-encoding",)) as session:
        tasks = []
        start = time.perf_counter() + 0.05
        for i in range(total):
            due = start + i / args.rate
            if i == first_measured:
                on_measuring()
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif i >= first_measured:
                load.lag_ms = max(load.lag_ms, -delay * 1000)
            tasks.append(loop.create_task(one(session, i, due)))
        await asyncio.gather(*tasks)
    return load


# -- measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Memory:
    """The resident memory of a process tree, in MB: anonymous (heap, page cache SQLite
    allocates) and file-backed (code, and the database pages mapped by mmap)."""

    rss: float
    anon: float
    file: float


def tree_memory(pid: int) -> Memory:
    totals = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/status") as status:
                for line in status:
                    name, _, value = line.partition(":")
                    if name in totals:
                        totals[name] += int(value.split()[0])  # kB
        except OSError:
            continue
    return Memory(totals["VmRSS"] / 1024, totals["RssAnon"] / 1024, totals["RssFile"] / 1024)


@dataclass(frozen=True, slots=True)
class Measured:
    name: str
    rows: int
    load: Load
    cpu: CpuShare
    memory: Memory | None = None  # after the run (bluewire only)
    memory_idle: Memory | None = None  # started, before any load


def run_load(name: str, rows: int, server: ServerProcess, request: Request,
             args: argparse.Namespace, spy: Callable[[], None] | None = None) -> Measured:
    meters: list[CpuMeter] = []

    def measuring() -> None:
        meters.append(CpuMeter(server.pid, args.server_cpu, args.load_cpu))
        if spy is not None:
            spy()

    load = _run(open_loop(request, args, measuring))
    return Measured(name, rows, load, meters[0].read())


def _run(coroutine: Coroutine[Any, Any, Load]) -> Load:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    result: Load = uvloop.run(coroutine)
    return result


def measure_bluewire(workdir: Path, rows: int, args: argparse.Namespace,
                     profile: bool) -> tuple[Measured, Seeded, bytes]:
    """Seed a store of `rows` messages and load bluewire on it; also the status answer body."""
    workdir.mkdir()
    database = workdir / "bench.db"
    server = bluewire_on_sqlite(workdir, database, cpu=args.server_cpu,
                                **dict(args.server_env))
    spies: list[subprocess.Popen[str]] = []
    try:
        server.start()
        wait_serving(server, "/openapi.json")
        server.stop()
        print(f"{rows:,} rows: seeding...", flush=True)
        seeded = seed(database, rows, args)
        print(f"{rows:,} rows: seeded in {seeded.seconds:.1f} s; bluewire at {args.rate:g}/s...",
              flush=True)
        server.start()
        wait_serving(server, "/openapi.json")
        request, body = status_request(server, seeded.handles)
        idle = tree_memory(server.pid)
        spy = (lambda: spies.append(_py_spy(server.pid, args))) if profile else None
        measured = run_load("bluewire", rows, server, request, args, spy)
        memory = tree_memory(server.pid)
    except BaseException:
        print(f"--- bluewire log ---\n{server.log()}", file=sys.stderr)
        raise
    finally:
        server.stop()
    if spies:
        _print_profile(spies[0], args, measured)
    return replace(measured, memory=memory, memory_idle=idle), seeded, body


def status_request(server: ServerProcess, handles: list[str]) -> tuple[Request, bytes]:
    """The load's request (the i-th asks for the i-th handle, round and round), and one answer
    to it, checked."""
    status, body = http_request(server.port, "GET", f"/api/status?handle={handles[0]}", None,
                                API_HEADERS)
    if status != 200:
        raise RuntimeError(f"GET /api/status answered {status}: {body!r}")
    base = f"http://127.0.0.1:{server.port}/api/status?handle="
    return Request("GET", lambda i: base + handles[i % len(handles)], None, API_HEADERS), body


def measure_echo(workdir: Path, rows: int, body: bytes, args: argparse.Namespace) -> Measured:
    """The echo app, POSTed the status answer's body at the same rate."""
    port = free_port()
    server = ServerProcess(
        "echo", [sys.executable, str(BENCH / "echo_app.py"), "--port", str(port)],
        cpu=args.server_cpu, cwd=workdir, env=python_env(), port=port).start()
    try:
        server.wait_ready(lambda: http_request(port, "POST", "/", body, API_HEADERS)[0] == 200)
        url = f"http://127.0.0.1:{port}/api/status"
        request = Request("POST", lambda _: url, body, API_HEADERS)
        return run_load("echo baseline", rows, server, request, args)
    finally:
        server.stop()


def _py_spy(pid: int, args: argparse.Namespace) -> subprocess.Popen[str]:
    from webhook_delivery import py_spy

    return py_spy(pid, args.duration, args.profile_out, args.load_cpu)


def _print_profile(spy: subprocess.Popen[str], args: argparse.Namespace,
                   measured: Measured) -> None:
    output, _ = spy.communicate()
    if spy.returncode != 0 or not args.profile_out.exists():
        print(f"py-spy failed ({spy.returncode}):\n{output}", file=sys.stderr)
        return
    print(f"\nprofile of bluewire at {measured.rows:,} rows (raw py-spy stacks: "
          f"{args.profile_out}):")
    per_request_us = measured.cpu.process / args.rate * 1e6
    with args.profile_out.open() as lines:
        print(report(load_profile(lines), cpu_us_per_request=per_request_us))


# -- the report --------------------------------------------------------------------------------


def _verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def _row(one: Measured, echo: Measured | None) -> str:
    w, c = one.load, one.cpu
    memory = "" if one.memory is None else (
        f"{one.memory.rss:>8.0f} = {one.memory.anon:>4.0f} + {one.memory.file:>4.0f}"
        f"{one.memory_idle.rss if one.memory_idle else float('nan'):>7.0f}")
    ratio = "" if echo is None else f"{w.pct(99) / max(echo.load.pct(99), 1e-9):>6.1f}"
    return (f"{one.rows:>10,}  {one.name:<14}{len(w.latencies_ms):>7,}{w.pct(50):>8.2f}"
            f"{w.pct(99):>8.2f}{w.pct(99.9):>8.2f}{max(w.latencies_ms, default=0):>8.1f}"
            f"{w.errors:>7,}{w.lag_ms:>7.1f}{c.process:>6.0%}{c.others_on_cpu:>7.0%}"
            f"{c.load_cpu_busy:>6.0%}{ratio:>7}  {memory}".rstrip())


def _print_warnings(measured: list[Measured], args: argparse.Namespace) -> None:
    noise = max(one.cpu.others_on_cpu for one in measured)
    lag = max(one.load.lag_ms for one in measured)
    if noise > 0.05:
        print(f"noise: other processes took up to {noise:.0%} of CPU {args.server_cpu} during a "
              "measurement; compare each p99 with the echo's beside it")
    if lag > 5:
        print(f"the client fell up to {lag:.0f} ms behind its schedule (CPU {args.load_cpu} "
              "busy): that much is in the latencies measured meanwhile")


def print_report(pairs: list[tuple[Measured, Measured, Seeded]],
                 args: argparse.Namespace) -> None:
    print(f"\nGET /api/status?handle=<random existing handle>, {args.rate:g} requests a second "
          f"open loop, {args.duration:g} s measured after {args.warmup:g} s; servers on CPU "
          f"{args.server_cpu}, client on CPU {args.load_cpu}")
    for _, _, seeded in pairs:
        print(f"  {seeded.messages:,} messages seeded in {seeded.seconds:.1f} s "
              f"({seeded.database_mb:,.0f} MB of SQLite)")
    print(f"\n{'rows':>10}  {'target':<14}{'sent':>7}{'p50 ms':>8}{'p99':>8}{'p99.9':>8}"
          f"{'max':>8}{'errors':>7}{'lag':>7}{'CPU':>6}{'noise':>7}{'load':>6}{'p99 x':>7}  "
          f"{'RSS MB = anon + file':>22}{'idle':>7}")
    for blue, echo, _ in pairs:
        print(_row(echo, None))
        print(_row(blue, echo))
    print(f"\n{'rows':>10}{'p50 ms':>9}{'p99 ms':>9}   target <= {TARGET_P99_MS:g} ms"
          f"{'RSS MB':>9}   target <= {TARGET_RSS_MB:g} MB")
    for blue, _, _ in pairs:
        p99, rss = blue.load.pct(99), blue.memory.rss if blue.memory else float("nan")
        judged = blue.rows >= TARGET_ROWS
        print(f"{blue.rows:>10,}{blue.load.pct(50):>9.2f}{p99:>9.2f}   "
              f"{_verdict(p99 <= TARGET_P99_MS) if judged else '(for comparison)':<18}"
              f"{rss:>9.0f}   {_verdict(rss <= TARGET_RSS_MB) if judged else ''}".rstrip())
    _print_warnings([one for blue, echo, _ in pairs for one in (echo, blue)], args)
    print("columns: latency from each request's scheduled send time to its answer read (open "
          "loop: a stall\n  counts for every request that waited); lag = how far behind "
          "schedule the client fell, at\n  worst (ms). CPU = the server's share of its core, "
          "noise = other processes on that core, load\n  = the client's core. p99 x = over "
          "the echo's p99 on the row above (measured just after).\n  RSS = VmRSS of the "
          "server's process tree after the run (anon: heap and SQLite's page\n  cache; file: "
          "code and the database pages it maps), idle = after start, before any load.")


def main() -> int:
    args = parse_args()
    check_cpus(args.server_cpu, args.load_cpu)
    pin_self(args.load_cpu)
    pairs: list[tuple[Measured, Measured, Seeded]] = []
    with scratch_dir("bluewire-status-bench-") as scratch:
        workdir = Path(scratch)
        for rows in args.sizes:
            profile = args.profile and rows == args.sizes[-1]
            blue, seeded, body = measure_bluewire(workdir / f"rows-{rows}", rows, args, profile)
            print(f"{rows:,} rows: echo baseline at {args.rate:g}/s...", flush=True)
            echo = measure_echo(workdir, rows, body, args)
            seeded.handles.clear()
            pairs.append((blue, echo, seeded))
    print_report(pairs, args)
    return 1 if any(blue.load.errors or echo.load.errors for blue, echo, _ in pairs) else 0


if __name__ == "__main__":
    sys.exit(main())
