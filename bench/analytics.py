"""GET /api/v2/analytics/messages on a store of a million outbound messages: its answer time
next to a light API call's, measured in the same run.

    python3 bench/analytics.py [--messages 1000000] [--days 90] [--requests 100]

Starts `bluewire serve` as a real process on a SQLite file in a temporary directory, pinned to
one CPU (this script, the client, runs on the other), so it migrates the store and makes the
bootstrap account; stops it and writes, straight into the store, `--messages` outbound messages
of that account on the sandbox line, spread evenly over the last `--days` days: 1:1 messages to
50,000 contacts (iMessage, SMS or RCS by contact) and 1% group messages of three participants
(with their receipts), in 20 campaigns (one message in ten in none) with 0 to 3 of 12 tags
(their message_tags rows), their statuses and sent/delivered/read times (2% failed, SMS ends
at SENT, 75% of the delivered read), and an inbound reply within two days to one in ten. It
starts the server again and times, over one keep-alive connection on loopback, `--requests`
GETs of each, in turns:

- the baseline: GET /api/status of one message (authenticated, one indexed row);
- the analytics of the default window (the last 7 days), one bucket;
- the same, by campaign; by tag; by day over the last 30 days; a campaign and tag filter.

Prints the p50 and p99 of each (wall time per request, request sent to answer read), the
number of messages each one counted, and their ratio to the baseline's. The very first GET of
the default window, before any other, is timed on its own: it sums the closed hours and days
of the window into the rollup, which the measured GETs then read.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from harness import (
    DAY_MS,
    KEY_ID,
    LINE,
    SECRET,
    CpuShare,
    bluewire_on_sqlite,
    check_cpus,
    contact_number,
    insert_rows,
    percentile,
    pin_self,
    scratch_dir,
    timed_rounds,
    wait_serving,
)

QUIET_MS = 10 * 60_000  # the newest message is this old
CONTACTS = 50_000
CAMPAIGNS = [f"campaign-{i:02d}" for i in range(20)]
TAGS = ["vip", "new", "churn-risk", "west", "east", "promo", "a", "b", "weekday", "weekend",
        "loyal", "trial"]
PATH = "/api/v2/analytics/messages"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000,
                        help="outbound messages seeded (default 1000000)")
    parser.add_argument("--days", type=int, default=90,
                        help="the days they are spread over, up to now (default 90)")
    parser.add_argument("--requests", type=int, default=100,
                        help="measured GETs of each query (default 100)")
    parser.add_argument("--warmup", type=int, default=5,
                        help="GETs of each query before the measured ones (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the seeded history")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU bluewire runs on")
    parser.add_argument("--load-cpu", type=int, default=1, help="CPU this script runs on")
    args = parser.parse_args()
    if args.messages < 1000 or args.days < 1 or args.requests < 1 or args.warmup < 0:
        parser.error("--messages >= 1000, --days >= 1, --requests >= 1, --warmup >= 0")
    return args


# -- the seeded history ------------------------------------------------------------------------


@dataclass(slots=True)
class Seeded:
    messages: int = 0
    groups: int = 0
    tags: int = 0
    replies: int = 0
    seconds: float = 0.0
    handle: str = ""
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)


MESSAGE_COLUMNS = (
    "id", "handle", "account_id", "is_outbound", "line", "number", "content", "message_type",
    "status", "service", "was_downgraded", "error_code", "error_message", "created_at",
    "updated_at", "sent_at", "delivered_at", "read_at", "claimed_until", "dispatch_attempts",
    "group_id", "participants", "campaign", "tags", "replied_at",
)


def seed(database: Path, args: argparse.Namespace) -> Seeded:
    """Write the history into the stopped server's store."""
    started = time.monotonic()
    rng = random.Random(args.seed)
    account = sqlite3.connect(database).execute(
        "SELECT account_id FROM api_keys WHERE key_id = ?", (KEY_ID,)).fetchone()[0]
    services = [rng.choices(("iMessage", "SMS", "RCS"), (80, 15, 5))[0]
                for _ in range(CONTACTS)]
    end = int(time.time() * 1000) - QUIET_MS
    span = args.days * DAY_MS
    step = span / args.messages
    messages: list[tuple[Any, ...]] = []
    tags: list[tuple[Any, ...]] = []
    receipts: list[tuple[Any, ...]] = []
    seeded = Seeded()
    next_id = 1
    for position in range(args.messages):
        created = end - span + int(position * step)
        contact = rng.randrange(CONTACTS)
        number, service = contact_number(contact), services[contact]
        campaign = rng.choice(CAMPAIGNS) if rng.random() < 0.9 else None
        labels = rng.sample(TAGS, rng.choice((0, 1, 1, 2, 3)))
        group = rng.random() < 0.01
        participants = ([contact_number((contact + k * 7919) % CONTACTS) for k in range(3)]
                        if group else [])
        if group:
            service = "iMessage"
        sent = delivered = read = None
        error_code = error_message = None
        if rng.random() < 0.02:
            status, service, updated = "ERROR", None, created + rng.randrange(200, 2_000)
            error_code, error_message = 10001, "The message could not be sent"
        else:
            sent = created + rng.randrange(150, 900)
            status, updated = "SENT", sent
            if service != "SMS":
                delivered = sent + rng.randrange(300, 5_000)
                status, updated = "DELIVERED", delivered
                if rng.random() < 0.75:
                    read = delivered + rng.randrange(5_000, 3_600_000)
                    status, updated = "READ", read
        message_id = next_id
        next_id += 1
        handle = f"bench-{message_id:012d}"
        reply_at = None
        if sent is not None and not group and rng.random() < 0.1:  # a reply within two days
            reply_at = created + rng.randrange(1_000, 2 * DAY_MS)
            reply_at = reply_at if reply_at < end + QUIET_MS else None
        messages.append((
            message_id, handle, account, True, LINE, number, "Our spring offer is here",
            "group" if group else "message", status, service, service == "SMS" or None,
            error_code, error_message, created, updated, sent, delivered, read, None, 1,
            f"grp_bench{message_id:012d}" if group else None,
            json.dumps(participants) if group else None, campaign,
            json.dumps(labels) if labels else None,
            # what the server sets when the reply comes within 24 hours (store/messages.py)
            reply_at if reply_at is not None and reply_at - created <= DAY_MS else None))
        tags.extend((message_id, tag, account, created) for tag in labels)
        for member in participants:
            member_read = read if read is not None and rng.random() < 0.8 else None
            receipts.append((message_id, member, delivered, member_read))
        seeded.groups += group
        if reply_at is not None:
            reply_id = next_id
            next_id += 1
            messages.append((
                reply_id, f"bench-{reply_id:012d}", account, False, LINE, number,
                "sounds good", "message", "RECEIVED", service or "iMessage", None, None, None,
                reply_at, reply_at, None, None, None, None, 0, None, None, None, None, None))
            seeded.replies += 1
    messages.sort(key=lambda row: row[13])  # in the order they happened, as the store has them
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("DELETE FROM messages")
        insert_rows(connection, "messages", MESSAGE_COLUMNS, messages)
        insert_rows(connection, "message_tags",
                    ("message_id", "tag", "account_id", "created_at"), tags)
        insert_rows(connection, "message_receipts",
                    ("message_id", "number", "delivered_at", "read_at"), receipts)
        connection.execute("ANALYZE")
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    seeded.messages = args.messages
    seeded.tags = len(tags)
    seeded.handle = messages[-1][1]
    seeded.seconds = time.monotonic() - started
    return seeded


