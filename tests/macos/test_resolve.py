from __future__ import annotations

from collections.abc import Callable

from bluewire.connectors.macos import MessagesAppConnector
from bluewire.connectors.protocol import OutboundMessage
from bluewire.domain.statuses import Status

from ..waiting import eventually
from .conftest import LINE, RecordingSink
from .messages_db import MessagesDb

NUMBER = "+15557654321"


async def test_resolve_after_a_restart_reads_chat_db(
        messages_db: MessagesDb, make_connector: Callable[..., MessagesAppConnector]) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    first = make_connector()
    # Not started: the crash came before any poll matched the send to its row.
    await first.send(OutboundMessage("h1", LINE, NUMBER, "before the crash"))
    [(guid, _, _, _)] = messages_db.sent_rows()
    messages_db.deliver(str(guid))

    after_restart = make_connector()
    resolved = await after_restart.resolve("h1")
    assert resolved is not None
    assert (resolved.handle, resolved.status) == ("h1", Status.DELIVERED)
    assert await after_restart.resolve("never-sent") is None

    messages_db.read(str(guid))
    again = make_connector()
    resolved = await again.resolve("h1")
    assert resolved is not None and resolved.status is Status.READ


async def test_resolve_of_a_send_without_a_row_is_unknown(
        messages_db: MessagesDb, make_connector: Callable[..., MessagesAppConnector]) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    connector, sink = make_connector(), RecordingSink()
    await connector.start(sink)
    await connector.send(OutboundMessage("h1", LINE, NUMBER, "one"))
    await eventually(lambda: len(sink.statuses) == 1)
    messages_db.execute("DELETE FROM message")
    await connector.stop()
    assert await make_connector().resolve("h1") is None


async def test_two_sends_of_the_same_text_match_two_rows(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(f"iMessage;-;{NUMBER}", [NUMBER])
    connector, sink = running
    await connector.send(OutboundMessage("h1", LINE, NUMBER, "same"))
    await connector.send(OutboundMessage("h2", LINE, NUMBER, "same"))
    await eventually(lambda: {u.handle for u in sink.statuses} == {"h1", "h2"})
    second = str(messages_db.sent_rows()[1][0])
    messages_db.deliver(second)
    await eventually(lambda: [u.handle for u in sink.statuses
                              if u.status is Status.DELIVERED] == ["h2"])
