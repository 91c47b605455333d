"""The operator's CLI against a running server and its database: listing and revoking keys,
listing, changing and removing lines, complete JSON and tables from read commands, and one
spelling for the server's URL and the API key pair (the old ones still accepted)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import httpx

from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, wait_for

ADMIN = "admin@bluewire.local"
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def run(server: ServerProcess, *args: str, check: bool = True,
        **env: str) -> subprocess.CompletedProcess[str]:
    """`bluewire ARGS` in the server's folder, its output piped to us, on a narrow terminal
    width (which piped output must not be cut to)."""
    environ = {**server.env, "BLUEWIRE_URL": server.url, "COLUMNS": "40", **env}
    result = subprocess.run([sys.executable, "-m", "bluewire", *args], cwd=server.workdir,
                            env=environ, capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"bluewire {' '.join(args)} failed:\n{result.stdout}\n"
                             f"{result.stderr}")
    return result


def as_json(server: ServerProcess, *args: str) -> Any:
    return json.loads(run(server, *args, "--json").stdout)


def test_a_revoked_key_is_refused_at_the_very_next_request(server: ServerProcess) -> None:
    run(server, "keys", "create", "--account", ADMIN, "--api-key-id", "leaked",
        "--api-secret-key", "leaked-secret")
    with server.client("leaked", "leaked-secret") as leaked:
        assert leaked.get("/api/v2/messages").status_code == 200
        assert leaked.get("/api/v2/messages").status_code == 200  # from the server's cache now
        revoked = run(server, "keys", "revoke", "leaked")
        assert "leaked" in revoked.stdout and "revoked" in revoked.stdout
        refused = leaked.get("/api/v2/messages")
        assert refused.status_code == 401, refused.text
    with server.client() as others:  # the account's other keys still work
        assert others.get("/api/v2/messages").status_code == 200

    listed = {key["key_id"]: key for key in as_json(server, "keys", "list")}
    assert listed["leaked"]["revoked_at"] is not None and listed[KEY_ID]["revoked_at"] is None
    again = run(server, "keys", "revoke", "leaked")
    assert "already revoked" in again.stdout
    unknown = run(server, "keys", "revoke", "no-such-key", check=False)
    assert unknown.returncode == 2 and "no API key no-such-key" in unknown.stderr


def test_listings_say_which_database_and_show_no_secret(server: ServerProcess) -> None:
    result = run(server, "keys", "list", "--json")
    keys = json.loads(result.stdout)  # stdout is only JSON: the database is named on stderr
    assert "database:" in result.stderr
    assert (str(server.workdir) in result.stderr if server.engine == "sqlite"
            else "postgresql" in result.stderr)
    assert SECRET not in result.stdout
    mine = next(key for key in keys if key["key_id"] == KEY_ID)
    assert mine["account"] == ADMIN and mine["created_at"].endswith("Z")

    accounts = as_json(server, "accounts", "list")
    admin = next(account for account in accounts if account["email"] == ADMIN)
    assert SANDBOX_LINE in admin["lines"] and admin["active_keys"] >= 1

    lines = {line["number"]: line for line in as_json(server, "lines", "list")}
    assert lines[SANDBOX_LINE]["connector"] == "sandbox" and lines[SANDBOX_LINE]["shared"]
    assert ADMIN in lines[SANDBOX_LINE]["accounts"]
    nobody = run(server, "keys", "list", "--account", "nobody@example.com", check=False)
    assert nobody.returncode == 2 and "no account nobody@example.com" in nobody.stderr


def test_piped_tables_keep_every_id_and_time_whole(server: ServerProcess,
                                                   api: httpx.Client) -> None:
    long_id = "ops-key-" + "0123456789" * 8
    run(server, "keys", "create", "--account", ADMIN, "--api-key-id", long_id)
    row = next(line for line in run(server, "keys", "list").stdout.splitlines()
               if long_id in line)
    assert TIME.search(row), row

    sent = api.post("/api/send-message", json={"number": "+14155550161",
                                               "content": "a fairly long text " * 10})
    assert sent.status_code == 200, sent.text
    handle = sent.json()["message_handle"]
    listed = api.get("/api/v2/messages", params={"number": "+14155550161"}).json()["data"][0]
    table = run(server, "messages", "--number", "+14155550161").stdout
    row = next(line for line in table.splitlines() if handle in line)
    assert listed["date_sent"] in row and "+14155550161" in row


def test_read_commands_print_complete_json(server: ServerProcess) -> None:
    sent = as_json(server, "send", "+14155550162", "json please")
    handle = sent["message_handle"]
    assert as_json(server, "status", handle)["message_handle"] == handle
    messages = as_json(server, "messages", "--number", "+14155550162")
    assert [m["message_handle"] for m in messages["data"]] == [handle]
    assert messages["pagination"]["total"] == 1
    assert isinstance(as_json(server, "webhooks", "list"), list)
    assert "data" in as_json(server, "deliveries")
    assert as_json(server, "sandbox", "show", "+14155550162")["number"] == "+14155550162"


def test_a_line_is_taken_from_an_account_changed_and_removed(server: ServerProcess) -> None:
    line = "+14155550163"
    run(server, "accounts", "create", "lines-ops@example.com")
    run(server, "keys", "create", "--account", "lines-ops@example.com", "--api-key-id",
        "lines-ops", "--api-secret-key", "lines-ops-secret")
    run(server, "lines", "add", line, "--account", "lines-ops@example.com")
    changed = run(server, "lines", "set", line, "--rate-limit", "3").stdout
    assert "3 sends a second" in changed
    listed = {row["number"]: row for row in as_json(server, "lines", "list", "--account",
                                                      "lines-ops@example.com")}
    assert list(listed) == [line]
    assert listed[line]["rate_limit"] == 3 and listed[line]["accounts"] == [
        "lines-ops@example.com"]
    run(server, "lines", "set", line, "--rate-limit", "default")
    assert {row["number"]: row for row in as_json(server, "lines", "list")}[line][
        "rate_limit"] is None
    bad = run(server, "lines", "set", line, "--rate-limit", "fast", check=False)
    assert bad.returncode == 2 and "--rate-limit" in bad.stderr
    wrong = run(server, "lines", "set", line, "--bluebubbles-url", "http://mac:1234",
                check=False)
    assert wrong.returncode == 2 and "bluebubbles" in wrong.stderr

    with server.client("lines-ops", "lines-ops-secret") as ops:
        def send() -> int:
            return ops.post("/api/send-message", json={
                "number": "+14155550100", "from_number": line, "content": "hi"}).status_code

        assert send() == 200
        taken = run(server, "lines", "remove", line, "--account", "lines-ops@example.com")
        assert "taken from lines-ops@example.com" in taken.stdout
        wait_for(lambda: send() == 400, timeout=30)  # the server re-reads lines every few s
    removed = run(server, "lines", "remove", line).stdout
    assert f"line {line} removed" in removed
    assert line not in {row["number"] for row in as_json(server, "lines", "list")}
    missing = run(server, "lines", "remove", line, check=False)
    assert missing.returncode == 2 and f"no line {line}" in missing.stderr


def test_one_spelling_for_the_server_and_the_key_pair_and_the_old_ones_work(
        server: ServerProcess) -> None:
    bare = {name: value for name, value in server.env.items()
            if name not in ("BLUEWIRE_URL", "BLUEWIRE_API_KEY_ID", "BLUEWIRE_API_SECRET_KEY")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bluewire", *args], cwd=server.workdir,
                              env={**bare, "PATH": os.environ.get("PATH", ""), "COLUMNS": "200"},
                              capture_output=True, text=True, timeout=60)

    new = cli("messages", "--server", server.url, "--api-key-id", KEY_ID,
              "--api-secret-key", SECRET)
    old = cli("messages", "--url", server.url, "--key-id", KEY_ID, "--secret", SECRET)
    assert new.returncode == 0 and old.returncode == 0, new.stderr + old.stderr
    refused = cli("messages", "--url", server.url, "--key-id", KEY_ID, "--secret", "wrong")
    assert refused.returncode == 1 and "401" in refused.stderr
    # An old spelling on the command line wins over the environment, as the new one does.
    with_env = run(server, "messages", "--secret", "wrong", check=False)
    assert with_env.returncode == 1 and "401" in with_env.stderr

    hook = "http://127.0.0.1:9/operator-cli-hook"
    run(server, "webhooks", "add", hook, "--type", "outbound", "--secret", "old-spelling")
    hooks = {entry["url"]: entry for entry in as_json(server, "webhooks", "list")}
    assert hooks[hook]["signed"] is True  # `--secret` here was, and is, the signing secret
    run(server, "webhooks", "remove", hook)
    run(server, "webhooks", "add", hook, "--type", "outbound", "--signing-secret", "new")
    assert {entry["url"]: entry for entry in as_json(server, "webhooks", "list")}[hook]["signed"]
    run(server, "webhooks", "remove", hook)

    helped = cli("messages", "--help").stdout
    assert "--server" in helped and "--api-key-id" in helped and "--api-secret-key" in helped
    assert "--key-id" not in helped.replace("--api-key-id", "")
    assert "--secret " not in helped and "--url" not in helped
