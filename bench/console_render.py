"""The console's pages for an account with many messages: render time as a browser sees it, next
to a light page of the same console measured in the same run.

    python3 bench/console_render.py [--messages 100000] [--thread 10000] [--requests 200]

Starts `bluewire serve` as a real process on a SQLite file in a temporary directory, pinned to
one CPU (this script, the client, runs on the other). It sends one real message (to a sandbox
phone that reads it and replies) to learn the exact shape of the rows the server writes, stops
the server, and writes, straight into its store, `--messages` messages of the bootstrap account
on the sandbox line shaped like those: about 2,000 conversations, in and out, with the statuses,
timestamps, contacts, status events and read receipts the server would have written, one of
them a long thread of `--thread` messages with a single contact. It starts the server again
(nothing it keeps in memory has seen the new rows), signs in the way a browser does (the
sign-in form's double-submit CSRF token, then the session cookie) and times, over one keep-alive
connection on loopback, `--requests` GETs of each page, in turns:

- the baseline: /console/lines, a light page of the same console (session, layout, template);
- /console/conversations: the conversation list (its first 50 conversations);
- the long thread's latest page: /console/conversations/{line}/{number};
- an older page of it: the "Load older messages" link that page renders (?before=<id>).

Prints the p50 and p99 of each (wall time per request, request sent to answer read) and their
ratio to the baseline's, after checking that every answer is a 200 that shows what the page
should (the list's conversation count, the thread's bubbles and its link to older messages).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from harness import (
    API_HEADERS,
    KEY_ID,
    LINE,
    REPO,
    SECRET,
    CpuShare,
    ServerProcess,
    add_server_env_argument,
    bluewire_on_sqlite,
    check_cpus,
    handle_at,
    http_request,
    insert_rows,
    percentile,
    pin_self,
    scratch_dir,
    timed_rounds,
    wait_serving,
)

if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

from bluewire.domain.payloads import iso

TEMPLATE_PHONE = "+14155550106"  # a sandbox phone on iMessage: delivered, read, echoes back
CONSOLE = "/console"
SPAN_MS = 90 * 86_400_000  # the seeded history: the last 90 days...
QUIET_MS = 10 * 60_000  # ...up to 10 minutes ago
THREAD_PAGE = 50  # messages a thread page shows (console/pages/conversations.py)
LIST_PAGE = 50  # conversations the list shows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000,
                        help="messages seeded for the account (default 100000)")
    parser.add_argument("--thread", type=int, default=10_000,
                        help="of those, the messages of the one long thread (default 10000)")
    parser.add_argument("--conversations", type=int, default=2_000,
                        help="1:1 conversations (contacts) the messages spread over, the long "
                             "thread included (default 2000)")
    parser.add_argument("--requests", type=int, default=200,
                        help="measured GETs of each page (default 200)")
    parser.add_argument("--warmup", type=int, default=10,
                        help="GETs of each page before the measured ones (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the seeded history")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU bluewire runs on")
    parser.add_argument("--load-cpu", type=int, default=1, help="CPU this script runs on")
    add_server_env_argument(parser, "BLUEWIRE_SQLITE_CACHE_MIB=64")
    args = parser.parse_args()
    if args.conversations < 2 or args.thread < 2 * THREAD_PAGE + 1:
        parser.error(f"--conversations must be >= 2 and --thread > {2 * THREAD_PAGE}, so the "
                     "thread has an older page with a link to one older still")
    if args.messages < args.thread + args.conversations - 1:
        parser.error("--messages must cover --thread plus one message for each other "
                     "conversation")
    if args.requests < 1 or args.warmup < 0:
        parser.error("--requests must be positive and --warmup not negative")
    return args


# -- the server --------------------------------------------------------------------------------


def wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)
    return value


def rows(database: Path, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(sql, params)]


# -- the template: one real exchange -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Template:
    """The rows the server wrote for one real exchange: a message we sent (QUEUED to READ)
    and the phone's reply, the contact it made, and their events."""

    outbound: dict[str, Any]
    inbound: dict[str, Any]
    contact: dict[str, Any]
    created: dict[str, Any]  # message.created's data
    updated: dict[str, Any]  # message.updated's data (the READ one)
    received: dict[str, Any]  # message.received's data
    contact_created: dict[str, Any]  # contact.created's data
    account_id: int


