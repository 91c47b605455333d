from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from bluewire.connectors.macos import MessagesAppConnector
from bluewire.connectors.protocol import OutboundMessage, SendFailed
from bluewire.domain.statuses import Service, Status

from ..waiting import eventually
from .conftest import LINE, RecordingSink
from .messages_db import MessagesDb

NUMBER = "+15557654321"
GROUP = "iMessage;+;chat493817264519283"

HOSTILE_TEXTS = [
    'she said "hi" \\ and left',
    'x" & (do shell script "rm -rf ~") & "',
    "end tell\nend run\ntell application \"Finder\" to delete every file",
    "line one\nline two\r\n\ttabbed\\n not a newline",
    "emoji 👍🏽 and 家族 and zero\u200bwidth",
    "-e 'display dialog \"pwned\"'",
    "--",
]


def outbound(handle: str = "h1", content: str | None = "hello", **kw: object) -> OutboundMessage:
    return OutboundMessage(handle=handle, line=LINE, number=kw.pop("number", NUMBER),  # type: ignore[arg-type]
                           content=content, **kw)  # type: ignore[arg-type]


def statuses_of(sink: RecordingSink, handle: str) -> list[Status]:
    return [u.status for u in sink.statuses if u.handle == handle]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
async def test_text_arrives_byte_exact_and_is_sent(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink],
        text: str) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    connector, sink = running
    await connector.send(outbound(content=text))
    [(_, row_text, _, chat)] = messages_db.sent_rows()
    assert row_text == text
    assert chat == f"iMessage;-;{NUMBER}"
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT])
    assert sink.statuses[0].service is Service.IMESSAGE
    assert sink.statuses[0].was_downgraded is False


async def test_delivered_then_read(messages_db: MessagesDb,
                                   running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    connector, sink = running
    await connector.send(outbound())
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT])
    guid = str(messages_db.sent_rows()[0][0])
    messages_db.deliver(guid)
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT, Status.DELIVERED])
    messages_db.read(guid)
    await eventually(lambda: statuses_of(sink, "h1")[-1] is Status.READ)
    assert statuses_of(sink, "h1") == [Status.SENT, Status.DELIVERED, Status.READ]
    read = sink.statuses[-1]
    assert abs(read.at_ms - time.time() * 1000) < 5000


async def test_error_row_reports_error_10001(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    connector, sink = running
    await connector.send(outbound())
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT])
    messages_db.fail(str(messages_db.sent_rows()[0][0]))
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT, Status.ERROR])
    assert sink.statuses[-1].error_code == 10001
    assert "error 22" in (sink.statuses[-1].error_message or "")


async def test_group_send_goes_to_the_chat_guid_and_has_no_read(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(GROUP, [NUMBER, "+15550002222"], group=True)
    connector, sink = running
    await connector.send(outbound(group_id=GROUP, participants=(NUMBER, "+15550002222")))
    [(guid, _, _, chat)] = messages_db.sent_rows()
    assert chat == GROUP
    messages_db.deliver(str(guid))
    messages_db.read(str(guid))
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT, Status.DELIVERED])
    await connector.send(outbound("h2", "again", group_id=GROUP))
    await eventually(lambda: statuses_of(sink, "h2") == [Status.SENT])
    assert Status.READ not in statuses_of(sink, "h1")


async def test_no_chat_yet_uses_the_participant_fallback(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    connector, sink = running
    await connector.send(outbound(content='first "contact"'))
    [(_, text, _, chat)] = messages_db.sent_rows()
    assert (text, chat) == ('first "contact"', f"iMessage;-;{NUMBER}")
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT])


async def test_macos_26_any_prefix_is_used(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(f"any;-;{NUMBER}", [NUMBER])
    connector, sink = running
    await connector.send(outbound())
    assert messages_db.sent_rows()[0][3] == f"any;-;{NUMBER}"
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT])


async def test_missing_group_chat_is_refused(
        running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    connector, _ = running
    with pytest.raises(SendFailed) as failed:
        await connector.send(outbound(group_id="iMessage;+;chat000"))
    assert failed.value.code == 10001


async def test_osascript_error_is_send_failed_with_its_stderr(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink],
        monkeypatch: pytest.MonkeyPatch) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    messages_db.execute("DELETE FROM chat")  # gone between our look and Messages' own
    connector, _ = running
    monkeypatch.setattr(type(connector), "_target", lambda self, m: _chat_target(NUMBER))
    with pytest.raises(SendFailed) as failed:
        await connector.send(outbound())
    assert failed.value.code == 10001
    assert "Can't get chat id" in failed.value.reason


def _chat_target(number: str) -> object:
    from bluewire.connectors.macos.connector import _Target
    return _Target(f"iMessage;-;{number}", None)


