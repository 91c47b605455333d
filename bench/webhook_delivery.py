"""Webhook delivery: deliveries a second, and send-to-DELIVERED-webhook latency, each next to a
baseline measured in the same run.

    python3 bench/webhook_delivery.py [--deliveries 30000] [--rate 500] [--duration 10]
                                      [--stores sqlite,pg1,pg2]

Everything runs as real processes on loopback: `bluewire serve` (and each baseline) pinned to
the server CPU, and a fast receiver (bench/webhook_receiver.py: asyncio + httptools, answers at
once, logs nothing) pinned to the load CPU. Each store (sqlite; pg1, one process on PostgreSQL;
pg2, `serve --workers 2` on PostgreSQL, whose database, when it is ours, is pinned to the server
CPU too: see bench/postgres.py) is measured next to its baseline, measured just before or after.

(a) **Drain rate.** N pending deliveries (status events of N/4 messages, four per message, as
    the outbox writes them: signed with a global secret, the body of a real status callback)
    are written into bluewire's store while it is stopped; bluewire is started and the
    receiver times their arrival: deliveries a second = (count - 1) / (last - first arrival).
    The baseline is a bare aiohttp client loop, in a process on the same CPU, with the same
    concurrency, POSTing the same body and headers to the same receiver N times.
    Target: >= 5,000/s, and >= 1/2 of the baseline.

(b) **Latency.** An open-loop load generator (on the load CPU) sends R messages a second for the
    warm-up plus the measured duration, each to a sandbox phone on iMessage with a
    `status_callback` to the receiver and its send time in `content`; sandbox delays are zero.
    The receiver computes arrival minus send time for each DELIVERED webhook (same machine, same
    clock). The baseline is bench/relay_app.py, which answers each POST at once and then POSTs a
    DELIVERED webhook to the same receiver: the floor of "accepted -> webhook arrived" here.
    Target: p50 <= 5 ms and p99 <= 25 ms at 500 messages a second.

(c) **Sustained rate.** The highest rate of messages a second that bluewire keeps up with: the
    same open loop as (b), for `--sustain-duration` seconds at a rate, from the target up or
    down in steps of a fifth, then closer (`--refine` halvings of the last step). A rate is
    kept up with when every webhook of every message (four each) arrived within 2 s of the
    last send, and the backlog did not grow: the DELIVERED webhooks of the last 2 s of sends
    took at most twice as long (+ 20 ms) as those of the first 2 s. Target: >= 1/2 of (the
    bare client loop's drain rate in (a) / 4), so (a) runs first.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import (
    API_HEADERS,
    KEY_ID,
    LINE,
    SECRET,
    CpuMeter,
    CpuShare,
    ServerProcess,
    add_server_env_argument,
    check_cpus,
    free_port,
    http_request,
    pin_self,
    process_tree,
    python_env,
    scratch_dir,
    wait_serving,
)
from postgres import (
    Postgres,
    Store,
    Stores,
    add_stores_argument,
    database_pid,
    insert_rows,
    open_stores,
    query,
    store_database,
)
from profile_summary import load, report

BENCH = Path(__file__).resolve().parent

RECIPIENT = "+14155550100"  # a sandbox phone on iMessage: QUEUED, SENT, DELIVERED, READ
GLOBAL_SECRET = "whsec_" + base64.b64encode(b"bluewire-benchmark-webhook-secret").decode()

TARGET_RATE = 5_000.0  # deliveries a second
TARGET_RATIO = 0.5  # of the bare client loop
TARGET_P50_MS = 5.0
TARGET_P99_MS = 25.0
DELIVERIES_PER_MESSAGE = 4  # QUEUED, SENT, DELIVERED and READ, each to the status callback
TARGET_SUSTAINED_SHARE = 0.5  # of the bare loop's drain rate / DELIVERIES_PER_MESSAGE
_GRACE_S = 2.0  # (c): how long after the last send every webhook must have arrived
_EDGE_S = 2.0  # (c): the first and last seconds of sends whose latencies are compared


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("drain", "latency", "sustained"),
                        help="run one of the measurements (default: all three; sustained "
                             "runs the drain first, as its baseline)")
    parser.add_argument("--deliveries", type=int, default=30_000,
                        help="(a) pending deliveries to drain (default 30000)")
    parser.add_argument("--concurrency", type=int, default=128,
                        help="(a) requests in flight: bluewire's BLUEWIRE_DELIVERY_CONCURRENCY "
                             "and the baseline's (default 128, bluewire's default)")
    parser.add_argument("--rate", type=float, default=500.0,
                        help="(b) messages a second, open loop (default 500)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="(b) seconds measured (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="(b) seconds of load before the measured ones (default 2)")
    parser.add_argument("--connections", type=int, default=64,
                        help="(b) the load generator's connection limit (default 64)")
    parser.add_argument("--sustain-duration", type=float, default=8.0,
                        help=f"(c) seconds at each rate tried (default 8; at least "
                             f"{3 * _EDGE_S:g}, so the first and last {_EDGE_S:g} s compared "
                             "have time between them)")
    parser.add_argument("--refine", type=int, default=2,
                        help="(c) halvings of the gap between the last rate kept up with and "
                             "the first one not, once steps of a fifth have found it (default "
                             "2: rates about 5%% apart)")
    parser.add_argument("--server-cpu", type=int, default=0,
                        help="CPU bluewire and the baselines run on")
    parser.add_argument("--load-cpu", type=int, default=1,
                        help="CPU the receiver and the load generator run on")
    add_server_env_argument(parser, "BLUEWIRE_DELIVERY_CONCURRENCY=64")
    add_stores_argument(parser)
    parser.add_argument("--profile", choices=("drain", "latency"),
                        help="record bluewire with py-spy during that measurement of the "
                             "first store (pg2: one of its workers) and print where its time "
                             "goes (the figure is lower meanwhile)")
    parser.add_argument("--profile-out", type=Path,
                        default=Path(tempfile.gettempdir()) / "bluewire-webhooks.pyspy.txt")
    args = parser.parse_args()
    if args.sustain_duration < 3 * _EDGE_S:
        parser.error(f"--sustain-duration must be at least {3 * _EDGE_S:g} s")
    if args.deliveries < 8 or args.concurrency < 1 or args.rate <= 0 or args.duration <= 0:
        parser.error("--deliveries (>= 8), --concurrency, --rate and --duration must be positive")
    return args


# -- processes ---------------------------------------------------------------------------------


class Receiver:
    """bench/webhook_receiver.py, pinned to the load CPU."""

    def __init__(self, workdir: Path, cpu: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = ServerProcess(
            "receiver", [sys.executable, str(BENCH / "webhook_receiver.py"),
                         "--port", str(self.port)],
            cpu=cpu, cwd=workdir, env=python_env(), port=self.port).start()
        self.process.wait_ready(lambda: self.stats()["count"] >= 0)

    def _call(self, method: str, path: str) -> Any:
        status, body = http_request(self.port, method, path)
        if status != 200:
            raise RuntimeError(f"receiver {path}: {status} {body!r}")
        return json.loads(body)

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self._call("GET", "/_stats")
        return stats

    def latencies(self) -> tuple[list[float], list[float]]:
        found = self._call("GET", "/_latencies")
        return found["latencies"], found["sent"]

    def reset(self) -> None:
        self._call("POST", "/_reset")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.stop()


@dataclass(frozen=True, slots=True)
class Target:
    """bluewire on one store: where it works, its database, and whether it is profiled."""

    store: Store
    workdir: Path
    database: str  # its URL
    database_pid: int | None  # a pinned PostgreSQL's postmaster, counted with the server
    profile: str | None  # "drain" or "latency"


def bluewire(target: Target, args: argparse.Namespace, **extra: str) -> ServerProcess:
    target.workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = python_env(
        BLUEWIRE_DATABASE_URL=target.database,
        BLUEWIRE_API_KEY_ID=KEY_ID,
        BLUEWIRE_API_SECRET_KEY=SECRET,
        BLUEWIRE_LOG_LEVEL="warning",
        BLUEWIRE_ALLOW_PRIVATE_WEBHOOKS="1",  # the receiver is on loopback
        BLUEWIRE_SANDBOX_DELIVER_MS="0",
        BLUEWIRE_SANDBOX_READ_MS="0",
        BLUEWIRE_DELIVERY_CONCURRENCY=str(args.concurrency),
        **extra,
    )
    env.update(args.server_env)
    command = [sys.executable, "-m", "bluewire", "serve", "--port", str(port)]
    if target.store.workers > 1:
        command += ["--workers", str(target.store.workers)]
    server = ServerProcess("bluewire", command, cpu=args.server_cpu, cwd=target.workdir,
                           env=env, port=port).start()
    wait_serving(server, "/openapi.json", target.store.workers)
    return server


def api(server: ServerProcess, method: str, path: str, body: Any) -> Any:
    status, answer = http_request(server.port, method, path, json.dumps(body).encode(),
                                  API_HEADERS)
    if status != 200:
        raise RuntimeError(f"{method} {path} answered {status}: {answer!r}\n{server.log()}")
    return json.loads(answer)


def wait(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def wait_arriving(arrived: Callable[[], int], wanted: int, what: str, stall_s: float = 15.0,
                  limit_s: float = 300.0) -> None:
    """Until `arrived()` reaches `wanted`, for as long as it keeps growing: an overloaded server
    still working through its backlog is waited for; one that stopped sending for `stall_s`
    (or is still at it after `limit_s`) is not."""
    start = time.monotonic()
    last, last_growth = -1, start
    while (count := arrived()) < wanted:
        now = time.monotonic()
        if count > last:
            last, last_growth = count, now
        if now - last_growth > stall_s or now - start > limit_s:
            raise RuntimeError(f"{what}: {count:,} of {wanted:,} arrived; none for "
                               f"{now - last_growth:.0f} s, {now - start:.0f} s in all")
        time.sleep(0.1)


def py_spy(pid: int, seconds: float, out: Path, cpu: int) -> subprocess.Popen[str]:
    spy = shutil.which("py-spy")
    if spy is None:
        sys.exit("--profile needs py-spy: pip install py-spy")
    command = ["taskset", "-c", str(cpu)] if shutil.which("taskset") else []
    command += [spy, "record", "--pid", str(process_tree(pid)[-1]),  # pg2: a worker
                "--duration", str(max(1, round(seconds))), "--rate", "100", "--format", "raw",
                "--threads", "--native", "--output", str(out)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def print_profile(spy: subprocess.Popen[str], out: Path, cpu_us_per_item: float) -> None:
    output, _ = spy.communicate()
    if spy.returncode != 0 or not out.exists():
        print(f"py-spy failed ({spy.returncode}):\n{output}", file=sys.stderr)
        return
    print(f"\nprofile of bluewire during the measurement (raw py-spy stacks: {out}):")
    with out.open() as lines:
        print(report(load(lines), cpu_us_per_request=cpu_us_per_item))


# -- (a) drain rate ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Drain:
    name: str
    count: int
    seconds: float  # first to last arrival at the receiver
    cpu: CpuShare | None  # the sender's, when it is a long-lived server
    receiver_cpu: float  # the receiver process's share of its core meanwhile
    cpu_seconds: float  # CPU time the sender used over the whole drain

    @property
    def us_per_delivery(self) -> float:
        return self.cpu_seconds / max(self.count, 1) * 1e6

    @property
    def rate(self) -> float:
        return (self.count - 1) / max(self.seconds, 1e-9)


def client_loop_main(argv: list[str]) -> None:
    """The baseline, in its own process: `webhook_delivery.py client-loop URL N C BODYFILE`."""
    import aiohttp

    url, total, concurrency, body_file = argv[0], int(argv[1]), int(argv[2]), Path(argv[3])
    spec = json.loads(body_file.read_text())
    body: bytes = spec["body"].encode()
    headers: dict[str, str] = spec["headers"]

    async def run() -> None:
        left = iter(range(total))
        connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
        async with aiohttp.ClientSession(connector=connector,
                                         skip_auto_headers=("accept-encoding",)) as session:
            async def worker() -> None:
                for _ in left:
                    async with session.post(url, data=body, headers=headers,
                                            allow_redirects=False) as answer:
                        await answer.content.read(1024)

            await asyncio.gather(*(worker() for _ in range(concurrency)))

    try:
        import uvloop

        uvloop.run(run())
    except ImportError:
        asyncio.run(run())


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.digest(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(digest).decode()


def drain_baseline(workdir: Path, receiver: Receiver, template: str,
                   args: argparse.Namespace) -> Drain:
    webhook_id, timestamp = "evt_bench_baseline", int(time.time())
    headers = {"content-type": "application/json", "user-agent": "bluewire-webhooks/bench",
               "webhook-id": webhook_id, "webhook-timestamp": str(timestamp),
               "webhook-signature": sign(GLOBAL_SECRET, webhook_id, timestamp,
                                         template.encode()),
               "sb-signing-secret": GLOBAL_SECRET}
    spec = workdir / "baseline-body.json"
    spec.write_text(json.dumps({"body": template, "headers": headers}))
    receiver.reset()
    meter = CpuMeter(receiver.pid, args.load_cpu, args.server_cpu)
    client = ServerProcess(
        "client-loop", [sys.executable, str(Path(__file__).resolve()), "client-loop",
                        f"{receiver.url}/drain", str(args.deliveries), str(args.concurrency),
                        str(spec)],
        cpu=args.server_cpu, cwd=workdir, env=python_env(), port=0).start()
    assert client.process is not None
    before = _children_cpu()
    if client.process.wait(600) != 0:
        raise RuntimeError(f"the client loop failed:\n{client.log()}")
    cpu_seconds = _children_cpu() - before  # its whole life: start-up included
    receiver_cpu = meter.read().process
    stats = receiver.stats()
    return Drain("bare aiohttp client loop", stats["count"], stats["last"] - stats["first"],
                 None, receiver_cpu, cpu_seconds)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


DELIVERY_COLUMNS = ("account_id", "event_id", "event_type", "endpoint_id", "url", "secret",
                    "message_handle", "payload", "state", "attempts", "next_attempt_at",
                    "created_at")


def prefill(database: str, template: str, template_handle: str, url: str, total: int) -> None:
    """Write `total` pending deliveries: the four status events of total/4 messages."""
    now = int(time.time() * 1000)
    rows = []
    for i in range(total):
        handle = f"bench-{i // 4:08d}-0000-0000-0000-000000000000"
        rows.append((1, f"evt_bench{i:023d}", "message.updated", None, url, GLOBAL_SECRET,
                     handle, template.replace(template_handle, handle), "pending", 0, now, now))
    insert_rows(database, "deliveries", DELIVERY_COLUMNS, rows)


def drain_bluewire(target: Target, receiver: Receiver,
                   args: argparse.Namespace) -> tuple[Drain, str]:
    """bluewire draining prefilled deliveries; also returns the template body it sent."""
    server = bluewire(target, args)
    database = target.database
    try:
        # A real status callback, signed with the account's global secret: the template.
        api(server, "PUT", "/api/account/webhooks", {"webhooks": {"globalSecret": GLOBAL_SECRET}})
        sent = api(server, "POST", "/api/send-message", {
            "number": RECIPIENT, "from_number": LINE, "content": "Hello from the benchmark",
            "status_callback": f"{receiver.url}/template"})
        handle = sent["message_handle"]

        def template() -> str | None:
            rows = query(database, "SELECT payload FROM deliveries WHERE message_handle = ? AND "
                         "state = 'delivered' AND payload LIKE '%\"DELIVERED\"%'", (handle,))
            return str(rows[0]["payload"]) if rows else None

        body: str = wait(template, 30, "the template delivery")
        server.stop()
        prefill(database, body, handle, f"{receiver.url}/drain", args.deliveries)
        receiver.reset()
        server.start()
        wait(lambda: receiver.stats()["count"] > 0, 60, "the first delivery", interval=0.005)
        meter = CpuMeter(server.pid, args.server_cpu, args.load_cpu, target.database_pid)
        receiver_meter = CpuMeter(receiver.pid, args.load_cpu, args.server_cpu)
        expected_s = args.deliveries / 2000
        spy = (py_spy(server.pid, expected_s, args.profile_out, args.load_cpu)
               if target.profile == "drain" else None)
        wait(lambda: receiver.stats()["count"] >= args.deliveries,
             max(120, 20 * expected_s), "the drain", interval=0.01)
        cpu = meter.read()
        receiver_cpu = receiver_meter.read().process
        stats = receiver.stats()
        seconds = stats["last"] - stats["first"]
        drain = Drain(f"bluewire {target.store.name}", stats["count"], seconds, cpu,
                      receiver_cpu, cpu.server_side * seconds)
        # Every attempt was recorded (the last group commits may trail the last arrival).
        def recorded() -> bool:
            done = query(database, "SELECT count(*) AS n FROM deliveries WHERE url LIKE "
                         "'%/drain' AND state = 'delivered'")[0]["n"]
            return bool(done == args.deliveries)

        wait(recorded, 30, "every attempt to be recorded", interval=0.05)
        if spy is not None:
            print_profile(spy, args.profile_out, cpu.process / max(drain.rate, 1e-9) * 1e6)
        return drain, body
    except BaseException:
        print(f"--- bluewire log ---\n{server.log()}", file=sys.stderr)
        raise
    finally:
        server.stop()


# -- (b) latency -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Latency:
    name: str
    sent: int  # sends in the measured window
    latencies_ms: list[float]  # send -> DELIVERED webhook arrived, of those
    send_ms: list[float]  # the send request's own latency (request -> answer), of those
    lag_ms: float  # how late the load generator was sending, at worst
    cpu: CpuShare | None

    def pct(self, values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def open_loop(url: str, make_body: Callable[[float], bytes], headers: dict[str, str],
                    rate: float, warmup: float, seconds: float, connections: int,
                    ) -> tuple[list[tuple[float, float]], float, int]:
    """Send at `rate` a second for `warmup` + `seconds`, each on schedule whatever the answers.
    Returns ((send time, request latency) of each 200 after the warm-up, the worst lag behind
    schedule in seconds, the number of failures)."""
    import aiohttp

    done: list[tuple[float, float]] = []
    failures = 0
    lag = 0.0
    loop = asyncio.get_running_loop()

    async def one(session: aiohttp.ClientSession, measured: bool) -> None:
        nonlocal failures
        sent = time.time()
        started = time.perf_counter()
        try:
            async with session.post(url, data=make_body(sent), headers=headers) as answer:
                await answer.read()
                ok = answer.status == 200
        except aiohttp.ClientError:
            ok = False
        if not ok:
            failures += 1
        elif measured:
            done.append((sent, time.perf_counter() - started))

    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    async with aiohttp.ClientSession(connector=connector,
                                     skip_auto_headers=("accept-encoding",)) as session:
        tasks: list[asyncio.Task[None]] = []
        start = loop.time()
        for i in range(round(rate * (warmup + seconds))):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                lag = max(lag, -delay)
            tasks.append(loop.create_task(one(session, i >= warmup * rate)))
        await asyncio.gather(*tasks)
    return done, lag, failures


def measure_latency(name: str, server: ServerProcess, receiver: Receiver, send_url: str,
                    make_body: Callable[[float], bytes], headers: dict[str, str],
                    args: argparse.Namespace, profile: bool = False,
                    postmaster: int | None = None) -> Latency:
    receiver.reset()
    meter_box: list[CpuMeter] = []
    spy_box: list[subprocess.Popen[str]] = []

    async def run() -> tuple[list[tuple[float, float]], float, int]:
        loop = asyncio.get_running_loop()

        def begin_measuring() -> None:
            meter_box.append(CpuMeter(server.pid, args.server_cpu, args.load_cpu, postmaster))
            if profile:
                spy_box.append(py_spy(server.pid, args.duration, args.profile_out,
                                      args.load_cpu))

        loop.call_later(args.warmup, begin_measuring)
        return await open_loop(send_url, make_body, headers, args.rate, args.warmup,
                               args.duration, args.connections)

    window, lag, failures = asyncio.run(run())
    cpu = meter_box[0].read() if meter_box else None
    if failures:
        print(f"warning: {failures} sends to {name} failed", file=sys.stderr)
    wanted = {f"{sent:.6f}" for sent, _ in window}

    def arrived() -> int:
        _, sent = receiver.latencies()
        return len(wanted & {f"{s:.6f}" for s in sent})

    try:
        wait_arriving(arrived, len(wanted), "the measured sends' webhooks")
    except RuntimeError as exc:
        print(f"warning: {name}: {exc}", file=sys.stderr)
    latencies, sent_times = receiver.latencies()
    measured = [lat * 1000 for lat, sent in zip(latencies, sent_times, strict=True)
                if f"{sent:.6f}" in wanted]
    result = Latency(name, len(window), measured, [took * 1000 for _, took in window],
                     lag * 1000, cpu)
    if spy_box and cpu is not None:
        print_profile(spy_box[0], args.profile_out,
                      cpu.process / max(args.rate, 1e-9) * 1e6)
    return result


def latency_body(send_time: float) -> bytes:
    return json.dumps({"content": f"lat {send_time:.6f}"}).encode()


def latency_relay(workdir: Path, receiver: Receiver, args: argparse.Namespace) -> Latency:
    port = free_port()
    relay = ServerProcess(
        "relay", [sys.executable, str(BENCH / "relay_app.py"), "--port", str(port),
                  "--target", f"{receiver.url}/lat"],
        cpu=args.server_cpu, cwd=workdir, env=python_env(), port=port).start()
    try:
        relay.wait_ready(lambda: http_request(port, "GET", "/ready")[0] == 200)
        return measure_latency("bare relay (answer, then POST)", relay, receiver,
                               f"http://127.0.0.1:{port}/send", latency_body,
                               {"content-type": "application/json"}, args)
    finally:
        relay.stop()


def send_body(receiver: Receiver) -> Callable[[float], bytes]:
    """A send-message body for a send at a time: to the sandbox phone, with a status callback to
    the receiver and the send time in `content`, which the receiver reads back."""
    callback = f"{receiver.url}/lat"

    def body(send_time: float) -> bytes:
        return json.dumps({"number": RECIPIENT, "from_number": LINE,
                           "content": f"lat {send_time:.6f}",
                           "status_callback": callback}).encode()

    return body


def latency_bluewire(target: Target, receiver: Receiver, args: argparse.Namespace) -> Latency:
    server = bluewire(target, args)
    body = send_body(receiver)
    try:
        api(server, "POST", "/api/send-message", json.loads(body(time.time())))  # warm
        return measure_latency(f"bluewire {target.store.name}: send -> DELIVERED", server,
                               receiver, f"http://127.0.0.1:{server.port}/api/send-message",
                               body, API_HEADERS, args, profile=target.profile == "latency",
                               postmaster=target.database_pid)
    except BaseException:
        print(f"--- bluewire log ---\n{server.log()}", file=sys.stderr)
        raise
    finally:
        server.stop()


# -- (c) the sustained rate --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    rate: float
    sends: int  # every send of the step, the failed ones included
    heard: int  # webhooks that arrived within the grace after the last send
    early_ms: float  # p50 send -> DELIVERED webhook of the first 2 s of sends
    late_ms: float  # ...and of the last 2 s
    cpu: CpuShare | None

    @property
    def kept_up(self) -> bool:
        return (self.heard >= self.sends * DELIVERIES_PER_MESSAGE
                and self.late_ms <= 2 * self.early_ms + 20)


@dataclass(frozen=True, slots=True)
class Search:
    store: str
    bare_rate: float  # the bare client loop's deliveries a second, from (a)
    steps: list[Step]

    @property
    def target(self) -> float:
        return TARGET_SUSTAINED_SHARE * self.bare_rate / DELIVERIES_PER_MESSAGE

    @property
    def best(self) -> float:
        return max((step.rate for step in self.steps if step.kept_up), default=0.0)


def sustained_step(target: Target, receiver: Receiver, args: argparse.Namespace,
                   rate: float) -> Step:
    server = bluewire(target, args)
    body = send_body(receiver)
    try:
        api(server, "POST", "/api/send-message", json.loads(body(time.time())))  # warm
        wait(lambda: receiver.stats()["count"] >= DELIVERIES_PER_MESSAGE, 10, "the warm-up")
        receiver.reset()
        meter = CpuMeter(server.pid, args.server_cpu, args.load_cpu, target.database_pid)
        sends, _, failures = asyncio.run(open_loop(
            f"http://127.0.0.1:{server.port}/api/send-message", body, API_HEADERS, rate, 0.0,
            args.sustain_duration, args.connections))
        cpu = meter.read()
        time.sleep(_GRACE_S)
        heard = receiver.stats()["count"]
        latencies, sent_times = receiver.latencies()
    finally:
        server.stop()
    if failures:
        print(f"warning: {failures} sends at {rate:.0f}/s failed", file=sys.stderr)
    first = min((sent for sent, _ in sends), default=0.0)
    last = max((sent for sent, _ in sends), default=0.0)
    early = sorted(lat * 1000 for lat, sent in zip(latencies, sent_times, strict=True)
                   if sent < first + _EDGE_S)
    late = sorted(lat * 1000 for lat, sent in zip(latencies, sent_times, strict=True)
                  if sent > last - _EDGE_S)
    nan = float("nan")
    return Step(rate, len(sends) + failures, heard,
                early[len(early) // 2] if early else nan,
                late[len(late) // 2] if late else nan, cpu)


def sustained_search(store: Store, postgres: Postgres | None, workdir: Path, receiver: Receiver,
                     args: argparse.Namespace, bare_rate: float) -> Search:
    """From the target rate, up a fifth at a time while kept up with, or down until it is;
    then `--refine` geometric halvings of the gap between the last rate kept up with and the
    first one not. Each rate on a fresh store, so no step inherits the backlog of the one
    before."""
    search = Search(store.name, bare_rate, [])

    def trial(rate: float) -> bool:
        number = len(search.steps)
        print(f"(c) bluewire {store.name} at {rate:.0f} msg/s...", flush=True)
        with _target(store, postgres, workdir / f"sustained-{store.name}-{number}",
                     None) as target:
            step = sustained_step(target, receiver, args, rate)
        search.steps.append(step)
        return step.kept_up

    rate = search.target
    going_up = trial(rate)
    for _ in range(7):
        rate = rate * 1.2 if going_up else rate / 1.2
        if trial(rate) != going_up:
            break
    kept = [step.rate for step in search.steps if step.kept_up]
    lost = [step.rate for step in search.steps if not step.kept_up]
    if kept and lost and min(lost) > max(kept):
        low, high = max(kept), min(lost)
        for _ in range(args.refine):
            middle = math.sqrt(low * high)
            if trial(middle):
                low = middle
            else:
                high = middle
    return search


def print_sustained(searches: list[Search], args: argparse.Namespace) -> None:
    print(f"\n(c) sustained rate: {args.sustain_duration:g} s at each rate, every webhook "
          f"({DELIVERIES_PER_MESSAGE} a message) within {_GRACE_S:g} s of the last send, the "
          f"last {_EDGE_S:g} s' DELIVERED p50 at most 2x (+20 ms) the first {_EDGE_S:g} s'")
    print(f"{'store':<8}{'msg/s':>8}{'sends':>8}{'webhooks':>10}{'first p50':>11}"
          f"{'last p50':>10}  kept up")
    for search in searches:
        for step in search.steps:
            print(f"{search.store:<8}{step.rate:>8.0f}{step.sends:>8,}{step.heard:>10,}"
                  f"{step.early_ms:>11.1f}{step.late_ms:>10.1f}  "
                  f"{'yes' if step.kept_up else 'no'}{_cpu(step.cpu)}")
    print(f"\n{'store':<8}{'sustained msg/s':>16}   target >= 1/2 x bare drain / "
          f"{DELIVERIES_PER_MESSAGE}")
    for search in searches:
        print(f"{search.store:<8}{search.best:>16.0f}   {_verdict(search.best >= search.target)}"
              f" (target {search.target:.0f}: bare loop {search.bare_rate:,.0f} deliveries/s)")
    print("columns: webhooks = all webhooks heard within the grace (sends x "
          f"{DELIVERIES_PER_MESSAGE} when every one\n  arrived); first/last p50 = send -> "
          "DELIVERED webhook of the first and last seconds' sends, ms.")


# -- the report --------------------------------------------------------------------------------


def _verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def _cpu(cpu: CpuShare | None) -> str:
    if cpu is None:
        return ""
    database = "" if cpu.database is None else f" + db {cpu.database:.0%}"
    return (f"  server CPU {cpu.server_side:.0%} (loop {cpu.main_thread:.0%} + other "
            f"{cpu.other_threads:.0%}{database}), noise {cpu.others_on_cpu:.0%}, load CPU "
            f"{cpu.load_cpu_busy:.0%}")


def print_setup(setup: Stores, args: argparse.Namespace) -> None:
    print("\nstores:")
    for line in setup.describe(args.server_cpu):
        print(f"  {line}")


def print_drain(pairs: list[tuple[Drain, Drain]], args: argparse.Namespace) -> None:
    print(f"\n(a) webhook deliveries to a local receiver: {args.deliveries:,} deliveries, "
          f"{args.concurrency} in flight (pg2: in each of its 2 processes); senders on CPU "
          f"{args.server_cpu}, receiver on CPU {args.load_cpu}")
    print(f"{'sender':<28}{'delivered':>10}{'seconds':>9}{'per s':>9}{'CPU us each':>13}"
          f"{'receiver CPU':>14}{'ratio':>8}")
    for baseline, blue in pairs:
        for one in (baseline, blue):
            ratio = "" if one is baseline else f"{blue.rate / max(baseline.rate, 1e-9):.2f}"
            print(f"{one.name:<28}{one.count:>10,}{one.seconds:>9.2f}{one.rate:>9,.0f}"
                  f"{one.us_per_delivery:>13.0f}{one.receiver_cpu:>14.0%}{ratio:>8}"
                  f"{_cpu(one.cpu)}".rstrip())
    print(f"\n{'store':<8}{'bluewire deliveries/s':>22}   target >= {TARGET_RATE:,.0f}/s"
          f"{'ratio bluewire/bare':>22}   target >= 1/2 ({TARGET_RATIO:.2f})")
    for baseline, blue in pairs:
        ratio = blue.rate / max(baseline.rate, 1e-9)
        print(f"{blue.name.removeprefix('bluewire '):<8}{blue.rate:>22,.0f}   "
              f"{_verdict(blue.rate >= TARGET_RATE):<19}{ratio:>22.2f}   "
              f"{_verdict(ratio >= TARGET_RATIO)}")
    print("columns: per s = (delivered - 1) / (last - first arrival at the receiver). CPU us "
          "each = the\n  sender's CPU time per delivery (the bare loop's includes its start-up; "
          "bluewire's includes\n  its database's when that is pinned to its core: db). "
          "receiver CPU = its share of its core\n  meanwhile (near 100% would make the "
          "receiver the limit). ratio = per s over the bare loop's\n  on the row above, "
          "measured just after.")


def _latency_row(one: Latency, ratio: str) -> str:
    lat, send = one.latencies_ms, one.send_ms
    return (f"{one.name:<36}{one.sent:>6,}{len(lat):>7,}{one.pct(lat, 50):>9.2f}"
            f"{one.pct(lat, 90):>9.2f}{one.pct(lat, 99):>9.2f}{one.pct(lat, 99.9):>9.2f}"
            f"{max(lat, default=float('nan')):>8.1f}{one.pct(send, 50):>9.2f}"
            f"{one.pct(send, 99):>9.2f}{one.lag_ms:>9.1f}{ratio:>9}{_cpu(one.cpu)}")


def print_latency(pairs: list[tuple[Latency, Latency]], args: argparse.Namespace) -> None:
    print(f"\n(b) send -> DELIVERED webhook arrived, {args.rate:g} msg/s open loop, "
          f"{args.duration:g} s measured after {args.warmup:g} s; servers on CPU "
          f"{args.server_cpu}, load generator and receiver on CPU {args.load_cpu}")
    print(f"{'target':<36}{'sent':>6}{'heard':>7}{'p50 ms':>9}{'p90':>9}{'p99':>9}"
          f"{'p99.9':>9}{'max':>8}{'send p50':>9}{'p99':>9}{'lag':>9}{'p50 x':>9}")
    for baseline, blue in pairs:
        print(_latency_row(baseline, "").rstrip())
        ratio = blue.pct(blue.latencies_ms, 50) / max(baseline.pct(baseline.latencies_ms, 50), 1e-9)
        print(_latency_row(blue, f"{ratio:.2f}"))
    print(f"\n{'store':<8}{'bluewire p50 ms':>16}   target <= {TARGET_P50_MS:g} ms"
          f"{'p99 ms':>11}   target <= {TARGET_P99_MS:g} ms")
    for _, blue in pairs:
        p50, p99 = blue.pct(blue.latencies_ms, 50), blue.pct(blue.latencies_ms, 99)
        print(f"{blue.name.split(':')[0].removeprefix('bluewire '):<8}{p50:>16.2f}   "
              f"{_verdict(p50 <= TARGET_P50_MS):<16}{p99:>11.2f}   "
              f"{_verdict(p99 <= TARGET_P99_MS)}")
    for _, blue in pairs:
        if len(blue.latencies_ms) < blue.sent:
            print(f"warning: {blue.name}: {blue.sent - len(blue.latencies_ms)} measured sends "
                  "had no DELIVERED webhook within the wait")
    print("columns: heard = DELIVERED webhooks received for the measured sends; send = the "
          "POST's own\n  latency (request -> answer); lag = how far behind schedule the load "
          "generator fell, at worst (ms).\n  p50 x = bluewire's p50 over the bare relay's on "
          "the row above, measured just before.\n  server CPU includes the database's (db) "
          "when it is pinned to the server's core.")


# -- main --------------------------------------------------------------------------------------


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "client-loop":
        client_loop_main(sys.argv[2:])
        return 0
    args = parse_args()
    check_cpus(args.server_cpu, args.load_cpu)
    pin_self(args.load_cpu)
    with ExitStack() as stack:
        setup = open_stores(args.stores, args.server_cpu, stack)
        stores, postgres = setup.stores, setup.postgres
        workdir = Path(stack.enter_context(scratch_dir("bluewire-webhook-bench-")))
        receiver = Receiver(workdir, args.load_cpu)
        stack.callback(receiver.stop)
        failed = False
        drains: list[tuple[Drain, Drain]] = []
        if args.only in (None, "drain", "sustained"):
            drains = [run_drain(store, postgres, workdir, receiver, args, store == stores[0])
                      for store in stores]
            print_setup(setup, args)
            print_drain(drains, args)
            failed |= any(blue.count < args.deliveries for _, blue in drains)
        if args.only in (None, "latency"):
            latencies = [run_latency(store, postgres, workdir, receiver, args,
                                     store == stores[0]) for store in stores]
            print_setup(setup, args)
            print_latency(latencies, args)
            failed |= any(len(blue.latencies_ms) < blue.sent for _, blue in latencies)
        if args.only in (None, "sustained"):
            searches = [sustained_search(store, postgres, workdir, receiver, args, bare.rate)
                        for store, (bare, _) in zip(stores, drains, strict=True)]
            print_sustained(searches, args)
    return 1 if failed else 0


def run_drain(store: Store, postgres: Postgres | None, workdir: Path, receiver: Receiver,
              args: argparse.Namespace, first: bool) -> tuple[Drain, Drain]:
    """(the bare client loop, bluewire on `store`), draining the same deliveries."""
    profile = "drain" if first and args.profile == "drain" else None
    with _target(store, postgres, workdir / f"drain-{store.name}", profile) as target:
        print(f"(a) bluewire {store.name} draining prefilled deliveries...", flush=True)
        blue, template = drain_bluewire(target, receiver, args)
    print("(a) bare aiohttp client loop...", flush=True)
    return drain_baseline(workdir, receiver, template, args), blue


def run_latency(store: Store, postgres: Postgres | None, workdir: Path, receiver: Receiver,
                args: argparse.Namespace, first: bool) -> tuple[Latency, Latency]:
    """(the bare relay, bluewire on `store`) at the same rate."""
    print(f"(b) bare relay at {args.rate:g}/s...", flush=True)
    relay = latency_relay(workdir, receiver, args)
    profile = "latency" if first and args.profile == "latency" else None
    with _target(store, postgres, workdir / f"latency-{store.name}", profile) as target:
        print(f"(b) bluewire {store.name} at {args.rate:g}/s...", flush=True)
        return relay, latency_bluewire(target, receiver, args)


@contextmanager
def _target(store: Store, postgres: Postgres | None, workdir: Path,
            profile: str | None) -> Iterator[Target]:
    workdir.mkdir(parents=True, exist_ok=True)
    with store_database(store, postgres, workdir) as database:
        yield Target(store, workdir, database, database_pid(store, postgres), profile)


if __name__ == "__main__":
    sys.exit(main())