def capture_template(server: ServerProcess, database: Path) -> Template:
    status, answer = http_request(server.port, "POST", "/api/send-message", json.dumps(
        {"number": TEMPLATE_PHONE, "from_number": LINE, "content": "Hello from the benchmark"},
    ).encode(), API_HEADERS)
    if status != 200:
        raise RuntimeError(f"send-message answered {status}: {answer!r}\n{server.log()}")
    handle = json.loads(answer)["message_handle"]

    def exchange() -> list[dict[str, Any]] | None:
        found = rows(database, "SELECT * FROM messages WHERE number = ? ORDER BY id",
                     (TEMPLATE_PHONE,))
        done = (len(found) == 2 and found[0]["handle"] == handle
                and found[0]["status"] == "READ" and not found[1]["is_outbound"])
        return found if done else None

    outbound, inbound = wait(exchange, 30, "the template message to be read and answered")
    server.stop()  # flushes everything, and forgets everything it kept in memory
    events = rows(database, "SELECT * FROM events ORDER BY id")

    def data(kind: str, handle: str | None = None) -> dict[str, Any]:
        found = [json.loads(e["data"]) for e in events if e["type"] == kind
                 and (handle is None or e["message_handle"] == handle)]
        if not found:
            raise RuntimeError(f"no {kind} event for the template exchange")
        return found[-1]

    contact, = rows(database, "SELECT * FROM contacts WHERE number = ?", (TEMPLATE_PHONE,))
    return Template(outbound, inbound, contact, data("message.created", outbound["handle"]),
                    data("message.updated", outbound["handle"]),
                    data("message.received", inbound["handle"]), data("contact.created"),
                    outbound["account_id"])


# -- the seeded history ------------------------------------------------------------------------

TEXTS = (
    "Hi! Just confirming your appointment tomorrow at {n}pm.",
    "Thanks, see you then",
    "Your order #{n}48 has shipped and should arrive on Thursday.",
    "Can we move it to next week?",
    "Sure, what day works best for you?",
    "ok",
    "Reminder: your table for {n} is booked for 7:30 tonight. Reply C to cancel.",
    "Running about 10 minutes late, sorry!",
    "No problem at all.",
    "Great, thank you so much for your help today, really appreciate it.",
    "Is the {n}-bedroom still available? I'd love to see it this weekend if possible.",
    "Yes! Saturday at 11 or Sunday at 2?",
    "\U0001F44D",
    "What time do you open on Sundays?",
    "We're open 9 to {n} every day except holidays.",
)
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kai",
         "Lena", "Marco", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tess")
LAST = ("Alvarez", "Brown", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ito",
        "Jones", "Kim", "Lopez", "Müller", "Nguyen", "Okafor", "Patel", "Rossi", "Smith")


def number_of(index: int) -> str:
    """The contact numbers: +1 415 555 1000 on (the sandbox's magic numbers are 555-01XX)."""
    return f"+1415555{1000 + index:04d}" if index < 9000 else f"+1628555{index - 9000:04d}"


@dataclass(slots=True)
class Contact:
    number: str
    service: str  # iMessage, SMS or RCS: every message with them is on it
    first_name: str | None
    last_name: str | None
    created_at: int = 0
    updated_at: int = 0
    last_inbound_at: int = 0


@dataclass(frozen=True, slots=True)
class Seeded:
    messages: int
    events: int
    contacts: int
    read_receipts: int
    thread_number: str
    seconds: float


def conversation_plan(args: argparse.Namespace, rng: random.Random) -> list[int]:
    """Which conversation each message, in time order, belongs to: the long thread (0) has
    --thread of them, and every other conversation at least one, the rest spread unevenly
    (a few busy conversations, a long tail of quiet ones)."""
    others = args.conversations - 1
    plan = [0] * args.thread + list(range(1, others + 1))
    weights = [1 / (rank + 20) for rank in range(others)]
    plan += rng.choices(range(1, others + 1), weights, k=args.messages - len(plan))
    rng.shuffle(plan)
    return plan


def make_contacts(args: argparse.Namespace, rng: random.Random) -> list[Contact]:
    found = []
    for index in range(args.conversations):
        service = "iMessage" if index == 0 else rng.choices(("iMessage", "SMS", "RCS"),
                                                            (80, 15, 5))[0]
        named = index == 0 or rng.random() < 0.6
        found.append(Contact(number_of(index), service, rng.choice(FIRST) if named else None,
                             rng.choice(LAST) if named and rng.random() < 0.8 else None))
    return found


