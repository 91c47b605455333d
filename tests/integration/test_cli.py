"""The `bluewire` command as a user runs it: first start, sending, status, listing."""

from __future__ import annotations

import json
import re
import shlex
import stat
from pathlib import Path

from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, wait_for


def test_first_start_prints_the_key_id_the_line_and_a_curl_command(
    server: ServerProcess,
) -> None:
    log = server.log()  # standard output is a file: the secret (set by the environment) is not
    assert KEY_ID in log and SECRET not in log
    assert "the value of BLUEWIRE_API_SECRET_KEY" in log
    assert "+14155550199" in log
    assert f"curl -s http://127.0.0.1:{server.port}/api/send-message" in log


def test_a_first_start_logged_to_a_file_leaves_the_secret_in_an_owner_only_file(
    tmp_path: Path,
) -> None:
    server = ServerProcess(tmp_path, {"BLUEWIRE_API_SECRET_KEY": ""}).start()  # a random one
    try:
        [key_file] = tmp_path.rglob("bluewire-first-key-*.env")
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        found = re.search(r"^export BLUEWIRE_API_SECRET_KEY=(.+)$", key_file.read_text(), re.M)
        assert found
        secret = shlex.split(found.group(1))[0]
        log = server.log()
        assert secret not in log
        assert f"key id {KEY_ID} is in {key_file}" in log
        with server.client(KEY_ID, secret) as client:
            assert client.get("/api/v2/messages").status_code == 200
    finally:
        server.stop()


def test_send_status_and_messages_through_the_cli(server: ServerProcess) -> None:
    sent = server.cli("send", "+14155550101", "hello from the cli")
    assert "QUEUED" in sent.stdout
    handle = re.search(r"[0-9a-f-]{36}", sent.stdout).group(0)  # type: ignore[union-attr]

    def delivered() -> bool:
        return "DELIVERED" in server.cli("status", handle).stdout

    wait_for(delivered)
    listed = server.cli("messages", "--number", "+14155550101", "--limit", "5").stdout
    assert "hello from the cli" in listed
    assert "1 of 1" in listed


def test_send_tags_its_message_with_a_campaign_and_tags(server: ServerProcess) -> None:
    sent = server.cli("send", "+14155550100", "spring offer", "--json",
                      "--campaign", "spring", "--tag", "vip", "--tag", "west")
    handle = json.loads(sent.stdout)["message_handle"]
    with server.client() as api:
        listed = api.get("/api/v2/messages", params={"campaign": "spring", "tag": "west"}).json()
    found = [m for m in listed["data"] if m["message_handle"] == handle]
    assert len(found) == 1
    assert found[0]["campaign"] == "spring" and sorted(found[0]["tags"]) == ["vip", "west"]
    grouped = server.cli("send-group", "+14155550100", "+14155550101", "spring, together",
                         "--from", SANDBOX_LINE, "--campaign", "spring", "--tag", "vip")
    group_handle = re.search(r"[0-9a-f-]{36}", grouped.stdout).group(0)  # type: ignore[union-attr]
    with server.client() as api:
        tagged = api.get("/api/v2/messages", params={"campaign": "spring", "tag": "vip"}).json()
    assert {m["message_handle"] for m in tagged["data"]} == {handle, group_handle}


def test_cli_errors_name_the_problem_and_exit_non_zero(server: ServerProcess) -> None:
    refused = server.cli("send", "911", "help", check=False)
    assert refused.returncode == 1
    assert "4002" in refused.stderr and "emergency" in refused.stderr
    wrong_key = server.cli("messages", "--secret", "nope", check=False)
    assert wrong_key.returncode == 1
    assert "401" in wrong_key.stderr


def test_management_commands_refuse_bad_input_clearly(server: ServerProcess) -> None:
    result = server.cli("accounts", "create", "not-an-email", check=False)
    assert result.returncode == 2 and "not an email address" in result.stderr
    result = server.cli("keys", "create", "--account", "nobody@example.com", check=False)
    assert result.returncode == 2 and "no account nobody@example.com" in result.stderr
    result = server.cli("lines", "add", "+14155550150", "--account", "admin@bluewire.local",
                        "--connector", "carrier-pigeon", check=False)
    assert result.returncode == 2 and "unknown connector" in result.stderr
    result = server.cli("keys", "create", "--account", "admin@bluewire.local",
                        "--key-id", KEY_ID, check=False)
    assert result.returncode == 2 and "exists already" in result.stderr


def test_a_key_created_while_the_server_runs_works_at_once(server: ServerProcess) -> None:
    created = server.cli("keys", "create", "--account", "admin@bluewire.local").stdout
    key_id = re.search(r"sb-api-key-id:\s+(\S+)", created).group(1)  # type: ignore[union-attr]
    secret = re.search(r"sb-api-secret-key:\s+(\S+)", created).group(1)  # type: ignore[union-attr]
    with server.client(key_id, secret) as client:
        assert client.get("/api/v2/messages").status_code == 200


def test_sigterm_finishes_in_flight_work_and_restarts_cleanly(tmp_path: Path) -> None:
    slow = {"BLUEWIRE_SANDBOX_DELIVER_MS": "5000", "BLUEWIRE_SANDBOX_READ_MS": "5000"}
    server = ServerProcess(tmp_path, slow).start()
    try:
        with server.client() as client:
            handles = [client.post("/api/send-message", json={
                "number": "+14155550100", "content": f"n{i}"}).json()["message_handle"]
                for i in range(20)]
            wait_for(lambda: client.get("/api/status", params={"handle": handles[-1]}
                                        ).json()["status"] == "SENT")
        # uvicorn re-raises the signal once its graceful shutdown is complete
        assert server.terminate(timeout=15) in (0, -15)
        server.start()
        with server.client() as client:
            def statuses() -> set[str]:
                return {client.get("/api/status", params={"handle": h}).json()["status"]
                        for h in handles}

            # Nothing was failed by the stop: the sandbox's phones carry on after the restart
            # with what they were about to do (their state is in the store).
            assert statuses() <= {"SENT", "DELIVERED", "READ"}
            wait_for(lambda: statuses() == {"READ"}, timeout=30, interval=0.5)
    finally:
        server.stop()
