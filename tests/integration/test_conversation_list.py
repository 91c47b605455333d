"""The console's list of conversations on each engine: 1:1 conversations and groups together,
the most recently active first, paged, with the count of all of them and each one's unread
inbound messages. (tests/console/ drives the same page in a browser, on SQLite.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from ..console_client import ConsoleClient
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

ROW = re.compile(r'<a href="/console(?P<path>/conversations/[^"]+)" class="conversation[^"]*">'
                 r'.*?(?:<span class="unread" aria-label="(?P<unread>\d+) unread">|</a>)',
                 re.S)


@pytest.fixture
def console(server: ServerProcess) -> Iterator[ConsoleClient]:
    with ConsoleClient(server.url) as client:
        assert client.sign_in().status_code == 303
        yield client


def listed(console: ConsoleClient, query: str = "") -> tuple[list[tuple[str, int]], str]:
    page = console.get(f"/console/conversations{query}")
    assert page.status_code == 200, page.text
    rows = [(m["path"], int(m["unread"] or 0)) for m in ROW.finditer(page.text)]
    return rows, page.text


def send(api: httpx.Client, number: str, content: str) -> None:
    answer = api.post("/api/send-message", json={"number": number, "content": content,
                                                  "from_number": SANDBOX_LINE})
    assert answer.status_code == 200, answer.text


def replies(api: httpx.Client, number: str, content: str) -> None:
    answer = api.post(f"/sandbox/phones/{number}/messages",
                      json={"content": content, "line": SANDBOX_LINE})
    assert answer.status_code == 200 and answer.json()["message_handles"], answer.text


def path_of(number: str) -> str:
    return f"/conversations/%2B{SANDBOX_LINE[1:]}/%2B{number[1:]}"


def test_conversations_are_listed_latest_first_with_their_unread_counts(
    api: httpx.Client, console: ConsoleClient,
) -> None:
    quiet, chatty, last = phone(451, "01"), phone(452, "01"), phone(453, "01")
    for number in (quiet, chatty):
        send(api, number, "hello")
    group = api.post("/api/send-group-message", json={
        "numbers": [phone(454, "01"), phone(455, "01")], "content": "hi all",
        "from_number": SANDBOX_LINE})
    assert group.status_code == 200, group.text
    group_path = f"/conversations/groups/{group.json()['group_id']}"
    replies(api, chatty, "one")
    replies(api, chatty, "two")
    send(api, last, "latest of all")

    rows, text = wait_for(lambda: (found := listed(console)) and len(found[0]) >= 4 and found)
    assert [path for path, _ in rows[:4]] == [path_of(last), path_of(chatty), group_path,
                                              path_of(quiet)]
    assert dict(rows)[path_of(chatty)] == 2 and dict(rows)[path_of(quiet)] == 0
    assert re.search(r"\b4 conversations\b", text)

    # Marking it read clears the count; a page further on holds the rest.
    assert api.post("/api/mark-read", json={"number": chatty, "from_number": SANDBOX_LINE}
                    ).status_code == 200
    rows, _ = listed(console)
    assert dict(rows)[path_of(chatty)] == 0
    later, text = listed(console, "?offset=2")
    assert [path for path, _ in later] == [group_path, path_of(quiet)]
    assert re.search(r"\b4 conversations\b", text)