def seed(database: Path, template: Template, args: argparse.Namespace) -> Seeded:
    """Write the history into the stopped server's store, in place of the template exchange."""
    started = time.monotonic()
    rng = random.Random(args.seed)
    contacts = make_contacts(args, rng)
    plan = conversation_plan(args, rng)
    end = int(time.time() * 1000) - QUIET_MS
    step = SPAN_MS // len(plan)
    message_columns = list(template.outbound)[1:]  # all but the id, which the store assigns
    message_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    account = template.account_id
    for position, conversation in enumerate(plan):
        contact = contacts[conversation]
        created = end - (len(plan) - position) * step + rng.randrange(step // 2)
        if not contact.created_at:
            contact.created_at = created
        outbound = rng.random() < 0.55
        text = rng.choice(TEXTS).format(n=rng.randrange(2, 10))
        media = (f"https://cdn.example.com/photos/{rng.getrandbits(48):012x}.jpg"
                 if rng.random() < 0.03 else None)
        handle = handle_at(created, rng)
        if outbound:
            row, events = _outbound(template, contact, handle, text, media, created, rng)
        else:
            row, events = _inbound(template, contact, handle, text, media, created)
            contact.last_inbound_at = created
        contact.updated_at = max(contact.updated_at, row["updated_at"])
        message_rows.append(tuple(row[name] for name in message_columns))
        event_rows.extend((_event_id(at, rng), account, kind, at, handle, json.dumps(
            data, separators=(",", ":"), ensure_ascii=False)) for kind, at, data in events)
    contact_rows, receipt_rows = [], []
    for contact in contacts:
        contact_rows.append(_contact_row(template, contact, rng))
        event_rows.append(_contact_event(template, contact, contact_rows[-1], rng))
        # Most iMessage conversations were read by hand some time before their last inbound.
        if contact.service != "SMS" and contact.last_inbound_at and rng.random() < 0.7:
            receipt_rows.append((account, LINE, contact.number, "manual", None,
                                 contact.last_inbound_at - rng.choice((-1, 1)) * 60_000))
    event_rows.sort(key=lambda row: row[3])  # the event log is in the order things happened
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA foreign_keys=ON")
        for table in ("events", "read_receipts", "messages", "contacts"):
            connection.execute(f"DELETE FROM {table}")  # the template exchange
        insert_rows(connection, "messages", message_columns, message_rows)
        insert_rows(connection, "contacts", list(template.contact)[1:], contact_rows)
        insert_rows(connection, "events", ["public_id", "account_id", "type", "occurred_at",
                                           "message_handle", "data"], event_rows)
        insert_rows(connection, "read_receipts", ["account_id", "line", "number", "mode",
                                                  "message_handle", "sent_at"], receipt_rows)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Seeded(len(message_rows), len(event_rows), len(contact_rows), len(receipt_rows),
                  contacts[0].number, time.monotonic() - started)


def _event_id(ms: int, rng: random.Random) -> str:
    return "evt_" + handle_at(ms, rng).replace("-", "")


Events = list[tuple[str, int, dict[str, Any]]]


def _outbound(template: Template, contact: Contact, handle: str, text: str, media: str | None,
              created: int, rng: random.Random) -> tuple[dict[str, Any], Events]:
    """A message we sent, as it is once its last status came in, and its events."""
    row = dict(template.outbound, handle=handle, number=contact.number, content=text,
               media_url=media, service=contact.service, created_at=created,
               sent_at=None, delivered_at=None, read_at=None)
    steps: list[tuple[str, int]] = []
    failed = rng.random() < 0.02
    if failed:
        steps.append(("ERROR", created + rng.randrange(200, 2_000)))
        row.update(error_code=10001, error_message="The message could not be sent",
                   service=None)
    else:
        sent = created + rng.randrange(150, 900)
        steps.append(("SENT", sent))
        row["sent_at"] = sent
        if contact.service == "SMS":
            row["was_downgraded"] = True
        else:
            delivered = sent + rng.randrange(300, 5_000)
            steps.append(("DELIVERED", delivered))
            row["delivered_at"] = delivered
            if rng.random() < 0.75:  # most phones send read receipts
                read = delivered + rng.randrange(5_000, 3_600_000)
                steps.append(("READ", read))
                row["read_at"] = read
    row["status"], row["updated_at"] = steps[-1]
    common = {"content": text, "message_handle": handle, "message_id": handle,
              "date_sent": iso(created), "number": contact.number,
              "to_number": contact.number, "media_url": media or ""}
    events: Events = [("message.created", created, dict(
        template.created, **common, date_updated=iso(created), updated_at=iso(created)))]
    for status, at in steps:
        data = dict(template.updated, **common, status=status, date_updated=iso(at),
                    updated_at=iso(at), service=row["service"],
                    was_downgraded=row["was_downgraded"])
        if status == "ERROR":
            data.update(error_code=row["error_code"], error_message=row["error_message"])
        events.append(("message.updated", at, data))
    return row, events


def _inbound(template: Template, contact: Contact, handle: str, text: str, media: str | None,
             created: int) -> tuple[dict[str, Any], Events]:
    row = dict(template.inbound, handle=handle, number=contact.number, content=text,
               media_url=media, service=contact.service, created_at=created,
               updated_at=created)
    data = dict(template.received, content=text, media_url=media or "", message_handle=handle,
                message_id=handle, date_sent=iso(created), date_updated=iso(created),
                updated_at=iso(created), from_number=contact.number, number=contact.number,
                service=contact.service)
    return row, [("message.received", created, data)]


def _contact_row(template: Template, contact: Contact, rng: random.Random) -> tuple[Any, ...]:
    row = dict(template.contact, contact_id="ct_" + handle_at(contact.created_at, rng).replace(
        "-", ""), number=contact.number, first_name=contact.first_name,
        last_name=contact.last_name, verified=contact.service != "SMS",
        created_at=contact.created_at, updated_at=contact.updated_at)
    return tuple(row.values())[1:]


def _contact_event(template: Template, contact: Contact, row: tuple[Any, ...],
                   rng: random.Random) -> tuple[Any, ...]:
    contact_id, created = row[0], iso(contact.created_at)
    details = dict(template.contact_created["contact"], contact_id=contact_id,
                   phone=contact.number, first_name=contact.first_name,
                   last_name=contact.last_name, created_at=created)
    data = dict(template.contact_created, contact_id=contact_id, phone=contact.number,
                first_name=contact.first_name, last_name=contact.last_name,
                created_at=created, contact=details)
    return (_event_id(contact.created_at, rng), template.account_id, "contact.created",
            contact.created_at, None, json.dumps(data, separators=(",", ":"),
                                                 ensure_ascii=False))


# -- signing in and measuring ------------------------------------------------------------------

_HIDDEN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_OLDER = re.compile(r'<a class="older" href="([^"]+)"')
_BUBBLE = re.compile(r'<li class="bubble (?:in|out)')
_LISTED = re.compile(r'<a href="[^"]*" class="conversation[ "]')


def sign_in(client: httpx.Client, origin: str) -> None:
    """As a browser: the form (its token in a cookie and a hidden field), then the POST."""
    form = client.get(f"{CONSOLE}/login")
    token = _HIDDEN_TOKEN.search(form.text)
    if form.status_code != 200 or token is None:
        raise RuntimeError(f"the sign-in form: {form.status_code}, no csrf_token field")
    answer = client.post(f"{CONSOLE}/login", data={
        "key_id": KEY_ID, "secret": SECRET, "csrf_token": token[1]}, headers={"Origin": origin})
    if answer.status_code != 303 or "bluewire_session" not in client.cookies:
        raise RuntimeError(f"signing in answered {answer.status_code}, "
                           f"cookies {sorted(client.cookies.keys())}:\n{answer.text[:2000]}")


@dataclass(slots=True)
class Page:
    name: str
    path: str
    check: Callable[[str], str | None]  # what is wrong with the page's HTML, if anything
    times_ms: list[float]
    size: int = 0

    def pct(self, q: float) -> float:
        return percentile(self.times_ms, q)


def get(client: httpx.Client, page: Page) -> float:
    started = time.perf_counter()
    answer = client.get(page.path)
    body = answer.read()
    took = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{page.name}: GET {page.path} answered {answer.status_code}:\n"
                           f"{answer.text[:2000]}")
    wrong = page.check(answer.text)
    if wrong:
        raise RuntimeError(f"{page.name}: GET {page.path}: {wrong}")
    page.size = len(body)
    return took