# -- measuring ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Query:
    name: str
    path: str
    times_ms: list[float] = field(default_factory=list)
    counted: int | None = None  # messages the answer counted (analytics only)

    def pct(self, q: float) -> float:
        return percentile(self.times_ms, q)


def queries(seeded: Seeded) -> list[Query]:
    now = time.time()

    def moment(days_ago: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - days_ago * 86_400))

    def analytics(**params: str) -> str:
        return f"{PATH}?{urlencode(params)}" if params else PATH

    return [
        Query("baseline: GET /api/status", f"/api/status?handle={seeded.handle}"),
        Query("analytics, 7 days", analytics()),
        Query("7 days by campaign", analytics(group_by="campaign")),
        Query("7 days by tag", analytics(group_by="tag")),
        Query("30 days by day", analytics(group_by="day", since=moment(30))),
        Query("30 days, campaign + tag", analytics(campaign=CAMPAIGNS[3], tag="vip",
                                                   since=moment(30))),
    ]


def get(client: httpx.Client, query: Query) -> float:
    started = time.perf_counter()
    answer = client.get(query.path)
    body = answer.read()
    took = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{query.name}: GET {query.path} answered {answer.status_code}:\n"
                           f"{answer.text[:2000]}")
    if query.path.startswith(PATH):
        buckets = json.loads(body)["buckets"]
        if not buckets:
            raise RuntimeError(f"{query.name}: no buckets")
        counted = sum(bucket["messages"] for bucket in buckets)
        if "tag" in query.path and "group_by=tag" in query.path:
            counted = -1  # a message counts under each of its tags
        query.counted = counted
    return took