async def test_hanging_osascript_fails_within_the_timeout(
        messages_db: MessagesDb, make_connector: Callable[..., MessagesAppConnector],
        monkeypatch: pytest.MonkeyPatch) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    monkeypatch.setenv("FAKE_OSASCRIPT_MODE", "hang")
    connector = make_connector(send_timeout_s=1.0)
    await connector.start(RecordingSink())
    started = time.monotonic()
    with pytest.raises(SendFailed) as failed:
        await connector.send(outbound())
    assert time.monotonic() - started < 5
    assert failed.value.code == 10001
    assert "timed out" in failed.value.reason
    await connector.stop()


async def test_media_is_downloaded_and_sent_as_a_file(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink],
        aiohttp_photo: str) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    connector, sink = running
    await connector.send(outbound(content=None, media_url=aiohttp_photo))
    [(guid, text, _, _)] = messages_db.sent_rows()
    assert text == "\ufffc"
    [(filename, size)] = messages_db.execute("SELECT filename, total_bytes FROM attachment")
    assert size == len(b"\x89PNG fake image")
    assert Path(str(filename)).name == "photo.png"
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT])
    assert guid


async def test_downloaded_media_is_removed_once_a_week_old(
        messages_db: MessagesDb, make_connector: Callable[..., MessagesAppConnector],
        aiohttp_photo: str, tmp_path: Path) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    media_dir = tmp_path / "media"
    connector = make_connector(media_dir=media_dir)
    await connector.send(outbound(handle="old", content=None, media_url=aiohttp_photo))
    await connector.send(outbound(handle="new", content=None, media_url=aiohttp_photo))
    old, new = sorted(media_dir.iterdir(), key=lambda folder: folder.stat().st_mtime)
    eight_days_ago = time.time() - 8 * 86400
    os.utime(old, (eight_days_ago, eight_days_ago))
    await connector.start(RecordingSink())  # prunes at start, then every few hours
    try:
        await eventually(lambda: not old.exists())
        assert new.exists() and [p.name for p in new.iterdir()] == ["photo.png"]
    finally:
        await connector.stop()


async def test_media_too_large_is_refused(
        messages_db: MessagesDb, make_connector: Callable[..., MessagesAppConnector],
        aiohttp_photo: str) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    connector = make_connector(max_media_bytes=4)
    with pytest.raises(SendFailed, match="larger than"):
        await connector.send(outbound(content=None, media_url=aiohttp_photo))
    assert messages_db.sent_rows() == []


@pytest.fixture
async def aiohttp_photo() -> object:
    async def photo(_: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG fake image", content_type="image/png")

    app = web.Application()
    app.router.add_get("/media/photo.png", photo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/media/photo.png"
    await runner.cleanup()


async def test_read_receipts_and_typing_are_refused_clearly(
        make_connector: Callable[..., MessagesAppConnector]) -> None:
    connector = make_connector()
    assert not connector.capabilities.mark_read and not connector.capabilities.typing
    with pytest.raises(SendFailed, match="cannot send read receipts"):
        await connector.mark_read(LINE, NUMBER)
    with pytest.raises(SendFailed, match="cannot send typing indicators"):
        await connector.set_typing(LINE, NUMBER, True)


def test_the_stand_in_refuses_a_script_with_text_spliced_in(messages_db: MessagesDb) -> None:
    """The guard the tests rely on: osascript here runs only the connector's exact scripts."""
    import subprocess

    from bluewire.connectors.macos import applescript

    spliced = applescript.SEND_TEXT_TO_CHAT.replace("messageText to", '"hello there" to')
    for script in (spliced, applescript.SEND_TEXT_TO_CHAT + " "):
        done = subprocess.run(["osascript", "-", "iMessage;-;+1", "hello there"], input=script,
                              capture_output=True, text=True, timeout=30)
        assert done.returncode != 0
    assert messages_db.sent_rows() == []


async def test_unreadable_chat_db_is_a_clear_send_failure(
        make_connector: Callable[..., MessagesAppConnector], tmp_path: Path) -> None:
    connector = MessagesAppConnector(tmp_path / "nowhere" / "chat.db", LINE)
    with pytest.raises(SendFailed, match="Full Disk Access"):
        await connector.send(outbound())


async def test_sent_row_with_null_text_is_matched_by_its_attributed_body(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink],
        monkeypatch: pytest.MonkeyPatch) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    monkeypatch.setenv("FAKE_TEXT_NULL", "1")
    connector, sink = running
    await connector.send(outbound(content="only in the body ✓"))
    assert messages_db.sent_rows()[0][1] is None
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT])


async def test_text_with_media_sends_the_file_then_follows_the_text(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink],
        aiohttp_photo: str) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    connector, sink = running
    await connector.send(outbound(content="caption", media_url=aiohttp_photo))
    rows = messages_db.sent_rows()
    assert [r[1] for r in rows] == ["\ufffc", "caption"]
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT])
    messages_db.deliver(str(rows[1][0]))
    await eventually(lambda: statuses_of(sink, "h1") == [Status.SENT, Status.DELIVERED])
