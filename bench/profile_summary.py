"""Summarise a `py-spy record --format raw --threads` profile of a bluewire server.

    python bench/profile_summary.py PROFILE.txt [--rate 200 --requests N] [--top 25]

Samples where a thread only waits (for work on a queue, for a lock, in epoll) are set aside;
the rest is where the CPU goes. Each running sample gets a category: walking from the innermost
frame outwards, the first frame that belongs to a known component (HTTP protocol, our ASGI
layer, validation, SQLAlchemy, sqlite3, the event loop...) names it, so C code counts where it
is: with --native (py-spy's), sqlite3 and libuv show as themselves; without it, C time counts
in its Python caller. Each sample is also put on the intake side (the requests) or the
background side (the dispatcher, the sandbox network and the status updates they cause, which
share the core with the requests).

Given the server's CPU time per request (measured apart, from /proc), each share is also shown
as microseconds of CPU per request.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# (substring of a frame 'name (file:line)', category); the first match wins.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("gc_collect", "cyclic garbage collector"),
    ("uvicorn/protocols/http", "uvicorn httptools protocol (Python)"),
    ("parser.c", "httptools parser (C)"),
    ("httptools", "httptools parser (C)"),
    ("uvicorn/", "uvicorn, other"),
    ("msgspec", "msgspec"),
    ("bluewire/api/", "bluewire ASGI layer (api/http.py, routes)"),
    ("bluewire/domain/phones.py", "phone numbers (phones.py + phonenumbers)"),
    ("phonenumbers/", "phone numbers (phones.py + phonenumbers)"),
    ("bluewire/domain/payloads.py", "payloads: response dict, event data, iso()"),
    ("bluewire/services/accounts.py", "authentication (hmac digest, cache)"),
    ("hmac.py", "authentication (hmac digest, cache)"),
    ("_hashopenssl", "authentication (hmac digest, cache)"),
    ("uuid.py", "uuid4"),
    ("bluewire/services/lines.py", "line directory + rate limit"),
    ("bluewire/domain/rate_limit.py", "line directory + rate limit"),
    ("bluewire/services/messaging.py", "send(): validation, record, submit"),
    ("bluewire/domain/limits.py", "send(): validation, record, submit"),
    ("bluewire/domain/webhooks.py", "webhook signing (hmac)"),
    ("bluewire/delivery/", "webhook delivery worker (claim, post, record)"),
    ("bluewire/services/outbox.py", "outbox: event rows + delivery rows"),
    ("aiohttp/", "aiohttp client (webhooks)"),
    ("_http_parser", "aiohttp client (webhooks)"),
    ("yarl/", "aiohttp client (webhooks)"),
    ("multidict/", "aiohttp client (webhooks)"),
    ("bluewire/dispatch/", "dispatcher, sandbox, status updates"),
    ("bluewire/connectors/", "dispatcher, sandbox, status updates"),
    ("bluewire/services/network.py", "dispatcher, sandbox, status updates"),
    ("bluewire/domain/", "domain: MessageRecord, statuses, errors"),
    ("bluewire/store/writer.py", "writer: group-commit loop, Tx, answers"),
    ("bluewire/store/", "store: row dicts and queries"),
    ("sqlalchemy/", "SQLAlchemy (Python: compile, params, execute, rows)"),
    ("_row_cy", "SQLAlchemy (Python: compile, params, execute, rows)"),
    ("libsqlite", "sqlite3 (C: SQLite itself)"),
    ("cursor.c", "sqlite3 module (C: bind, step, fetch)"),
    ("connection.c", "sqlite3 module (C: bind, step, fetch)"),
    ("sqlite3/", "sqlite3 module (C: bind, step, fetch)"),
    ("_queuemodule", "thread hand-off (queue, futures, threading)"),
    ("queue.py", "thread hand-off (queue, futures, threading)"),
    ("threading.py", "thread hand-off (queue, futures, threading)"),
    ("concurrent/futures", "thread hand-off (queue, futures, threading)"),
    ("asyncio/", "event loop (asyncio, uvloop, libuv)"),
    ("_asynciomodule", "event loop (asyncio, uvloop, libuv)"),
    ("uvloop", "event loop (asyncio, uvloop, libuv)"),
    ("loop.c", "event loop (asyncio, uvloop, libuv)"),
    ("stream.c", "event loop (asyncio, uvloop, libuv)"),
    ("core.c", "event loop (asyncio, uvloop, libuv)"),
    ("timer.c", "event loop (asyncio, uvloop, libuv)"),
    ("linux.c", "event loop (asyncio, uvloop, libuv)"),
    ("logging/", "logging"),
)

# A sample whose innermost frames include one of these is a thread waiting, not running.
WAITING = ("PyThread_acquire_lock_timed", "uv__io_poll (", "take_gil", "_worker (concurrent",
           "pthread_cond_", "sem_clockwait", "sem_timedwait")
# A libc leaf without a symbol is, in these profiles, its internal futex wait: a thread blocked
# on a lock, a queue or the GIL (stripped libc exports no name for it).
_UNNAMED_LIBC = re.compile(r"^0x[0-9a-f]+ \(libc\.so")
# Without --native the wait itself is invisible: the Python frame that called it is the leaf.
WAITING_LEAF = ("Writer._run (", "_worker (concurrent", "Runner.run (asyncio")

BACKGROUND = ("bluewire/dispatch/", "bluewire/connectors/", "bluewire/services/network.py",
              "bluewire/delivery/")

_FRAME = re.compile(r"^(?P<name>.*) \((?P<where>[^()]*)\)$")


@dataclass(slots=True)
class Profile:
    running: int = 0
    waiting: int = 0
    native: bool = False
    threads: Counter[str] = field(default_factory=Counter)
    side: Counter[str] = field(default_factory=Counter)
    category: Counter[str] = field(default_factory=Counter)
    category_by_side: dict[str, Counter[str]] = field(default_factory=dict)
    self_time: Counter[str] = field(default_factory=Counter)
    inclusive: dict[str, Counter[str]] = field(default_factory=dict)  # by thread


def _parse(line: str) -> tuple[list[str], int] | None:
    stack, _, count = line.rstrip("\n").rpartition(" ")
    if not stack or not count.isdigit():
        return None
    return stack.split(";"), int(count)


def _short(frame: str) -> str:
    found = _FRAME.match(frame)
    if found is None:
        return frame
    where = found["where"].rsplit(":", 1)[0]
    return f"{found['name']} ({'/'.join(Path(where).parts[-2:])})"


def category_of(frames: list[str]) -> str:
    """The category of the innermost frame that belongs to a known component."""
    for frame in reversed(frames):
        for needle, category in CATEGORIES:
            if needle in frame:
                return category
    return f"other ({_short(frames[-1])})"


def _is_waiting(frames: list[str], native: bool) -> bool:
    if native:
        inner = frames[-6:]
        return (_UNNAMED_LIBC.match(frames[-1]) is not None
                or any(mark in frame for frame in inner for mark in WAITING))
    return any(frames[-1].startswith(mark) for mark in WAITING_LEAF)


def load(lines: Iterable[str]) -> Profile:
    samples = [parsed for parsed in map(_parse, lines) if parsed is not None]
    profile = Profile(native=any(".c:" in f or ".so" in f for fs, _ in samples for f in fs))
    for frames, count in samples:
        thread = "?"
        if frames and frames[0].startswith("thread ("):
            thread = frames[0].split(": ", 1)[-1]
            frames = frames[1:]
        if not frames:
            continue
        if _is_waiting(frames, profile.native):
            profile.waiting += count
            continue
        profile.running += count
        profile.threads[thread] += count
        background = any(mark in frame for frame in frames for mark in BACKGROUND)
        side = ("background: dispatcher, sandbox, status updates, webhooks" if background
                else "intake: POST /api/send-message")
        profile.side[side] += count
        category = category_of(frames)
        profile.category[category] += count
        profile.category_by_side.setdefault(side, Counter())[category] += count
        profile.self_time[_short(frames[-1])] += count
        inclusive = profile.inclusive.setdefault(thread, Counter())
        for name in {_short(frame) for frame in frames if ".py:" in frame}:
            inclusive[name] += count
    return profile


def _table(title: str, counts: Counter[str], total: int, top: int,
           us_per_sample: float | None) -> Iterator[str]:
    yield f"\n{title}"
    for name, count in counts.most_common(top):
        cost = f"{count * us_per_sample:7.1f} us/req  " if us_per_sample else ""
        yield f"  {100 * count / total:5.1f}%  {cost}{name}"


def _inclusive(profile: Profile) -> Counter[str]:
    """Python functions by inclusive time, less each thread's entry frames (in 95% of it)."""
    found: Counter[str] = Counter()
    for thread, counts in profile.inclusive.items():
        limit = 0.95 * profile.threads[thread]
        found.update({name: n for name, n in counts.items() if n < limit})
    return found


