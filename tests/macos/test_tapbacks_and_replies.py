"""A phone's tapbacks and inline replies, as Messages writes them to chat.db: a tapback row
(`associated_message_type` 2000-2005 put on, 3000-3005 taken off, on `p:<part>/<guid>`) is a
Reaction on the message it names, never a text message; a row with `thread_originator_guid`
is an Inbound replying to the message it names."""

from __future__ import annotations

import asyncio

from bluewire.connectors.macos import MessagesAppConnector
from bluewire.connectors.protocol import OutboundMessage

from ..waiting import eventually
from .conftest import LINE, RecordingSink
from .messages_db import MessagesDb

NUMBER = "+15557654321"
OTHER = "+15550002222"
CHAT = f"iMessage;-;{NUMBER}"
GROUP = "iMessage;+;chat493817264519283"


async def sent(connector: MessagesAppConnector, messages_db: MessagesDb, sink: RecordingSink,
               handle: str, content: str, *, group: bool = False) -> str:
    """Send through the connector; the chat.db guid of its row, once matched (reported SENT)."""
    await connector.send(OutboundMessage(
        handle=handle, line=LINE, number=NUMBER, content=content,
        group_id=GROUP if group else None))
    await eventually(lambda: any(u.handle == handle for u in sink.statuses))
    return str(next(r[0] for r in messages_db.sent_rows() if r[1] == content))


async def test_a_tapback_on_our_message_is_a_reaction_on_its_handle(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(CHAT, [NUMBER])
    connector, sink = running
    guid = await sent(connector, messages_db, sink, "h1", "hello")
    messages_db.incoming(CHAT, NUMBER, "Loved “hello”", associated_type=2000,
                         associated_guid=f"p:0/{guid}")
    messages_db.incoming(CHAT, NUMBER, "Removed a like from “hello”", associated_type=3001,
                         associated_guid=f"p:0/{guid}")
    messages_db.incoming(CHAT, NUMBER, "Questioned an image", associated_type=2005,
                         associated_guid=f"p:1/{guid}")
    messages_db.incoming(CHAT, NUMBER, "after")
    await eventually(lambda: len(sink.inbounds) == 1 and len(sink.reactions) == 3)
    assert [(r.message_handle, r.reaction, r.removed, r.part_index)
            for r in sink.reactions] == [("h1", "love", False, 0), ("h1", "like", True, 0),
                                         ("h1", "question", False, 1)]
    love = sink.reactions[0]
    assert (love.line, love.number, love.group_id) == (LINE, NUMBER, None)
    assert love.at_ms > 0
    assert [m.content for m in sink.inbounds] == ["after"]  # a tapback is never a message


async def test_a_tapback_on_the_phones_own_message_names_the_handle_it_was_reported_with(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(CHAT, [NUMBER])
    _, sink = running
    theirs = messages_db.incoming(CHAT, NUMBER, "how about friday")
    await eventually(lambda: len(sink.inbounds) == 1)
    assert sink.handles == [theirs]  # its chat.db guid is its handle
    messages_db.incoming(CHAT, NUMBER, "Emphasized “how about friday”", associated_type=2004,
                         associated_guid=f"bp:{theirs}")
    await eventually(lambda: len(sink.reactions) == 1)
    [reaction] = sink.reactions
    assert (reaction.message_handle, reaction.reaction, reaction.part_index) == (
        theirs, "emphasize", 0)
    assert len(sink.inbounds) == 1


async def test_a_tapback_in_a_group_names_the_group(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(GROUP, [NUMBER, OTHER], group=True)
    connector, sink = running
    guid = await sent(connector, messages_db, sink, "g1", "hi all", group=True)
    messages_db.incoming(GROUP, OTHER, "Laughed at “hi all”", associated_type=2003,
                         associated_guid=f"p:0/{guid}")
    await eventually(lambda: len(sink.reactions) == 1)
    [reaction] = sink.reactions
    assert (reaction.number, reaction.message_handle, reaction.reaction, reaction.group_id) == (
        OTHER, "g1", "laugh", GROUP)
    assert sink.inbounds == []


async def test_a_tapback_on_what_we_do_not_know_is_skipped(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    """On a row not in chat.db, on one sent from the Mac itself (not through us), or of a kind
    with no name (an emoji tapback): no reaction, and no text message either."""
    messages_db.chat(CHAT, [NUMBER])
    _, sink = running
    from_the_mac = "C0FFEE00-0000-4000-8000-000000000001"
    messages_db.execute(
        "INSERT INTO message (guid, text, service, date, is_from_me, is_sent) "
        "VALUES (?, 'typed on the Mac', 'iMessage', 1, 1, 1)", (from_the_mac,))
    messages_db.incoming(CHAT, NUMBER, "Loved a message", associated_type=2000,
                         associated_guid="p:0/00000000-0000-4000-8000-00000000DEAD")
    messages_db.incoming(CHAT, NUMBER, "Liked “typed on the Mac”", associated_type=2001,
                         associated_guid=f"p:0/{from_the_mac}")
    messages_db.incoming(CHAT, NUMBER, "Reacted 🎉", associated_type=2006,
                         associated_guid=f"p:0/{from_the_mac}")
    messages_db.incoming(CHAT, NUMBER, "after")
    await eventually(lambda: len(sink.inbounds) == 1)
    await asyncio.sleep(0.2)
    assert sink.reactions == []
    assert [m.content for m in sink.inbounds] == ["after"]


async def test_an_inline_reply_names_the_message_it_answers(
        messages_db: MessagesDb, running: tuple[MessagesAppConnector, RecordingSink]) -> None:
    messages_db.chat(CHAT, [NUMBER])
    connector, sink = running
    ours = await sent(connector, messages_db, sink, "h1", "dinner at 8?")
    messages_db.incoming(CHAT, NUMBER, "yes!", thread_originator=ours)
    await eventually(lambda: len(sink.inbounds) == 1)
    theirs = messages_db.incoming(CHAT, NUMBER, "also this")
    messages_db.incoming(CHAT, NUMBER, "about that", thread_originator=theirs)
    messages_db.incoming(CHAT, NUMBER, "to nothing known",
                         thread_originator="00000000-0000-4000-8000-00000000DEAD")
    await eventually(lambda: len(sink.inbounds) == 4)
    assert [(m.content, m.reply_to) for m in sink.inbounds] == [
        ("yes!", "h1"), ("also this", None), ("about that", theirs), ("to nothing known", None)]
    assert sink.reactions == []
