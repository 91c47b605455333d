from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from bluewire.connectors.macos import MessagesAppConnector
from bluewire.domain.statuses import Service

from ..waiting import eventually
from .conftest import LINE, RecordingSink
from .messages_db import MessagesDb, typedstream_blob

NUMBER = "+15557654321"
OTHER = "+15550002222"
GROUP = "iMessage;+;chat493817264519283"


async def test_incoming_one_to_one(messages_db: MessagesDb,
                                   running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    _, sink = running
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "hi there 👋")
    await eventually(lambda: len(sink.inbounds) == 1)
    [inbound] = sink.inbounds
    assert (inbound.line, inbound.number, inbound.content) == (LINE, NUMBER, "hi there 👋")
    assert inbound.service is Service.IMESSAGE and inbound.group_id is None


async def test_incoming_sms(messages_db: MessagesDb,
                            running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(f"SMS;-;{NUMBER}", [NUMBER], service="SMS")
    _, sink = running
    messages_db.incoming(f"SMS;-;{NUMBER}", NUMBER, "by sms", service="SMS")
    await eventually(lambda: len(sink.inbounds) == 1)
    assert sink.inbounds[0].service is Service.SMS


async def test_incoming_group_message(messages_db: MessagesDb,
                                      running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(GROUP, [NUMBER, OTHER], group=True)
    connector, sink = running
    messages_db.incoming(GROUP, OTHER, "to the group")
    await eventually(lambda: len(sink.inbounds) == 1)
    [inbound] = sink.inbounds
    assert (inbound.number, inbound.group_id, inbound.content) == (OTHER, GROUP, "to the group")
    assert sorted(inbound.participants) == sorted([OTHER, NUMBER])
    assert await connector.group_participants(GROUP) == (OTHER, NUMBER)


async def test_text_from_attributed_body_when_text_is_null(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    _, sink = running
    long_text = "é" * 200 + " end"
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, None, body=typedstream_blob(long_text))
    await eventually(lambda: len(sink.inbounds) == 1)
    assert sink.inbounds[0].content == long_text


async def test_tapback_is_not_forwarded(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    _, sink = running
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "Loved “hello”", associated_type=2000)
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "Removed a heart", associated_type=3000)
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "after")
    await eventually(lambda: len(sink.inbounds) == 1)
    assert sink.inbounds[0].content == "after"


async def test_incoming_attachment_is_media(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink],
        tmp_path: Path) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    _, sink = running
    path = tmp_path / "Attachments" / "ab" / "11" / "X" / "IMG_0001.heic"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"a picture")
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "\ufffclook", attachment=str(path))
    await eventually(lambda: len(sink.inbounds) == 1)
    assert sink.inbounds[0].content == "look"
    assert sink.inbounds[0].media_urls == (path.as_uri(),)


async def test_a_message_waits_for_its_attachment_to_be_downloaded(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink],
        tmp_path: Path) -> None:
    """Messages writes the row first and the file once downloaded: the message is reported
    with its picture, and those after it keep their order."""
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    _, sink = running
    path = tmp_path / "Attachments" / "IMG_0002.jpeg"
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "\ufffclook", attachment=str(path))
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "did you see it?")
    await asyncio.sleep(0.5)  # ten polls
    assert sink.inbounds == []
    path.parent.mkdir(parents=True)
    path.write_bytes(b"a picture")
    await eventually(lambda: len(sink.inbounds) == 2)
    assert [(i.content, i.media_urls) for i in sink.inbounds] == [
        ("look", (path.as_uri(),)), ("did you see it?", ())]


async def test_an_attachment_never_downloaded_is_given_up_after_a_while(
        messages_db: MessagesDb, make_connector: Callable[..., MessagesAppConnector]) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    connector, sink = make_connector(attachment_wait_ms=300), RecordingSink()
    await connector.start(sink)
    try:
        messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "\ufffclost",
                             attachment="/nowhere/IMG_0003.jpeg")
        await eventually(lambda: len(sink.inbounds) == 1)
        assert sink.inbounds[0].content == "lost" and sink.inbounds[0].media_urls == ()
    finally:
        await connector.stop()


async def test_history_is_not_replayed_and_since_rowid_resumes(
        messages_db: MessagesDb, make_connector: Callable[..., MessagesAppConnector],
        tmp_path: object) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "old")
    first, sink = make_connector(state_path=None), RecordingSink()
    await first.start(sink)
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "new")
    await eventually(lambda: [i.content for i in sink.inbounds] == ["new"])
    await first.stop()
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "while away")
    resumed, sink2 = make_connector(state_path=None, since_rowid=first.last_rowid), RecordingSink()
    await resumed.start(sink2)
    await eventually(lambda: [i.content for i in sink2.inbounds] == ["while away"])
    await resumed.stop()


async def test_restart_resumes_from_the_state_file(
        messages_db: MessagesDb, make_connector: Callable[..., MessagesAppConnector]) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    first, sink = make_connector(), RecordingSink()
    await first.start(sink)
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "seen")
    await eventually(lambda: len(sink.inbounds) == 1)
    await first.stop()
    messages_db.incoming(f"iMessage;-;{NUMBER}", NUMBER, "while away")
    second, sink2 = make_connector(), RecordingSink()
    await second.start(sink2)
    await eventually(lambda: [i.content for i in sink2.inbounds] == ["while away"])
    await second.stop()


async def test_evaluate_service_from_handle_history(
        messages_db: MessagesDb, make_connector: Callable[..., MessagesAppConnector]) -> None:
    messages_db.handle(NUMBER, "iMessage")
    messages_db.handle(NUMBER, "SMS")
    messages_db.handle(OTHER, "SMS")
    connector = make_connector()
    assert await connector.evaluate_service(LINE, NUMBER) is Service.IMESSAGE
    assert await connector.evaluate_service(LINE, OTHER) is Service.SMS
    assert await connector.evaluate_service(LINE, "+15559999999") is None