def report(profile: Profile, *, cpu_us_per_request: float | None = None, top: int = 25) -> str:
    """The summary; given the server's CPU time per request, also each share of it in us."""
    total = profile.running
    if total == 0:
        return "no running samples in the profile"
    per = cpu_us_per_request / total if cpu_us_per_request else None
    c_frames = ("sampled (--native)" if profile.native
                else "not sampled: C time counts in its Python caller")
    out = [f"{total} samples of running threads ({profile.waiting} waiting ones set aside); "
           f"C frames {c_frames}"]
    if cpu_us_per_request:
        out.append(f"server CPU per request while sampling: {cpu_us_per_request:.1f} us "
                   "(from /proc; the us/req figures below are shares of it)")
    out += _table("By thread:", profile.threads, total, top, per)
    out += _table("By purpose (under the dispatcher, the sandbox or the status updates they "
                  "cause = background):", profile.side, total, top, per)
    out += _table("By component (innermost known frame):", profile.category, total, top, per)
    for side, counts in sorted(profile.category_by_side.items(),
                               key=lambda item: -sum(item[1].values())):
        out += _table(f"  ...{side.split(':')[0]} only:", counts, total, 12, per)
    out += _table(f"Top {top} functions, self time:", profile.self_time, total, top, per)
    out += _table(f"Top {top} Python functions, inclusive time (threads' entry frames left out):",
                  _inclusive(profile), total, top, per)
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path, help="output of py-spy record --format raw")
    parser.add_argument("--us-per-request", type=float,
                        help="the server's CPU time per request while sampled, in us")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with args.profile.open() as lines:
        print(report(load(lines), cpu_us_per_request=args.us_per_request, top=args.top))


if __name__ == "__main__":
    main()