def report(measured: list[Query], cpu: CpuShare, seeded: Seeded,
           args: argparse.Namespace, first_ms: float) -> None:
    print(f"\nseeded in {seeded.seconds:.1f} s: {seeded.messages:,} outbound messages over "
          f"{args.days} days ({seeded.groups:,} to groups of three), {seeded.tags:,} tag rows, "
          f"{seeded.replies:,} inbound replies")
    print(f"first GET of the default window (sums its closed hours and days): "
          f"{first_ms / 1000:.1f} s")
    print(f"{args.requests} GETs of each in turns, one keep-alive connection on loopback; "
          f"bluewire on CPU {args.server_cpu}, this client on CPU {args.load_cpu}\n")
    baseline = measured[0]
    print(f"{'query':<30}{'messages':>10}{'p50 ms':>9}{'p99 ms':>9}{'p50 x':>8}{'p99 x':>8}")
    for query in measured:
        ratios = ("", "") if query is baseline else (
            f"{query.pct(50) / baseline.pct(50):.1f}", f"{query.pct(99) / baseline.pct(99):.1f}")
        counted = "" if query.counted is None else (
            "by tag" if query.counted < 0 else f"{query.counted:,}")
        print(f"{query.name:<30}{counted:>10}{query.pct(50):>9.2f}{query.pct(99):>9.2f}"
              f"{ratios[0]:>8}{ratios[1]:>8}")
    print("columns: messages = outbound messages the answer counted; wall time from sending "
          "the GET\n  to having read the whole answer; x = over the baseline's same "
          "percentile, same rounds.")
    print(cpu.described())


def main() -> int:
    args = parse_args()
    check_cpus(args.server_cpu, args.load_cpu)
    pin_self(args.load_cpu)
    with scratch_dir("bluewire-analytics-bench-") as scratch:
        workdir = Path(scratch)
        database = workdir / "bench.db"
        server = bluewire_on_sqlite(workdir, database, cpu=args.server_cpu)
        try:
            print("bluewire: migrating and making the account...", flush=True)
            server.start()
            wait_serving(server, "/openapi.json")
            server.stop()
            print(f"seeding {args.messages:,} messages...", flush=True)
            seeded = seed(database, args)
            server.start()
            wait_serving(server, "/openapi.json")
            measured = queries(seeded)
            with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=120,
                              headers={"sb-api-key-id": KEY_ID,
                                       "sb-api-secret-key": SECRET}) as client:
                first_ms = get(client, Query("first", measured[1].path))
                print(f"measuring {len(measured)} queries, {args.requests} GETs each...",
                      flush=True)
                cpu = timed_rounds(measured, lambda query: get(client, query),
                                   warmup=args.warmup, requests=args.requests,
                                   server_pid=server.pid, server_cpu=args.server_cpu,
                                   load_cpu=args.load_cpu)
        except BaseException:
            print(f"--- bluewire log ---\n{server.log()}", file=sys.stderr)
            raise
        finally:
            server.stop()
    report(measured, cpu, seeded, args, first_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
