"""The official `sendblue` npm SDK (3.17.0, pinned in tests/node_sdk/package.json) against a real
`bluewire serve` process: tests/node_sdk/calls.mjs makes its calls once per engine and prints
what each returned, which the tests below hold to what the SDK's types promise.

Needs Node.js and the SDK installed beside the script: `npm ci --prefix tests/node_sdk`.
Skipped without them (failed, if BLUEWIRE_TEST_REQUIRE_NODE=1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess

NODE_PROJECT = Path(__file__).resolve().parent.parent / "node_sdk"
SDK_VERSION = "3.17.0"
REQUIRE_NODE_ENV = "BLUEWIRE_TEST_REQUIRE_NODE"
NODE_NOT_FOUND = ("Node.js not found: install Node.js (Debian's nodejs and npm packages), then "
                  "npm ci --prefix tests/node_sdk")
SDK_NOT_INSTALLED = ("the sendblue npm SDK is not installed in tests/node_sdk/node_modules: "
                     "npm ci --prefix tests/node_sdk")
RECIPIENT = "+14155550100"  # the sandbox phone: iMessage, read receipts on
# The statuses a 1:1 message goes through (the SDK's types leave out READ, which bluewire and
# Sendblue report once the phone read it).
STATUSES = {"QUEUED", "SENT", "DELIVERED", "READ"}


def unavailable() -> str | None:
    if shutil.which("node") is None:
        return NODE_NOT_FOUND
    if not (NODE_PROJECT / "node_modules" / "sendblue" / "package.json").is_file():
        return SDK_NOT_INSTALLED
    return None


def timestamp(text: Any) -> datetime:
    """A wire timestamp (ISO 8601, UTC, `Z`) as an aware datetime."""
    assert isinstance(text, str) and text.endswith("Z"), text
    return datetime.fromisoformat(text)


@pytest.fixture(scope="session")
def node() -> str:
    """Node.js, with the SDK installed in tests/node_sdk: checked before any server starts."""
    missing = unavailable()
    if missing is not None:
        if os.environ.get(REQUIRE_NODE_ENV) == "1":
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    return str(shutil.which("node"))


@pytest.fixture(scope="module")
def node_calls(node: str, server: ServerProcess) -> dict[str, Any]:
    """What calls.mjs printed: the SDK's version, the numbers used, and for each call
    {"ok": true, "result": ...} or {"ok": false, "error": {name, status, message}}."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("SENDBLUE_API_")}
    env.update({"BLUEWIRE_URL": server.url, "BLUEWIRE_API_KEY_ID": KEY_ID,
                "BLUEWIRE_API_SECRET_KEY": SECRET, "BLUEWIRE_TO_NUMBER": RECIPIENT})
    ran = subprocess.run([node, str(NODE_PROJECT / "calls.mjs")], cwd=NODE_PROJECT, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0, f"calls.mjs exited {ran.returncode}: {ran.stderr}"
    return json.loads(ran.stdout)


def result(node_calls: dict[str, Any], name: str) -> Any:
    """What the SDK call `name` returned; it failing the test with the error it raised."""
    assert name in node_calls["calls"], f"{name} was not called: {sorted(node_calls['calls'])}"
    outcome = node_calls["calls"][name]
    assert outcome["ok"], f"{name} raised {outcome['error']}"
    return outcome["result"]


def test_the_pinned_sdk_ran(node_calls: dict[str, Any]) -> None:
    assert node_calls["sdk_version"] == SDK_VERSION


def test_lines_get_state_defines_every_field(node_calls: dict[str, Any]) -> None:
    state = result(node_calls, "lines.getState")
    assert state["status"] == "OK"
    timestamp(state["snapshot_at"])
    assert state["data"], state
    for line in state["data"]:
        for field in ("sendblue_number", "assignment", "status", "worker_id"):
            assert line.get(field) is not None, f"{field} undefined in {line}"
        assert line["assignment"] in ("assigned", "shared", "grace_period"), line
        assert line["status"] in ("ONLINE", "OFFLINE", "DEGRADED", "UNKNOWN"), line
        assert isinstance(line["worker_id"], str) and line["worker_id"], line
        for optional in ("status_changed_at", "degraded_since", "effective_until"):
            if line.get(optional) is not None:
                timestamp(line[optional])


def test_lines_get_state_has_the_sandbox_line_online(node_calls: dict[str, Any]) -> None:
    lines = {line["sendblue_number"]: line for line in result(node_calls, "lines.getState")["data"]}
    assert SANDBOX_LINE in lines, lines
    sandbox = lines[SANDBOX_LINE]
    assert sandbox["status"] == "ONLINE" and sandbox["worker_id"] == "sandbox"
    assert sandbox["assignment"] == "shared"
    # The script sent from the first ONLINE line: the sandbox's, here.
    assert node_calls["from_number"] == SANDBOX_LINE


def test_messages_send(node_calls: dict[str, Any]) -> None:
    sent = result(node_calls, "messages.send")
    assert sent["message_handle"]
    assert sent["from_number"] == SANDBOX_LINE and sent["number"] == RECIPIENT
    assert sent["content"] == "hello from the npm sdk"
    assert sent["status"] in STATUSES and sent["is_outbound"] is True
    assert sent["message_type"] == "message" and sent["account_email"]
    timestamp(sent["date_created"])
    timestamp(sent["date_updated"])


def test_messages_get_status_until_read(node_calls: dict[str, Any]) -> None:
    handle = result(node_calls, "messages.send")["message_handle"]
    status = result(node_calls, "messages.getStatus")  # the last of the script's polls
    assert status["message_handle"] == handle and status["status"] == "READ"
    assert status["number"] == RECIPIENT and status["from_number"] == SANDBOX_LINE
    assert status["service"] == "iMessage"
    seen = node_calls["calls"]["messages.getStatus"]["statuses_seen"]
    assert seen[-1] == "READ" and set(seen) <= STATUSES, seen


def test_messages_retrieve(node_calls: dict[str, Any]) -> None:
    handle = result(node_calls, "messages.send")["message_handle"]
    retrieved = result(node_calls, "messages.retrieve")  # once it was read
    assert retrieved["status"] == "OK"
    data = retrieved["data"]
    assert data["message_handle"] == handle and data["content"] == "hello from the npm sdk"
    assert data["from_number"] == SANDBOX_LINE and data["sendblue_number"] == SANDBOX_LINE
    assert data["to_number"] == RECIPIENT and data["number"] == RECIPIENT
    assert data["is_outbound"] is True and data["status"] == "READ"
    assert data["service"] == "iMessage" and data["accountEmail"]
    assert data["message_type"] == "message" and data["error_code"] is None
    timestamp(data["date_sent"])
    timestamp(data["date_updated"])


def test_messages_list(node_calls: dict[str, Any]) -> None:
    handle = result(node_calls, "messages.send")["message_handle"]
    listed = result(node_calls, "messages.list")
    assert listed["status"] == "OK"
    assert [message["message_handle"] for message in listed["data"]] == [handle]
    assert listed["data"][0]["number"] == RECIPIENT
    assert listed["pagination"] == {"total": 1, "limit": 10, "offset": 0, "hasMore": False}


def test_contacts(node_calls: dict[str, Any]) -> None:
    contacts = result(node_calls, "contacts.list")
    assert isinstance(contacts, list)
    phones = {contact["phone"]: contact for contact in contacts}
    assert RECIPIENT in phones, contacts
    contact = phones[RECIPIENT]
    assert contact["contact_id"] and contact["opt_out"] is False
    assert isinstance(contact["tags"], list) and isinstance(contact["custom_variables"], dict)
    timestamp(contact["created_at"])
    assert result(node_calls, "contacts.count")["count"] == len(contacts)


def test_webhooks_list(node_calls: dict[str, Any]) -> None:
    webhooks = result(node_calls, "webhooks.list")
    assert webhooks["status"] == "OK" and isinstance(webhooks["webhooks"], dict)


def test_lookup_number(node_calls: dict[str, Any]) -> None:
    assert result(node_calls, "lookups.lookupNumber") == {"number": RECIPIENT,
                                                          "service": "iMessage"}
