"""The agent protocol's values: what a line's capabilities say once across, and the events an
agent keeps for a gateway (an older one takes fewer kinds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bluewire.connectors.agent import frames
from bluewire.connectors.agent.client import Agent
from bluewire.connectors.agent.state import AgentState
from bluewire.connectors.macos import MessagesAppConnector
from bluewire.connectors.protocol import Capabilities, Inbound, Reaction
from bluewire.domain.statuses import Service


def test_the_mac_engine_declares_no_tapbacks_or_inline_replies_and_that_crosses() -> None:
    caps = MessagesAppConnector.capabilities
    assert (caps.reactions, caps.replies, caps.mark_read, caps.typing) == (
        False, False, False, False)
    assert frames.capabilities_from(frames.capabilities_plain(caps)) == caps


def test_every_flag_crosses_but_what_no_command_carries() -> None:
    announced = {"services": ["iMessage"], "replies": True, "reactions": True, "lookup": True,
                 "group_names": True}
    caps = frames.capabilities_from(announced)
    assert caps.replies and caps.lookup
    assert not caps.reactions and not caps.group_names  # no command of the protocol carries it
    older = frames.capabilities_from({"services": ["iMessage"], "mark_read": True})
    assert older == Capabilities(services=frozenset({Service.IMESSAGE}), mark_read=True)


def test_a_reaction_and_an_inbound_reply_cross() -> None:
    reaction = Reaction(line="+15550001111", number="+15557654321", message_handle="h1",
                        reaction="love", at_ms=1, removed=True, part_index=1,
                        group_id="iMessage;+;chat1")
    assert frames.reaction_from(frames.decode(frames.encode(frames.to_plain(reaction)))) \
        == reaction
    inbound = Inbound(line="+15550001111", number="+15557654321", content="yes",
                      at_ms=1, reply_to="h1")
    plain = {**frames.to_plain(inbound), "from_a_newer_agent": True}
    assert frames.inbound_from(plain) == inbound


class _Engine:
    capabilities = Capabilities(services=frozenset({Service.IMESSAGE}), reactions=True)


def _agent(tmp_path: Path) -> Agent:
    return Agent("http://gateway.invalid", "agt_x.y", _Engine(),  # type: ignore[arg-type]
                 AgentState(tmp_path), ["+15550001111"])


def _reaction() -> Reaction:
    return Reaction(line="+15550001111", number="+15557654321", message_handle="h1",
                    reaction="like", at_ms=1)


def test_an_agent_announces_only_what_crosses(tmp_path: Path) -> None:
    hello: dict[str, Any] = _agent(tmp_path)._hello()
    assert hello["lines"][0]["capabilities"]["reactions"] is False
    assert hello["capabilities"]["reactions"] is False


def test_an_older_gateway_is_not_sent_reactions_it_would_never_ack(tmp_path: Path) -> None:
    agent = _agent(tmp_path)
    agent.emit("reaction", "event", _reaction())  # not connected: kept for the gateway
    [kept] = AgentState(tmp_path).events()
    assert kept["type"] == "reaction" and kept["event"]["message_handle"] == "h1"
    agent._takes = frozenset(frames.FIRST_EVENTS)  # connected to a gateway older than reactions
    assert agent._taken(kept) is False
    assert AgentState(tmp_path).events() == []  # dropped, not re-sent at every reconnect
    agent.emit("reaction", "event", _reaction())
    assert AgentState(tmp_path).events() == []
    agent._takes = frozenset(frames.EVENTS)
    agent.emit("reaction", "event", _reaction())
    [sent] = AgentState(tmp_path).events()
    assert agent._taken(sent) is True