def pages(client: httpx.Client, seeded: Seeded, args: argparse.Namespace) -> list[Page]:
    thread = f"{CONSOLE}/conversations/{LINE.replace('+', '%2B')}/" \
             f"{seeded.thread_number.replace('+', '%2B')}"
    latest = client.get(thread)
    older = _OLDER.search(latest.text)
    if latest.status_code != 200 or older is None:
        raise RuntimeError(f"the thread page ({latest.status_code}) has no link to older "
                           f"messages:\n{latest.text[:2000]}")
    def thread_page(html: str) -> str | None:
        bubbles = len(_BUBBLE.findall(html))
        if bubbles != THREAD_PAGE:
            return f"{bubbles} message bubbles, not {THREAD_PAGE}"
        if _OLDER.search(html) is None:
            return "no link to older messages"
        return None

    def conversation_list(html: str) -> str | None:
        if f"{args.conversations} conversations" not in html:
            return f"does not say {args.conversations} conversations"
        listed = len(_LISTED.findall(html))
        return None if listed == LIST_PAGE else f"{listed} conversations listed, not {LIST_PAGE}"

    return [
        Page("baseline: GET /console/lines", f"{CONSOLE}/lines",
             lambda html: None if LINE in html else f"does not show the line {LINE}", []),
        Page("GET /console/conversations", f"{CONSOLE}/conversations", conversation_list, []),
        Page("thread, latest page", thread, thread_page, []),
        Page("thread, older page (?before=)", older[1], thread_page, []),
    ]


# -- the report --------------------------------------------------------------------------------


def report(measured: list[Page], cpu: CpuShare, seeded: Seeded,
           args: argparse.Namespace) -> None:
    print(f"\nseeded in {seeded.seconds:.1f} s: {seeded.messages:,} messages in "
          f"{seeded.contacts:,} conversations on {LINE} (one of {args.thread:,} messages, with "
          f"{seeded.thread_number}), {seeded.events:,} events, {seeded.read_receipts:,} read "
          "receipts")
    print(f"{args.requests} GETs of each page in turns, one keep-alive connection on loopback; "
          f"bluewire on CPU {args.server_cpu}, this client on CPU {args.load_cpu}\n")
    baseline = measured[0]
    print(f"{'page':<34}{'p50 ms':>9}{'p99 ms':>9}{'p50 x':>8}{'p99 x':>8}{'KB':>8}")
    for page in measured:
        ratios = ("", "") if page is baseline else (
            f"{page.pct(50) / baseline.pct(50):.2f}", f"{page.pct(99) / baseline.pct(99):.2f}")
        print(f"{page.name:<34}{page.pct(50):>9.2f}{page.pct(99):>9.2f}{ratios[0]:>8}"
              f"{ratios[1]:>8}{page.size / 1024:>8.1f}")
    print("columns: wall time from sending the GET to having read the whole answer; x = over "
          "the baseline's\n  same percentile, measured in the same rounds; KB = the page's "
          "size.")
    print(cpu.described())


# -- main --------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    check_cpus(args.server_cpu, args.load_cpu)
    pin_self(args.load_cpu)
    with scratch_dir("bluewire-console-bench-") as scratch:
        workdir = Path(scratch)
        database = workdir / "bench.db"
        server = bluewire_on_sqlite(workdir, database, cpu=args.server_cpu,
                                    BLUEWIRE_SANDBOX_DELIVER_MS="0",
                                    BLUEWIRE_SANDBOX_READ_MS="0",
                                    **dict(args.server_env))
        try:
            print("bluewire: one real exchange, for the rows' shapes...", flush=True)
            server.start()
            wait_serving(server, "/openapi.json")
            template = capture_template(server, database)
            print(f"seeding {args.messages:,} messages...", flush=True)
            seeded = seed(database, template, args)
            server.start()  # afresh: nothing in memory from before the seeding
            wait_serving(server, "/openapi.json")
            for line in _check_seeded(database, seeded, args):
                print(line, flush=True)
            origin = f"http://127.0.0.1:{server.port}"
            with httpx.Client(base_url=origin, timeout=60) as client:
                sign_in(client, origin)
                measured = pages(client, seeded, args)
                print(f"measuring {len(measured)} pages, {args.requests} GETs each...",
                      flush=True)
                cpu = timed_rounds(measured, lambda page: get(client, page),
                                   warmup=args.warmup, requests=args.requests,
                                   server_pid=server.pid, server_cpu=args.server_cpu,
                                   load_cpu=args.load_cpu)
        except BaseException:
            print(f"--- bluewire log ---\n{server.log()}", file=sys.stderr)
            raise
        finally:
            server.stop()
    report(measured, cpu, seeded, args)
    return 0


def _check_seeded(database: Path, seeded: Seeded, args: argparse.Namespace) -> Iterator[str]:
    """What the server sees in its store once started on the seeded history."""
    found = rows(database, "SELECT count(*) AS n, count(DISTINCT number) AS c, "
                 "sum(number = ?) AS t FROM messages", (seeded.thread_number,))[0]
    if (found["n"], found["c"], found["t"]) != (args.messages, args.conversations, args.thread):
        raise RuntimeError(f"the store holds {found}, not what was seeded: {seeded}")
    yield (f"the store: {found['n']:,} messages with {found['c']:,} numbers, "
           f"{found['t']:,} of them with {seeded.thread_number}")


if __name__ == "__main__":
    sys.exit(main())
